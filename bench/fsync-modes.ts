/**
 * `node dist/bench/fsync-modes.js [--writers=3] [--bytes=2048] [--seconds=3]`: write +
 * fdatasync latency when appending to a file (the WAL today: every sync also commits the
 * file's new size to the journal) against overwriting a preallocated, zero-filled file (what
 * etcd's WAL does), with `writers` processes at once on the same disk — three replicas of
 * one machine's benchmark share one disk. Each writer is a child process; the rows print
 * side by side, append first.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseArgs } from './host-rpc.js';

const fdatasync = promisify(fs.fdatasync);

interface Result { mode: string; perSec: number; p50: number; p90: number; p99: number }

async function writer(mode: string, bytes: number, seconds: number, dir: string): Promise<Result> {
  const file = path.join(dir, `w-${process.pid}.dat`);
  const fd = fs.openSync(file, 'w+');
  try {
    if (mode === 'prealloc') {
      const zero = Buffer.alloc(1 << 20);
      for (let i = 0; i < 256; i++) fs.writeSync(fd, zero, 0, zero.length, i << 20);
      fs.fsyncSync(fd);
    }
    const buf = Buffer.alloc(bytes, 1);
    const lat: number[] = [];
    let off = 0;
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end && off + bytes <= 256 << 20) {
      const t = performance.now();
      fs.writeSync(fd, buf, 0, bytes, off);
      off += bytes;
      await fdatasync(fd);
      lat.push(performance.now() - t);
    }
    lat.sort((a, b) => a - b);
    const at = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? NaN;
    return { mode, perSec: lat.length / seconds, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

const args = parseArgs(process.argv.slice(2));
if (args.get('child') !== undefined) {
  const r = await writer(args.get('child') as string, Number(args.get('bytes')), Number(args.get('seconds')), args.get('dir') as string);
  process.send?.(r);
} else {
  const writers = Number(args.get('writers') ?? 3);
  const bytes = Number(args.get('bytes') ?? 2048);
  const seconds = Number(args.get('seconds') ?? 3);
  const dir = fs.mkdtempSync(path.join(args.get('dir') ?? os.tmpdir(), 'sampan-fsync-'));
  const self = fileURLToPath(import.meta.url);
  try {
    for (const mode of ['append', 'prealloc']) {
      const rs = await Promise.all(Array.from({ length: writers }, () => new Promise<Result>((resolve, reject) => {
        const c = fork(self, [`--child=${mode}`, `--bytes=${bytes}`, `--seconds=${seconds}`, `--dir=${dir}`]);
        c.once('message', (m) => resolve(m as Result));
        c.once('exit', (code) => { if (code !== 0) reject(new Error(`writer exited ${String(code)}`)); });
      })));
      const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;
      console.log(`${mode.padEnd(8)} ${writers} writers × ${bytes} B: ${Math.round(rs.reduce((a, r) => a + r.perSec, 0))} syncs/s in all, `
        + `p50 ${med(rs.map((r) => r.p50)).toFixed(3)} ms, p90 ${med(rs.map((r) => r.p90)).toFixed(3)} ms, p99 ${med(rs.map((r) => r.p99)).toFixed(3)} ms (median over writers)`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
