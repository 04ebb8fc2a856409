/**
 * Workload 3 of `npm run bench` (issue 8): the limits of this machine, measured in the same run
 * as the systems, so that every figure can be read as a fraction of them.
 *
 * - Disk: a loop of positioned `write` + `fdatasync` appending to one file, one batch at a
 *   time, through the libuv thread pool exactly as the WAL does its group commits
 *   (`src/logdb/wal-log-db.ts`): syncs/s, MB/s, p50/p99 per batch size.
 * - Loopback TCP: a sink in a child process; one connection streaming 64 KiB writes (MB/s),
 *   and a 16-byte ping-pong (round trips/s, p50/p99 round trip).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';

const writeAsync = promisify(fs.write);
const fdatasyncAsync = promisify(fs.fdatasync);

/** One measured row of a workload, as printed and as a JSON line. */
export interface Row {
  readonly workload: string;
  readonly name: string;
  /** Operations per second (median of the runs). */
  readonly opsPerSec: number;
  /** Every run's operations per second. */
  readonly runs: readonly number[];
  /** Latency percentiles in ms (median of the runs); NaN when not measured. */
  readonly p50: number;
  readonly p99: number;
  /** Extra columns (MB/s, ratio, CPU…). */
  readonly extra: Record<string, number | string>;
}

/** Percentile `p` (0..1) of an ascending array. */
export function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

/** One run of the raw append + fdatasync loop: batches/s and latency per batch. */
export async function rawFsync(dir: string, batchBytes: number, seconds: number): Promise<{ ops: number; p50: number; p99: number; mbps: number }> {
  const file = path.join(dir, `raw-${batchBytes}.bin`);
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(batchBytes, 0x5a);
  const lat: number[] = [];
  let pos = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  try {
    while (performance.now() < end) {
      const s = performance.now();
      for (let done = 0; done < batchBytes;) done += (await writeAsync(fd, buf, done, batchBytes - done, pos + done)).bytesWritten;
      await fdatasyncAsync(fd);
      pos += batchBytes;
      lat.push(performance.now() - s);
      // Keep the file bounded, as the WAL rolls segments.
      if (pos >= 64 * 1024 * 1024) pos = 0;
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  const wall = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { ops: lat.length / wall, p50: pct(lat, 0.5), p99: pct(lat, 0.99), mbps: (lat.length * batchBytes) / wall / 1e6 };
}

const SINK = `
const net = require('node:net');
const s = net.createServer((c) => {
  c.setNoDelay(true);
  c.once('data', (first) => {
    if (first[0] === 0x70) { // 'p': ping-pong, echo every 16 bytes
      let pend = first.subarray(1);
      const onData = (d) => { pend = pend.length ? Buffer.concat([pend, d]) : d; while (pend.length >= 16) { c.write(pend.subarray(0, 16)); pend = pend.subarray(16); } };
      onData(Buffer.alloc(0));
      c.on('data', onData);
    } else { // stream: count bytes, report them on end
      let n = first.length - 1;
      c.on('data', (d) => { n += d.length; });
      c.on('end', () => c.end(String(n)));
    }
  });
});
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
process.on('disconnect', () => process.exit(0));
`;

/** Loopback TCP: streaming MB/s and 16-byte ping-pong round trips, against a sink process. */
export async function loopbackTcp(seconds: number): Promise<{ mbps: number; rtts: number; rttP50: number; rttP99: number }> {
  const child = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((res, rej) => {
      child.stdout?.once('data', (d: Buffer) => res(Number(d.toString().trim())));
      child.once('exit', () => rej(new Error('tcp sink exited')));
    });
    const connect = (): Promise<net.Socket> => new Promise((res, rej) => {
      const c = net.connect(port, '127.0.0.1', () => res(c));
      c.setNoDelay(true);
      c.once('error', rej);
    });
    // Streaming.
    const c1 = await connect();
    const chunk = Buffer.alloc(64 * 1024, 1);
    const t0 = performance.now();
    const end = t0 + (seconds / 2) * 1000;
    const reply = new Promise<number>((res) => {
      let s = '';
      c1.on('data', (d: Buffer) => { s += d.toString(); });
      c1.on('end', () => res(Number(s)));
    });
    c1.write(Buffer.from('s'));
    while (performance.now() < end) {
      if (!c1.write(chunk)) await new Promise((r) => c1.once('drain', r));
    }
    c1.end();
    const bytes = await reply;
    const mbps = bytes / ((performance.now() - t0) / 1000) / 1e6;
    c1.destroy();
    // Ping-pong.
    const c2 = await connect();
    const msg = Buffer.alloc(16, 2);
    const lat: number[] = [];
    c2.write(Buffer.from('p'));
    const t1 = performance.now();
    const end2 = t1 + (seconds / 2) * 1000;
    await new Promise<void>((res) => {
      let got = 0;
      let s = performance.now();
      c2.on('data', (d: Buffer) => {
        got += d.length;
        while (got >= 16) {
          got -= 16;
          const now = performance.now();
          lat.push(now - s);
          if (now >= end2) { res(); return; }
          s = now;
          c2.write(msg);
        }
      });
      c2.write(msg);
    });
    const wall = (performance.now() - t1) / 1000;
    c2.destroy();
    lat.sort((a, b) => a - b);
    return { mbps, rtts: lat.length / wall, rttP50: pct(lat, 0.5), rttP99: pct(lat, 0.99) };
  } finally {
    child.kill('SIGKILL');
  }
}
