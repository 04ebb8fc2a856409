/**
 * Client latency while a follower catches up from a large snapshot, with and without the
 * snapshot send limit (issue 19). Not a timed test: `npm run bench:snapshot-catchup`.
 *
 * Per mode (unlimited, then `--snapshot-send-rate`), in fresh directories: three `sampan kv`
 * processes on 127.0.0.1 (every one started with the mode's flags); replica 3 is stopped;
 * --size-mb MiB of 1 MiB values are written through replica 1; replicas 1 and 2 take a
 * snapshot (compacting the log past replica 3); --clients loops then PUT small values through
 * replica 1 for --warm-s seconds (the baseline), replica 3 is started again and catches up by
 * snapshot (its applied index reaches the commit index seen at its restart), and the loops go
 * on until it has. Printed per mode: the baseline's and the catch-up's client p50 / p99 / max
 * (ms), requests, and how long the catch-up took.
 *
 * Flags: --size-mb=<1024> --rate=<bytes/s for the limited mode, 20mb> --clients=<4>
 *   --warm-s=<3> --dir=<os.tmpdir()> --timeout-min=<30>
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { byteCount } from '../src/cli/args.js';
import { freePorts } from '../tools/free-ports.js';

const BIN = fileURLToPath(new URL('../../bin/sampan.js', import.meta.url));
const argv = new Map(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  return [m?.[1] ?? a, m?.[2] ?? 'true'] as const;
}));
const num = (k: string, d: number): number => (argv.has(k) ? Number(argv.get(k)) : d);
const SIZE_MB = num('size-mb', 1024);
const RATE = argv.has('rate') ? byteCount(argv.get('rate')!) : 20_000_000;
const CLIENTS = num('clients', 4);
const WARM_MS = num('warm-s', 3) * 1000;
const TIMEOUT_MS = num('timeout-min', 30) * 60000;
const BASE = fs.mkdtempSync(path.join(argv.get('dir') ?? os.tmpdir(), 'sampan-snapshot-catchup-'));

interface Replica { id: number; http: string; args: string[]; proc: ChildProcess | null }

const procs = new Set<ChildProcess>();
function start(r: Replica, more: string[] = []): void {
  const p = spawn(process.execPath, [BIN, 'kv', ...r.args, ...more], { stdio: ['ignore', 'ignore', 'inherit'] });
  procs.add(p);
  p.once('exit', () => procs.delete(p));
  r.proc = p;
}
async function stop(r: Replica): Promise<void> {
  const p = r.proc;
  r.proc = null;
  if (p === null || p.exitCode !== null) return;
  const exited = new Promise((res) => p.once('exit', res));
  p.kill('SIGTERM');
  await exited;
}

async function req(method: string, url: string, body?: Uint8Array | string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method, body, signal: AbortSignal.timeout(60000) });
  return { status: res.status, text: await res.text() };
}
async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
async function shardStatus(r: Replica): Promise<{ appliedIndex: number; commitIndex: number }> {
  const s = JSON.parse((await req('GET', `${r.http}/status`)).text) as { shards: { appliedIndex: number; commitIndex: number }[] };
  return s.shards[0]!;
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const fmt = (xs: number[]): string => `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${pct(xs, 100).toFixed(1)} ms, ${xs.length} requests`;

async function runMode(name: string, extra: string[]): Promise<string[]> {
  const ports = await freePorts(6);
  const raft = (i: number): string => `127.0.0.1:${ports[i]!}`;
  const members = [0, 1, 2].map((i) => `${i + 1}=${raft(i)}`).join(',');
  const reps: Replica[] = [0, 1, 2].map((i) => ({
    id: i + 1, http: `http://127.0.0.1:${ports[3 + i]!}`, proc: null,
    args: ['--replica-id', String(i + 1), '--raft-address', raft(i), '--http-address', `127.0.0.1:${ports[3 + i]!}`,
      '--data-dir', path.join(BASE, name, `r${i + 1}`), '--snapshot-entries', '0', '--compaction-overhead', '0', ...extra],
  }));
  for (const r of reps) start(r, ['--initial-members', members]);
  const [r1, , r3] = reps as [Replica, Replica, Replica];
  await until('a leader', async () => ((await req('PUT', `${r1.http}/kv/ready`, 'x')).status === 200 ? true : undefined));
  await stop(r3);
  const value = new Uint8Array(1024 * 1024).map((_, i) => (i * 131) & 0xff);
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < SIZE_MB) {
      const k = next++;
      const res = await req('PUT', `${r1.http}/kv/big-${k}`, value);
      if (res.status !== 200) throw new Error(`load PUT ${k}: ${res.status} ${res.text}`);
    }
  }));
  for (const r of reps.slice(0, 2)) {
    const res = await req('POST', `${r.http}/admin/snapshot?shard=1`);
    if (res.status !== 200) throw new Error(`snapshot on replica ${r.id}: ${res.status} ${res.text}`);
  }
  // Client load: small PUTs through replica 1, latencies tagged by phase.
  const state: { phase: 'warm' | 'catchup' | 'done' } = { phase: 'warm' };
  const lat = { warm: [] as number[], catchup: [] as number[] };
  let n = 0;
  const loops = Array.from({ length: CLIENTS }, async (_, c) => {
    while (state.phase !== 'done') {
      const t0 = performance.now();
      const res = await req('PUT', `${r1.http}/kv/small-${c}-${n++ % 1000}`, 'v');
      const ms = performance.now() - t0;
      const ph = state.phase as string;
      if (res.status === 200 && (ph === 'warm' || ph === 'catchup')) lat[ph].push(ms);
    }
  });
  await new Promise((r) => setTimeout(r, WARM_MS));
  const target = (await shardStatus(r1)).commitIndex;
  state.phase = 'catchup';
  const t0 = performance.now();
  start(r3);
  await until('replica 3 caught up', async () => ((await shardStatus(r3)).appliedIndex >= target ? true : undefined), TIMEOUT_MS);
  const catchupMs = performance.now() - t0;
  state.phase = 'done';
  await Promise.all(loops);
  for (const r of reps) await stop(r);
  return [`${name}: catch-up of a ${SIZE_MB} MiB state took ${(catchupMs / 1000).toFixed(1)} s`,
    `  baseline (before):  ${fmt(lat.warm)}`, `  during catch-up:    ${fmt(lat.catchup)}`];
}

async function main(): Promise<void> {
  const out: string[] = [];
  try {
    out.push(...await runMode('unlimited', []));
    out.push(...await runMode(`limited-${RATE}`, ['--snapshot-send-rate', String(RATE)]));
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    fs.rmSync(BASE, { recursive: true, force: true });
  }
  process.stdout.write(`snapshot catch-up, ${SIZE_MB} MiB, ${CLIENTS} clients, send limit ${RATE} B/s in the limited mode\n${out.join('\n')}\n`);
}

await main();
