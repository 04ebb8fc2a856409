/**
 * `node dist/bench/fsync-depth.js [--depths=1,2,4] [--bytes=4096] [--seconds=2] [--reps=3] [--dir=DIR]`:
 * whether the disk overlaps syncs of one file (issue 19, the lead for a WAL with more than one
 * commit in flight). One process, one preallocated and synced file of 64 MiB (overwritten in
 * place, so a sync commits no new file size); `depth` loops at once, each writing `--bytes` at
 * the next offset and then calling fdatasync, over and over, for `--seconds`. Prints
 * write+fdatasync pairs per second for each depth, the depths interleaved within each
 * repetition. The WAL runs one commit at a time (depth 1): if depth 2 gets through clearly more
 * syncs per second, a second commit in flight would shorten the wait of a batch behind a sync.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fdatasyncFd, realFileSystem, writeFd } from '../src/runtime/index.js';
import { parseArgs } from './host-rpc.js';

const args = parseArgs(process.argv.slice(2));
const DEPTHS = (args.get('depths') ?? '1,2,4').split(',').map(Number);
const BYTES = Number(args.get('bytes') ?? 4096);
const SECONDS = Number(args.get('seconds') ?? 2);
const REPS = Number(args.get('reps') ?? 3);
const FILE_BYTES = 64 * 1024 * 1024;

if (DEPTHS.some((d) => !Number.isInteger(d) || d < 1) || !(BYTES > 0 && BYTES <= 1024 * 1024) || !(SECONDS > 0)) {
  console.error('fsync-depth: --depths are positive integers, --bytes 1..1048576, --seconds > 0');
  process.exit(2);
}

const dir = fs.mkdtempSync(path.join(args.get('dir') ?? os.tmpdir(), 'sampan-fsync-depth-'));
const file = path.join(dir, 'wal.dat');
const fd = fs.openSync(file, 'w+');
const buf = Buffer.alloc(BYTES, 0x5a);

/** write+fdatasync pairs per second with `depth` loops at once. */
async function run(depth: number): Promise<number> {
  let next = 0;
  let pairs = 0;
  const end = performance.now() + SECONDS * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const at = next;
      next = (next + BYTES) % (FILE_BYTES - BYTES);
      await writeFd(realFileSystem, fd, buf, 0, BYTES, at);
      await fdatasyncFd(realFileSystem, fd);
      pairs++;
    }
  };
  await Promise.all(Array.from({ length: depth }, loop));
  return pairs / SECONDS;
}

try {
  const zeros = Buffer.alloc(1024 * 1024);
  for (let at = 0; at < FILE_BYTES; at += zeros.length) fs.writeSync(fd, zeros, 0, zeros.length, at);
  fs.fsyncSync(fd);
  console.log(`fsync-depth: ${BYTES} B per write, ${SECONDS} s per run, ${REPS} rep(s), file in ${dir}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rates = new Map<number, number[]>(DEPTHS.map((d) => [d, []]));
  for (let r = 0; r < REPS; r++) {
    for (const d of DEPTHS) rates.get(d)!.push(await run(d));
  }
  const base = rates.get(DEPTHS[0]!)!;
  for (const d of DEPTHS) {
    const xs = rates.get(d)!;
    const ratios = xs.map((x, i) => (x / base[i]!).toFixed(2));
    console.log(`depth ${d}: ${xs.map((x) => Math.round(x).toLocaleString('en-US')).join(', ')} write+fdatasync/s (against depth ${DEPTHS[0]}: ${ratios.join(', ')}×)`);
  }
} finally {
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
}
