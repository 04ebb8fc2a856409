/**
 * Snapshot file benchmark (issue 5). Not a timed test: run with `npm run bench:snapshot`.
 *
 * For a payload of --mib MiB, each repetition measures, on the same disk and in this order:
 *   1. snapshot write: SnapshotFileWriter (1 MiB writes, 1 MiB blocks) + finish (fsync);
 *   2. raw write: the same 1 MiB buffers written to a plain file, then fsync;
 *   3. copyFile: fs.copyFile of the snapshot file, then fsync of the copy;
 *   4. snapshot read-verify: verifySnapshotFile (every block read and CRC-checked);
 *   5. raw read: the raw file read in 1 MiB reads, nothing checked.
 * The two writes alternate which goes first. Reads follow the writes at once, so they come
 * from the page cache for both sides alike. Reported: median MB/s (10^6 B/s of payload bytes;
 * of stored bytes for copyFile) of --reps runs, and the snapshot/raw ratios.
 *
 * Flags: --mib=<256> --reps=<3> --dir=<os.tmpdir()> --compression=<none|snappy|both; none>.
 * The payload is half random, half short runs of one byte (Snappy compresses it ~1.6x).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { SnapshotFileWriter } from '../src/snapshot/file-writer.js';
import { verifySnapshotFile } from '../src/snapshot/file-reader.js';

const args = new Map(process.argv.slice(2).map((a) => { const [k, v] = a.replace(/^--/, '').split('='); return [k ?? '', v ?? ''] as const; }));
const MIB = Number(args.get('mib') ?? 256);
const REPS = Number(args.get('reps') ?? 3);
const BASE = args.get('dir') ?? os.tmpdir();
const COMPRESSION = args.get('compression') ?? 'none';
const CHUNK = 1024 * 1024;
const POOL_MIB = 16;

function median(xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? 0; }

/** A pool of POOL_MIB MiB: alternating random bytes and runs of one byte (xorshift, seeded). */
function makePool(): Buffer {
  const b = Buffer.allocUnsafe(POOL_MIB * CHUNK);
  let x = 0x9e3779b9;
  const next = (): number => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  let i = 0;
  while (i < b.length) {
    const r = next(), run = Math.min(b.length - i, 1 + (r & 63));
    if (r & 0x100) b.fill((r >>> 16) & 0xff, i, i + run);
    else for (let k = 0; k < run; k++) b[i + k] = next() & 0xff;
    i += run;
  }
  return b;
}

const pool = makePool();
const chunkAt = (i: number): Buffer => pool.subarray((i % POOL_MIB) * CHUNK, ((i % POOL_MIB) + 1) * CHUNK);

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

async function fsyncFile(p: string): Promise<void> {
  const h = await fsp.open(p, 'r+');
  try { await h.sync(); } finally { await h.close(); }
}

interface Rep { snapWrite: number; rawWrite: number; copy: number; verify: number; rawRead: number; fileSize: number }

async function rep(dir: string, compression: 'none' | 'snappy', rawFirst: boolean): Promise<Rep> {
  const bytes = MIB * CHUNK;
  const snap = path.join(dir, 'bench.snap'), raw = path.join(dir, 'bench.raw'), copy = path.join(dir, 'bench.copy');
  let fileSize = 0;
  const snapWriteRun = (): Promise<number> => timed(async () => {
    const w = await SnapshotFileWriter.create(snap, { compression }, new Uint8Array(1024), new Uint8Array(256));
    for (let i = 0; i < MIB; i++) await w.write(chunkAt(i));
    fileSize = (await w.finish()).fileSize;
  });
  const rawWriteRun = (): Promise<number> => timed(async () => {
    const h = await fsp.open(raw, 'w');
    for (let i = 0; i < MIB; i++) await h.write(chunkAt(i), 0, CHUNK, i * CHUNK);
    await h.sync();
    await h.close();
  });
  // Alternate which write goes first: the second one shares the disk with the first's writeback.
  let snapWrite: number, rawWrite: number;
  if (rawFirst) { rawWrite = await rawWriteRun(); snapWrite = await snapWriteRun(); } else { snapWrite = await snapWriteRun(); rawWrite = await rawWriteRun(); }
  const copyT = await timed(async () => { await fsp.copyFile(snap, copy); await fsyncFile(copy); });
  const verify = await timed(async () => { await verifySnapshotFile(snap); });
  const rawRead = await timed(async () => {
    const h = await fsp.open(raw, 'r');
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let pos = 0; ;) { const { bytesRead } = await h.read(buf, 0, CHUNK, pos); if (bytesRead === 0) break; pos += bytesRead; }
    await h.close();
  });
  for (const p of [snap, raw, copy]) fs.rmSync(p, { force: true });
  const mbs = (n: number, s: number): number => n / s / 1e6;
  // copyFile moves the file as stored (smaller when compressed): count its bytes, not the payload's.
  return { snapWrite: mbs(bytes, snapWrite), rawWrite: mbs(bytes, rawWrite), copy: mbs(fileSize, copyT), verify: mbs(bytes, verify), rawRead: mbs(bytes, rawRead), fileSize };
}

const kinds = COMPRESSION === 'both' ? (['none', 'snappy'] as const) : ([COMPRESSION === 'snappy' ? 'snappy' : 'none'] as const);
console.log(`snapshot-format bench: ${MIB} MiB payload, ${REPS} reps, dir ${BASE}, node ${process.version}, ${os.cpus().length} CPUs`);
for (const compression of kinds) {
  const dir = fs.mkdtempSync(path.join(BASE, 'sampan-bench-snapshot-'));
  const reps: Rep[] = [];
  try {
    for (let r = 0; r < REPS; r++) {
      const x = await rep(dir, compression, r % 2 === 1);
      reps.push(x);
      console.log(`  [${compression}] rep ${r + 1}: write ${x.snapWrite.toFixed(0)} MB/s (raw ${x.rawWrite.toFixed(0)}, copyFile ${x.copy.toFixed(0)}), verify ${x.verify.toFixed(0)} MB/s (raw read ${x.rawRead.toFixed(0)}), file ${(x.fileSize / CHUNK).toFixed(1)} MiB`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const m = (k: keyof Rep): number => median(reps.map((x) => x[k]));
  console.log(`[${compression}] medians MB/s: snapshot write ${m('snapWrite').toFixed(0)} | raw write+fsync ${m('rawWrite').toFixed(0)} | copyFile+fsync ${m('copy').toFixed(0)} | snapshot verify ${m('verify').toFixed(0)} | raw read ${m('rawRead').toFixed(0)}`);
  console.log(`[${compression}] ratios: write/raw write ${(m('snapWrite') / m('rawWrite') * 100).toFixed(0)}% | write/copyFile ${(m('snapWrite') / m('copy') * 100).toFixed(0)}% | verify/raw read ${(m('verify') / m('rawRead') * 100).toFixed(0)}% | file/payload ${(m('fileSize') / (MIB * CHUNK) * 100).toFixed(1)}%`);
}
