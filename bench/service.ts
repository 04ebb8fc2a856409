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
/** How many latency quantiles each wrk prints (its `done` hook), to pool the runs of {@link runWrkSpread}. */
const QUANTILES = 1000;

/** A running three-replica cluster that wrk can load. */
export interface Cluster {
  /** `sampan` or `etcd`. */
  readonly system: string;
  /** Base URL of the member wrk targets (the leader). */
  readonly url: string;
  /** Base URLs of every member, the leader first (for load spread over the replicas). */
  readonly urls: readonly string[];
  /** Every member's pid, in the order of {@link urls}. */
  readonly pids: readonly number[];
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
init = function(args) if args[1] ~= nil then math.randomseed(os.time() + tonumber(args[1])) end end
done = function(summary, latency, requests)
  local q = {}
  for i = 1, ${QUANTILES} do q[i] = latency:percentile(i * 100 / ${QUANTILES}) end
  io.write(string.format("quantiles %d %s\\n", summary.requests, table.concat(q, ",")))
end
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
  const { rps, p50, p99, errors, non2xx } = parseWrk(r.stdout);
  return { rps, p50, p99, errors, non2xx };
}

/** `xs` with element `i` moved to the front. */
function leaderFirst<T>(xs: readonly T[], i: number): T[] {
  return [xs[i] as T, ...xs.filter((_, j) => j !== i)];
}

/** wrk's output parsed; `quantiles`: the request count and latency (ms) at each 1/QUANTILES step. */
function parseWrk(out: string): WrkResult & { readonly requests: number; readonly quantiles: readonly number[] } {
  const ms = (label: string): number => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (m === null) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0);
  const q = /^quantiles (\d+) (.*)$/m.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50: ms('50'), p99: ms('99'), errors,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    requests: Number(q?.[1] ?? 0),
    quantiles: q === null ? [] : (q[2] ?? '').split(',').map((x) => Number(x) / 1000),
  };
}

/** The `p` quantile (0–1) of the pooled latencies of several wrk runs, each weighted by its request count. */
function pooledQuantile(runs: ReadonlyArray<{ readonly requests: number; readonly quantiles: readonly number[] }>, p: number): number {
  const pts: Array<readonly [number, number]> = [];
  let total = 0;
  for (const r of runs) {
    if (r.quantiles.length === 0) continue;
    const w = r.requests / r.quantiles.length;
    for (const v of r.quantiles) pts.push([v, w]);
    total += r.requests;
  }
  pts.sort((a, b) => a[0] - b[0]);
  let acc = 0;
  for (const [v, w] of pts) {
    acc += w;
    if (acc >= p * total) return v;
  }
  return pts.at(-1)?.[0] ?? NaN;
}

/**
 * Runs one wrk (one thread each) per URL at the same time, the connections split between them
 * (at least one each; fewer wrks than URLs when `connections` is smaller), for `seconds`:
 * the load spread over the replicas. Rates and errors add up; p50 and p99 are of the pooled
 * latencies (each run's 1,000 quantiles weighted by its request count).
 */
export async function runWrkSpread(urls: readonly string[], script: string, connections: number, seconds: number): Promise<WrkResult> {
  const n = Math.max(1, Math.min(urls.length, connections));
  const runs = await Promise.all(urls.slice(0, n).map((url, i) => new Promise<ReturnType<typeof parseWrk>>((resolve, reject) => {
    const c = Math.floor(connections / n) + (i < connections % n ? 1 : 0);
    const w = spawn('wrk', ['-t1', `-c${c}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', script, url, '--', String(i + 1)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const t = setTimeout(() => w.kill('SIGKILL'), (seconds + 30) * 1000);
    w.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    w.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    w.once('error', reject);
    w.once('exit', (code) => {
      clearTimeout(t);
      if (code === 0) resolve(parseWrk(out));
      else reject(new Error(`wrk failed: ${err || out}`));
    });
  })));
  return {
    rps: runs.reduce((a, r) => a + r.rps, 0),
    p50: pooledQuantile(runs, 0.5), p99: pooledQuantile(runs, 0.99),
    errors: runs.reduce((a, r) => a + r.errors, 0), non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
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

/** Extra node flags for the `sampan kv` processes (V8 flags NODE_OPTIONS refuses), from SAMPAN_BENCH_NODE_ARGS; none by default. */
function extraNodeArgs(): string[] {
  return (process.env.SAMPAN_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
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
      const execArgv = cpuProfDir === undefined ? extraNodeArgs() : [...extraNodeArgs(), '--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=sampan-${i + 1}.cpuprofile`];
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
            urls: leaderFirst(http.map((h) => `http://${h}`), i), pids: leaderFirst(children.map((c) => c.pid ?? 0), i),
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
            urls: leaderFirst(client, i), pids: leaderFirst(children.map((c) => c.pid ?? 0), i),
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
