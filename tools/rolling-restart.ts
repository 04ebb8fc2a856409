/**
 * `npm run measure:rolling-restart [-- --shards 8 --writers 8 --rtt-ms 100 --settle-ms 2000]`:
 * three `sampan kv` processes on loopback; writers PUT continuously, each to the replicas in
 * turn; every process is restarted in turn with SIGTERM (then started again on its data dir).
 * A write answered 503 `CLOSED` or `SHARD_NOT_READY`, or refused at connect, was not applied
 * (the replica was shutting down or starting), so the writer retries it on the next replica;
 * the write's latency counts every try. Anything else that is not a 200 is a failed write.
 * Prints the writes, the failures, the latency percentiles and maximum, and the leaders each
 * host holds before and after (after: once every host leads 2-3, or after --balance-ms, default
 * 30000, writers still running), then PASS/FAIL for each goal: 0 failed, max < 1 s, every
 * host leading ⌈shards/3⌉ or one less (2-3 of 8). Exits 1 on a FAIL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './free-ports.js';

const BIN = fileURLToPath(new URL('../../bin/sampan.js', import.meta.url));

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

const shards = arg('shards', 8);
const writers = arg('writers', 8);
const rttMs = arg('rtt-ms', 100);
const settleMs = arg('settle-ms', 2000);
const balanceMs = arg('balance-ms', 30000);
const ceiling = Math.ceil(shards / 3);

interface Node { id: number; raft: string; http: string; dir: string; proc: ChildProcess | null }

const root = mkdtempSync(join(tmpdir(), 'sampan-rolling-'));
const ports = await freePorts(6);
const nodes: Node[] = [1, 2, 3].map((id, i) => ({
  id, raft: `127.0.0.1:${ports[2 * i]!}`, http: `127.0.0.1:${ports[2 * i + 1]!}`, dir: join(root, `r${id}`), proc: null,
}));
const members = nodes.map((n) => `${n.id}=${n.raft}`).join(',');
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function start(n: Node, first: boolean): void {
  n.proc = spawn(process.execPath, [BIN, 'kv', '--replica-id', String(n.id), '--raft-address', n.raft, '--http-address', n.http,
    '--data-dir', n.dir, '--shards', String(shards), '--rtt-ms', String(rttMs), ...(first ? ['--initial-members', members] : [])],
  { stdio: ['ignore', 'ignore', 'inherit'] });
}

function call(method: string, url: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request(url, { method, agent, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', () => resolve({ status: 0, text: 'response error' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, text: e.code ?? e.message }));
    req.end(body);
  });
}

async function statusOf(n: Node): Promise<Array<{ shardId: number; leaderId: number; isLeader: boolean }> | null> {
  const r = await call('GET', `http://${n.http}/status`);
  if (r.status !== 200) return null;
  return (JSON.parse(r.text) as { shards: Array<{ shardId: number; leaderId: number; isLeader: boolean }> }).shards;
}

async function ready(n: Node): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const s = await statusOf(n);
    if (s !== null && s.length === shards && s.every((x) => x.leaderId !== 0)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`replica ${n.id} not ready`);
}

async function leaderCounts(): Promise<number[]> {
  const counts: number[] = [];
  for (const n of nodes) counts.push((await statusOf(n))?.filter((s) => s.isLeader).length ?? -1);
  return counts;
}

/** Whether every host leads ⌈shards/3⌉ or one less. */
function spread(counts: readonly number[]): boolean {
  return counts.every((c) => c >= ceiling - 1 && c <= ceiling);
}

const latencies: number[] = [];
const failures: string[] = [];
let retries = 0;
let running = true;

async function writer(w: number): Promise<void> {
  for (let k = 0; running; k++) {
    const t0 = performance.now();
    for (let attempt = 0; ; attempt++) {
      const n = nodes[(w + k + attempt) % 3]!;
      const r = await call('PUT', `http://${n.http}/kv/w${w}-${k}`, `v${k}`);
      const code = /"code":"([A-Z_]+)"/.exec(r.text)?.[1];
      if (r.status === 200) break;
      const notApplied = r.text === 'ECONNREFUSED' || (r.status === 503 && (code === 'CLOSED' || code === 'SHARD_NOT_READY'));
      if (notApplied && attempt < 20) {
        retries++;
        continue;
      }
      failures.push(`w${w}-${k}: ${r.status} ${code ?? r.text}`);
      break;
    }
    latencies.push(performance.now() - t0);
  }
}

try {
  for (const n of nodes) start(n, true);
  for (const n of nodes) await ready(n);
  const before = (await leaderCounts()).join('/');
  const load = Array.from({ length: writers }, (_, w) => writer(w));
  await new Promise((r) => setTimeout(r, settleMs));
  for (const n of nodes) {
    const t0 = performance.now();
    n.proc?.kill('SIGTERM');
    await new Promise<void>((r) => n.proc?.once('exit', () => r()));
    const stopMs = performance.now() - t0;
    start(n, false);
    await ready(n);
    console.log(`replica ${n.id}: SIGTERM to exit ${stopMs.toFixed(0)} ms, back and ready ${(performance.now() - t0).toFixed(0)} ms after SIGTERM`);
    await new Promise((r) => setTimeout(r, settleMs));
  }
  const t1 = performance.now();
  let counts = await leaderCounts();
  while (!spread(counts) && performance.now() - t1 < balanceMs) {
    await new Promise((r) => setTimeout(r, 200));
    counts = await leaderCounts();
  }
  const balancedMs = performance.now() - t1;
  running = false;
  await Promise.all(load);
  const after = counts.join('/');
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number): string => (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(1);
  console.log(`${shards} shards, ${writers} writers, --rtt-ms ${rttMs}: ${latencies.length} writes, ${failures.length} failed, ${retries} retried on another replica (not applied)`);
  console.log(`latency ms: p50 ${pct(0.5)}, p99 ${pct(0.99)}, p99.9 ${pct(0.999)}, max ${(sorted.at(-1) ?? 0).toFixed(1)}; writes over 1 s: ${sorted.filter((l) => l > 1000).length}`);
  console.log(`leaders per host (1/2/3): before ${before}, after ${after} (${balancedMs.toFixed(0)} ms after the last restart's settle)`);
  for (const f of failures.slice(0, 10)) console.log(`  failed: ${f}`);
  const max = sorted.at(-1) ?? 0;
  const goals: Array<[string, boolean]> = [
    ['0 failed writes', failures.length === 0],
    ['max latency < 1 s', max < 1000],
    [`every host leads ${ceiling - 1}-${ceiling} of ${shards}`, spread(counts)],
  ];
  for (const [what, ok] of goals) console.log(`${ok ? 'PASS' : 'FAIL'}: ${what}`);
  if (goals.some(([, ok]) => !ok)) process.exitCode = 1;
} finally {
  running = false;
  for (const n of nodes) n.proc?.kill('SIGKILL');
  agent.destroy();
  rmSync(root, { recursive: true, force: true });
}
