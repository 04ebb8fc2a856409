/**
 * LogDB benchmark (issue 3). Not a timed test: run with `npm run bench:logdb`.
 *
 * 1. The raw limit: a loop of positioned write + fdatasync of the same number of bytes per
 *    batch as the WAL wrote, on the same disk, run right after each LogDB run.
 * 2. WalLogDB.saveUpdates of batches of N entries (16 B and 1 KiB commands) spread over
 *    1, 16 and 256 shards, one call at a time (each with a hard state per shard touched):
 *    entries/s, MB/s of commands, p50/p99 batch latency, ratio to raw.
 * 3. Group commit: 64 concurrent callers saving 1 KiB entries to their own shards.
 * 4. Restart: fill a WAL with --restart-mib of 1 KiB entries over 1,000 shards, close,
 *    time open() (median of 3).
 *
 * Flags: --dir=<path> (default os.tmpdir()), --seconds=<per run, 1>, --reps=<3>,
 * --batch=<entries per batch, 100>, --restart-mib=<1024>, --restart-shards=<1000>.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { entry, type Entry } from '../src/core/types.js';
import type { ReplicaUpdate } from '../src/contracts/log-db.js';
import { WalLogDB } from '../src/logdb/wal-log-db.js';

const args = new Map(process.argv.slice(2).map((a) => { const [k, v] = a.replace(/^--/, '').split('='); return [k ?? '', v ?? ''] as const; }));
const num = (k: string, d: number): number => (args.has(k) ? Number(args.get(k)) : d);
const BASE = args.get('dir') ?? os.tmpdir();
const SECONDS = num('seconds', 1);
const REPS = num('reps', 3);
const BATCH = num('batch', 100);
const RESTART_MIB = num('restart-mib', 1024);
const RESTART_SHARDS = num('restart-shards', 1000);

const writeAsync = promisify(fs.write);
const fdatasyncAsync = promisify(fs.fdatasync);

interface RunResult { entriesPerSec: number; mbPerSec: number; p50: number; p99: number; batchesPerSec: number; bytesPerBatch: number }

function pct(sorted: number[], p: number): number { return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0; }
function median(xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? 0; }
function tmp(tag: string): string { return fs.mkdtempSync(path.join(BASE, `sampan-bench-${tag}-`)); }

async function rawRun(bytesPerBatch: number): Promise<RunResult> {
  const dir = tmp('raw');
  const fd = fs.openSync(path.join(dir, 'raw.dat'), 'w');
  const buf = Buffer.alloc(bytesPerBatch, 0x5a);
  const lat: number[] = [];
  let pos = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    const t = performance.now();
    await writeAsync(fd, buf, 0, buf.length, pos);
    await fdatasyncAsync(fd);
    pos += buf.length;
    lat.push(performance.now() - t);
  }
  const secs = (performance.now() - start) / 1000;
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  return { entriesPerSec: 0, mbPerSec: pos / secs / 1e6, p50: pct(lat, 0.5), p99: pct(lat, 0.99), batchesPerSec: lat.length / secs, bytesPerBatch };
}

function makeBatch(b: number, shards: number, size: number, next: number[], cmd: Uint8Array): ReplicaUpdate[] {
  const per = new Map<number, Entry[]>();
  for (let k = 0; k < BATCH; k++) {
    const s = (b * BATCH + k) % shards;
    const idx = (next[s] = (next[s] ?? 0) + 1);
    let list = per.get(s);
    if (list === undefined) per.set(s, (list = []));
    list.push(entry({ term: 1, index: idx, key: idx, cmd: cmd.subarray(0, size) }));
  }
  return [...per].map(([s, entries]) => ({ shardId: s + 1, replicaId: 1, entries, hardState: { term: 1, vote: 1, commit: next[s] ?? 0 } }));
}

async function logdbRun(shards: number, size: number): Promise<RunResult> {
  const dir = tmp('wal');
  const db = await WalLogDB.open({ dir });
  const cmd = new Uint8Array(size).fill(7);
  const next: number[] = [];
  const lat: number[] = [];
  let b = 0;
  const before = db.stats();
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    const batch = makeBatch(b++, shards, size, next, cmd);
    const t = performance.now();
    await db.saveUpdates(batch);
    lat.push(performance.now() - t);
  }
  const secs = (performance.now() - start) / 1000;
  const st = db.stats();
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b2) => a - b2);
  return {
    entriesPerSec: (b * BATCH) / secs, mbPerSec: (b * BATCH * size) / secs / 1e6, p50: pct(lat, 0.5), p99: pct(lat, 0.99),
    batchesPerSec: b / secs, bytesPerBatch: Math.round((st.bytesWritten - before.bytesWritten) / (st.writes - before.writes)),
  };
}

async function concurrentRun(callers: number, perCall: number, size: number): Promise<{ entriesPerSec: number; syncsPerSec: number; p50: number; p99: number }> {
  const dir = tmp('conc');
  const db = await WalLogDB.open({ dir });
  const cmd = new Uint8Array(size).fill(3);
  const lat: number[] = [];
  let saved = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: callers }, async (_, c) => {
    let idx = 0;
    while (performance.now() - start < SECONDS * 1000) {
      const entries = Array.from({ length: perCall }, () => entry({ term: 1, index: ++idx, cmd }));
      const t = performance.now();
      await db.saveUpdates([{ shardId: c + 1, replicaId: 1, entries, hardState: { term: 1, vote: 0, commit: idx } }]);
      lat.push(performance.now() - t);
      saved += perCall;
    }
  }));
  const secs = (performance.now() - start) / 1000;
  const syncs = db.stats().syncs;
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  return { entriesPerSec: saved / secs, syncsPerSec: syncs / secs, p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

async function restartRun(): Promise<void> {
  const dir = tmp('restart');
  let db = await WalLogDB.open({ dir });
  const cmd = new Uint8Array(1024).fill(9);
  const target = RESTART_MIB * 1024 * 1024;
  const next: number[] = [];
  let written = 0, b = 0;
  const t0 = performance.now();
  while (written < target) {
    // ~1 MiB per batch: one entry for each of ~1,000 shards.
    const updates: ReplicaUpdate[] = [];
    for (let k = 0; k < 1000; k++) {
      const s = (b * 1000 + k) % RESTART_SHARDS;
      const idx = (next[s] = (next[s] ?? 0) + 1);
      updates.push({ shardId: s + 1, replicaId: 1, entries: [entry({ term: 1, index: idx, cmd })], hardState: { term: 1, vote: 1, commit: idx } });
      written += 1024;
    }
    b++;
    await db.saveUpdates(updates);
  }
  const fillSecs = (performance.now() - t0) / 1000;
  const st = db.stats();
  await db.close();
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    db = await WalLogDB.open({ dir });
    times.push(performance.now() - t);
    if (i === 0 && db.listReplicas().length !== RESTART_SHARDS) throw new Error('restart lost replicas');
    await db.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`\nrestart: ${(st.totalBytes / 2 ** 20).toFixed(0)} MiB in ${st.segments} segments, ${RESTART_SHARDS} shards, ` +
    `${Math.round(written / 1024)} entries; fill ${fillSecs.toFixed(1)} s (${(written / fillSecs / 1e6).toFixed(0)} MB/s); ` +
    `open() ${times.map((t) => (t / 1000).toFixed(2)).join(' / ')} s, median ${(median(times) / 1000).toFixed(2)} s (page cache warm)`);
}

const f = (n: number, d = 0): string => n.toFixed(d);
console.log(`LogDB benchmark: batches of ${BATCH} entries, ${SECONDS}s per run, median of ${REPS}, dir ${BASE}, node ${process.version}`);
console.log('entry  shards | LogDB entries/s    MB/s  p50 ms  p99 ms | raw batches/s (B/batch)  p50 ms  p99 ms | LogDB/raw');
for (const size of [16, 1024]) {
  for (const shards of [1, 16, 256]) {
    const w: RunResult[] = [], r: RunResult[] = [];
    for (let i = 0; i < REPS; i++) {
      const x = await logdbRun(shards, size);
      w.push(x);
      r.push(await rawRun(x.bytesPerBatch));
    }
    const m = (xs: RunResult[], k: keyof RunResult): number => median(xs.map((x) => x[k]));
    const ratio = m(w, 'batchesPerSec') / m(r, 'batchesPerSec');
    console.log(`${String(size).padStart(5)} ${String(shards).padStart(7)} | ${f(m(w, 'entriesPerSec')).padStart(15)} ${f(m(w, 'mbPerSec'), 1).padStart(7)} ` +
      `${f(m(w, 'p50'), 2).padStart(7)} ${f(m(w, 'p99'), 2).padStart(7)} | ${f(m(r, 'batchesPerSec')).padStart(13)} (${String(m(w, 'bytesPerBatch')).padStart(7)}) ` +
      `${f(m(r, 'p50'), 2).padStart(7)} ${f(m(r, 'p99'), 2).padStart(7)} | ${(ratio * 100).toFixed(0).padStart(6)}%`);
  }
}
const cc = [];
for (let i = 0; i < REPS; i++) cc.push(await concurrentRun(64, 8, 1024));
console.log(`\ngroup commit: 64 concurrent callers x 8 entries of 1 KiB: ${f(median(cc.map((c) => c.entriesPerSec)))} entries/s, ` +
  `${f(median(cc.map((c) => c.syncsPerSec)))} fdatasyncs/s, p50 ${f(median(cc.map((c) => c.p50)), 2)} ms, p99 ${f(median(cc.map((c) => c.p99)), 2)} ms`);
await restartRun();
