/**
 * The disk's own latency tail: W processes, each appending `--bytes` per write to its own file
 * and calling fdatasync after every write, one at a time, for `--seconds`; prints the
 * percentiles of the write+fdatasync time over all of them (and per process). This is the
 * floor under a replicated proposal's tail at 1 in flight: the leader's and a follower's syncs
 * are on the critical path, on one disk shared by three processes.
 *
 * `node dist/bench/fsync-tail.js [--writers=1,3] [--seconds=5] [--bytes=128] [--dir=DIR]`
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = new Map(process.argv.slice(2).map((a) => { const [k, v] = a.replace(/^--/, '').split('='); return [k ?? '', v ?? ''] as const; }));
const SECONDS = Number(args.get('seconds') ?? '5');
const BYTES = Number(args.get('bytes') ?? '128');
const DIR = args.get('dir') ?? os.tmpdir();

/** One writer: returns its latencies in microseconds. */
function writer(file: string): number[] {
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(BYTES, 7);
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  let pos = 0;
  try {
    for (let now = performance.now(); now < end;) {
      fs.writeSync(fd, buf, 0, BYTES, pos);
      fs.fdatasyncSync(fd);
      pos += BYTES;
      const t = performance.now();
      lat.push((t - now) * 1000);
      now = t;
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  return lat;
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

function summary(lat: number[]): string {
  const s = [...lat].sort((a, b) => a - b);
  const ms = (us: number): string => (us / 1000).toFixed(3);
  const p50 = pct(s, 0.5);
  return `${s.length} syncs, p50 ${ms(p50)} ms, p99 ${ms(pct(s, 0.99))} ms, p99.9 ${ms(pct(s, 0.999))} ms, max ${ms(s[s.length - 1] ?? 0)} ms, p99.9/p50 ${(pct(s, 0.999) / p50).toFixed(1)}×`;
}

async function main(): Promise<void> {
  if (process.env['FSYNC_TAIL_CHILD'] !== undefined) {
    process.send?.(writer(process.env['FSYNC_TAIL_CHILD']));
    return;
  }
  const me = fileURLToPath(import.meta.url);
  for (const w of (args.get('writers') ?? '1,3').split(',').map(Number)) {
    const runs = await Promise.all(Array.from({ length: w }, (_, i) => new Promise<number[]>((resolve, reject) => {
      const file = path.join(DIR, `sampan-fsync-tail-${process.pid}-${i}`);
      const c = fork(me, [], { env: { ...process.env, FSYNC_TAIL_CHILD: file } });
      c.once('message', (m) => resolve(m as number[]));
      c.once('error', reject);
      c.once('exit', (code) => { if (code !== 0) reject(new Error(`writer exited ${String(code)}`)); });
    })));
    console.log(`${w} writer(s), ${BYTES} B write + fdatasync, ${SECONDS} s, ${DIR}: ${summary(runs.flat())}`);
    if (w > 1) runs.forEach((r, i) => console.log(`  writer ${i + 1}: ${summary(r)}`));
  }
}

await main();
