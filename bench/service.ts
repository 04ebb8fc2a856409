/**
 * Workload 2 of `npm run bench` (issue 8): the KV service (`sampan kv` × 3 processes) against
 * etcd (three members), both on loopback with their data on the same disk, driven by the same
 * `wrk` (one thread) with Lua scripts: puts of 16-byte values to random keys of a keyspace of
 * 100,000, and linearizable gets. etcd is reached through its v3 JSON gateway
 * (`POST /v3/kv/put`, `POST /v3/kv/range`, base64 keys and values).
 *
 * Both clusters are started and stopped here; every child is killed in `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../tools/free-ports.js';

const SAMPAN_BIN = fileURLToPath(new URL('../../bin/sampan.js', import.meta.url));
const VALUE = '0123456789abcdef';

/** A running three-replica cluster that wrk can load. */
export interface Cluster {
  /** `sampan` or `etcd`. */
  readonly system: string;
  /** Base URL of the member wrk targets (the leader). */
  readonly url: string;
  /** wrk Lua scripts for puts and for linearizable gets. */
  readonly putScript: string;
  readonly getScript: string;
  /** The leader's pid (for profiling and CPU figures). */
  readonly leaderPid: number;
  /** Stops (SIGTERM, then SIGKILL after 5 s) every member. */
  stop(): Promise<void>;
}

/** What wrk measured. */
export interface WrkResult { readonly rps: number; readonly p50: number; readonly p99: number; readonly errors: number; readonly non2xx: number }

/** Why the service workload cannot run here, or null: checks for wrk and etcd. */
export function missingTools(): string | null {
  const miss: string[] = [];
  if (spawnSync('wrk', ['--version']).error !== undefined) miss.push('wrk (Debian: apt-get install -y wrk)');
  if (spawnSync('etcd', ['--version']).error !== undefined) miss.push('etcd (Debian: apt-get update && apt-get install -y etcd-server etcd-client)');
  return miss.length === 0 ? null : `missing ${miss.join(' and ')}`;
}

/** The etcd version string (first line of `etcd --version`). */
export function etcdVersion(): string {
  return spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '?';
}

// A base64 encoder in Lua (wrk runs LuaJIT; arithmetic only, no bit library needed).
const LUA_B64 = `
local b64c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = b64c:sub(c1 + 1, c1 + 1) .. b64c:sub(c2 + 1, c2 + 1)
      .. (b and b64c:sub(c3 + 1, c3 + 1) or "=") .. (c and b64c:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end
`;
const LUA_KEY = `
math.randomseed(os.time())
local function key() return string.format("k%05d", math.random(0, 99999)) end
`;

/** Writes the four Lua scripts into `dir`; returns their paths. */
function writeScripts(dir: string): { sampanPut: string; sampanGet: string; etcdPut: string; etcdGet: string } {
  const p = (n: string, body: string): string => { const f = path.join(dir, n); fs.writeFileSync(f, body); return f; };
  const b64v = Buffer.from(VALUE).toString('base64');
  return {
    sampanPut: p('sampan-put.lua', `${LUA_KEY}wrk.method = "PUT"\nwrk.body = "${VALUE}"\nrequest = function() return wrk.format(nil, "/kv/" .. key()) end\n`),
    sampanGet: p('sampan-get.lua', `${LUA_KEY}wrk.method = "GET"\nrequest = function() return wrk.format(nil, "/kv/" .. key()) end\n`),
    etcdPut: p('etcd-put.lua', `${LUA_KEY}${LUA_B64}wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n`
      + `request = function() return wrk.format(nil, "/v3/kv/put", nil, '{"key":"' .. b64(key()) .. '","value":"${b64v}"}') end\n`),
    etcdGet: p('etcd-get.lua', `${LUA_KEY}${LUA_B64}wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n`
      + `request = function() return wrk.format(nil, "/v3/kv/range", nil, '{"key":"' .. b64(key()) .. '"}') end\n`),
  };
}

/** Runs wrk (one thread) for `seconds` at `connections` against `url` with `script`. */
export function runWrk(url: string, script: string, connections: number, seconds: number): WrkResult {
  const r = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', script, url],
    { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr || r.stdout}`);
  const out = r.stdout;
  const ms = (label: string): number => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (m === null) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50: ms('50'), p99: ms('99'), errors,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function fetchJson(url: string, init?: RequestInit): Promise<unknown> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  return await r.json();
}

/** Stops children: SIGTERM, then SIGKILL after `graceMs`. */
async function stopAll(children: readonly ChildProcess[], graceMs = 5000): Promise<void> {
  await Promise.all(children.map(async (c) => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  }));
}

/** Children of both systems still alive, killed by {@link killServiceChildren}. */
const live = new Set<ChildProcess>();

/** SIGKILLs every cluster member still running (for exit paths). */
export function killServiceChildren(): void {
  for (const c of live) c.kill('SIGKILL');
}

function track(c: ChildProcess): ChildProcess {
  live.add(c);
  c.once('exit', () => live.delete(c));
  return c;
}

/** Extra `sampan kv` flags for experiments, from SAMPAN_BENCH_KV_ARGS (space-separated); none by default. */
function extraKvArgs(): string[] {
  return (process.env.SAMPAN_BENCH_KV_ARGS ?? '').split(' ').filter((a) => a !== '');
}

/**
 * Starts three `sampan kv` processes (data under `base`), waits for a leader, and returns
 * the cluster. `cpuProfDir`: run each with `node --cpu-prof` writing there. The processes run
 * with sampan's defaults, plus SAMPAN_BENCH_KV_ARGS when set.
 */
export async function startSampan(base: string, scriptsDir: string, cpuProfDir?: string): Promise<Cluster> {
  const ports = await freePorts(6);
  const raft = [0, 1, 2].map((i) => `127.0.0.1:${ports[i] as number}`);
  const http = [3, 4, 5].map((i) => `127.0.0.1:${ports[i] as number}`);
  const members = raft.map((a, i) => `${i + 1}=${a}`).join(',');
  const children: ChildProcess[] = [];
  const scripts = writeScripts(scriptsDir);
  try {
    for (let i = 0; i < 3; i++) {
      const dataDir = path.join(base, `sampan-${i + 1}`);
      const execArgv = cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=sampan-${i + 1}.cpuprofile`];
      const c = track(spawn(process.execPath, [...execArgv, SAMPAN_BIN, 'kv', '--replica-id', String(i + 1),
        '--raft-address', raft[i] as string, '--http-address', http[i] as string, '--data-dir', dataDir,
        '--initial-members', members, ...extraKvArgs()], { stdio: ['ignore', 'pipe', 'inherit'] }));
      children.push(c);
      await new Promise<void>((res, rej) => {
        let out = '';
        c.stdout?.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready')) res(); });
        c.once('exit', (code) => rej(new Error(`sampan kv ${i + 1} exited (${String(code)}): ${out}`)));
      });
    }
    const end = Date.now() + 30000;
    while (Date.now() < end) {
      for (let i = 0; i < 3; i++) {
        const s = await fetchJson(`http://${http[i] as string}/status`).catch(() => null) as { shards?: Array<{ isLeader: boolean }> } | null;
        if (s?.shards?.[0]?.isLeader === true) {
          return {
            system: 'sampan', url: `http://${http[i] as string}`, putScript: scripts.sampanPut, getScript: scripts.sampanGet,
            leaderPid: children[i]?.pid ?? 0, stop: () => stopAll(children),
          };
        }
      }
      await sleep(100);
    }
    throw new Error('sampan: no leader within 30 s');
  } catch (e) {
    await stopAll(children, 0);
    throw e;
  }
}

/** Starts three etcd members (data under `base`), waits for a leader, and returns the cluster. */
export async function startEtcd(base: string, scriptsDir: string): Promise<Cluster> {
  const ports = await freePorts(6);
  const peer = [0, 1, 2].map((i) => `http://127.0.0.1:${ports[i] as number}`);
  const client = [3, 4, 5].map((i) => `http://127.0.0.1:${ports[i] as number}`);
  const initial = peer.map((u, i) => `m${i + 1}=${u}`).join(',');
  const children: ChildProcess[] = [];
  const scripts = writeScripts(scriptsDir);
  try {
    for (let i = 0; i < 3; i++) {
      const logFile = fs.openSync(path.join(base, `etcd-${i + 1}.log`), 'w');
      children.push(track(spawn('etcd', ['--name', `m${i + 1}`, '--data-dir', path.join(base, `etcd-${i + 1}`),
        '--listen-peer-urls', peer[i] as string, '--initial-advertise-peer-urls', peer[i] as string,
        '--listen-client-urls', client[i] as string, '--advertise-client-urls', client[i] as string,
        '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', 'sampan-bench',
        '--logger', 'zap', '--log-level', 'error'], { stdio: ['ignore', logFile, logFile] })));
      fs.closeSync(logFile);
    }
    const end = Date.now() + 30000;
    while (Date.now() < end) {
      for (let i = 0; i < 3; i++) {
        const s = await fetchJson(`${client[i] as string}/v3/maintenance/status`, { method: 'POST', body: '{}' }).catch(() => null) as
          { header?: { member_id?: string }; leader?: string } | null;
        if (s?.leader !== undefined && s.leader === s.header?.member_id) {
          return {
            system: 'etcd', url: client[i] as string, putScript: scripts.etcdPut, getScript: scripts.etcdGet,
            leaderPid: children[i]?.pid ?? 0, stop: () => stopAll(children),
          };
        }
      }
      await sleep(100);
    }
    throw new Error('etcd: no leader within 30 s');
  } catch (e) {
    await stopAll(children, 0);
    throw e;
  }
}
