/**
 * Snapshot stream benchmark (issue 19): one snapshot stream between two TcpTransports in two
 * processes on 127.0.0.1, against a user-space copy of the same file on the same disk, in the
 * same run. Not a timed test: run with `npm run bench:snapshot-stream`.
 *
 * A snapshot data file of --mib MiB (the real format, 1 MiB blocks of pseudo-random bytes) is
 * written and fsynced once. Each repetition, alternating which goes first:
 *   - copy: the file read 2 MiB at a time (the stream's chunk size) and written to a new file,
 *     then fsync: what a program that moves the bytes itself does on this disk;
 *   - stream: the sending transport streams the file to the receiving one, which writes it
 *     into a directory of its own, checks it as the host does (its format and block CRCs as
 *     they arrive, `SnapshotStreamCheck`, and each file's CRC against the sender's), fsyncs
 *     it and acknowledges; timed from `sendSnapshot` to the sender's success status.
 * Reported per repetition and as medians: MB/s (10^6 bytes of file per second), the stream as
 * a share of the copy of the same repetition, and the CPU time (user + system) each side spent
 * per MiB over the stream.
 *
 * Flags: --mib=<256> --reps=<3> --dir=<os.tmpdir()> --chunk=<bytes, the transport's default>
 *   --recv-queue=<bytes, the receiver's maxReceiveQueueBytes; the transport's default>
 *   --profile (CPU-profile both processes over each stream; top self-time functions printed).
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { Session } from 'node:inspector';
import * as os from 'node:os';
import * as path from 'node:path';
import { userSpaceCopy } from './user-space-copy.js';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '../src/core/random.js';
import { MessageType, emptySnapshot, message, type Message, type SnapshotMeta } from '../src/core/types.js';
import type { TransportHandler } from '../src/contracts/transport.js';
import { SnapshotFileWriter } from '../src/snapshot/file-writer.js';
import { SnapshotStreamCheck } from '../src/snapshot/stream-check.js';
import { TcpTransport } from '../src/transport/tcp-transport.js';
import { median, parseArgs, topSelfTime } from './host-rpc.js';

const args = parseArgs(process.argv.slice(2));
const MIB = Number(args.get('mib') ?? 256);
const REPS = Number(args.get('reps') ?? 3);
const BASE = args.get('dir') ?? os.tmpdir();
const CHUNK = args.has('chunk') ? Number(args.get('chunk')) : undefined;
const PROFILE = args.has('profile');
const RECV_QUEUE = args.has('recv-queue') ? Number(args.get('recv-queue')) : undefined;
const MiB = 1024 * 1024;

/** CPU time of this process so far, in milliseconds (user + system). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Starts the V8 profiler in this process; the returned function stops it and writes `file`. */
function profile(): (file: string) => Promise<void> {
  const s = new Session();
  s.connect();
  const post = (m: string, p?: object): Promise<unknown> => new Promise((res, rej) => s.post(m, p, (e, r) => (e ? rej(e) : res(r))));
  const started = post('Profiler.enable').then(() => post('Profiler.setSamplingInterval', { interval: 500 })).then(() => post('Profiler.start'));
  return async (file) => {
    await started;
    const r = await post('Profiler.stop') as { profile: unknown };
    fs.writeFileSync(file, JSON.stringify(r.profile));
    s.disconnect();
  };
}

/** A pool of 16 MiB of pseudo-random bytes (xorshift32, fixed seed). */
function pool(): Buffer {
  const words = new Uint32Array((16 * MiB) / 4);
  let x = 0x2545f491;
  for (let i = 0; i < words.length; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; words[i] = x; }
  return Buffer.from(words.buffer);
}

// ---------------------------------------------------------------------------------------------
// The receiving process.

/** Messages from the parent to the receiving child. */
type ToChild = { op: 'begin'; profile?: string } | { op: 'exit' };

async function child(dir: string): Promise<void> {
  let n = 0;
  let cpu0 = 0;
  let stopProfile: ((file: string) => Promise<void>) | null = null;
  let profileFile: string | undefined;
  const handler: TransportHandler = {
    handleMessageBatch: () => {}, handleUnreachable: () => {}, handleSnapshotStatus: () => {},
    snapshotReceiver: {
      tempDir: () => path.join(dir, `recv-${++n}`),
      checkFile: (meta: SnapshotMeta, i: number, size: number) => (i === 0 && meta.filepath !== '' ? new SnapshotStreamCheck(meta.filepath, size, meta.checksum) : null),
      complete: async (m: Message, verified) => {
        const cpu = cpuMs() - cpu0;
        if (stopProfile !== null && profileFile !== undefined) await stopProfile(profileFile);
        stopProfile = null;
        const ok = verified !== undefined;
        await fsp.rm(path.dirname(m.snapshot!.filepath), { recursive: true, force: true });
        process.send?.({ event: 'complete', cpu, verified: ok });
      },
      failed: (_m, err) => { process.send?.({ event: 'failed', error: err.message }); },
    },
  };
  const t = new TcpTransport({
    listenAddress: '127.0.0.1:0', deploymentId: 1, handler, random: new SeededRandom(2),
    ...(RECV_QUEUE === undefined ? {} : { maxReceiveQueueBytes: RECV_QUEUE }),
  });
  await t.start();
  process.on('message', (m: ToChild) => {
    if (m.op === 'exit') void t.close().then(() => process.exit(0));
    else {
      profileFile = m.profile;
      if (m.profile !== undefined) stopProfile = profile();
      cpu0 = cpuMs();
      process.send?.({ event: 'ready' });
    }
  });
  process.send?.({ event: 'listening', address: t.address });
}

// ---------------------------------------------------------------------------------------------
// The sending process (the parent).

function next(c: ChildProcess, event: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>): void => {
      if (m.event === 'failed') { c.off('message', on); reject(new Error(`receiver: ${String(m.error)}`)); }
      if (m.event !== event) return;
      c.off('message', on);
      resolve(m);
    };
    c.on('message', on);
  });
}

interface Rep { copy: number; stream: number; senderCpu: number; receiverCpu: number }

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(BASE, 'sampan-bench-stream-'));
  const profDir = path.join(BASE, 'sampan-bench-profiles');
  console.log(`bench:snapshot-stream  ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} CPUs  `
    + `load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}  file ${MIB} MiB  reps ${REPS}  chunk ${CHUNK ?? 'default'}  dir ${dir}`);
  const c = fork(fileURLToPath(import.meta.url), ['--child', `--dir=${dir}`, ...(RECV_QUEUE === undefined ? [] : [`--recv-queue=${RECV_QUEUE}`])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { address } = await next(c, 'listening') as { address: string };
    // The snapshot data file, written and fsynced once.
    const file = path.join(dir, 'snapshot.data');
    const p = pool();
    const w = await SnapshotFileWriter.create(file, {}, new Uint8Array(1024), new Uint8Array(256));
    for (let i = 0; i < MIB; i++) await w.write(p.subarray((i % 16) * MiB, ((i % 16) + 1) * MiB));
    const sum = await w.finish();
    const bytes = sum.fileSize;
    const snap: SnapshotMeta = { ...emptySnapshot(1), index: 10, term: 2, filepath: file, fileSize: bytes, checksum: sum.checksum };

    let status: ((failed: boolean) => void) | null = null;
    const handler: TransportHandler = {
      handleMessageBatch: () => {}, handleUnreachable: () => {},
      handleSnapshotStatus: (_s, _r, failed) => status?.(failed),
      snapshotReceiver: { tempDir: () => dir, complete: () => {}, failed: () => {} },
    };
    const t = new TcpTransport({
      listenAddress: '127.0.0.1:0', deploymentId: 1, handler, random: new SeededRandom(1),
      ...(CHUNK === undefined ? {} : { snapshotChunkSize: CHUNK, maxFrameSize: Math.max(CHUNK + 1024, 64 * MiB) }),
    });
    await t.start();
    t.setAddress(1, 2, address);

    const copyOnce = async (): Promise<number> => {
      const dst = path.join(dir, 'copy.data');
      const t0 = performance.now();
      await userSpaceCopy(file, dst);
      const ms = performance.now() - t0;
      await fsp.rm(dst, { force: true });
      return ms;
    };
    const streamOnce = async (rep: number): Promise<{ ms: number; senderCpu: number; receiverCpu: number }> => {
      const stamp = Date.now();
      const prof = PROFILE ? { sender: path.join(profDir, `stream-sender-${MIB}-${stamp}.cpuprofile`), receiver: path.join(profDir, `stream-receiver-${MIB}-${stamp}.cpuprofile`) } : null;
      if (prof !== null) fs.mkdirSync(profDir, { recursive: true });
      c.send({ op: 'begin', profile: prof?.receiver } satisfies ToChild);
      await next(c, 'ready');
      const stop = prof !== null ? profile() : null;
      const done = new Promise<boolean>((res) => { status = res; });
      const completed = next(c, 'complete');
      const cpu0 = cpuMs();
      const t0 = performance.now();
      const m = message({ type: MessageType.InstallSnapshot, shardId: 1, from: 1, to: 2, term: 2, snapshot: { ...snap, index: 10 + rep } });
      if (!t.sendSnapshot(m)) throw new Error('sendSnapshot refused');
      const failed = await done;
      const ms = performance.now() - t0;
      const senderCpu = cpuMs() - cpu0;
      if (failed) throw new Error('the stream failed');
      const r = await completed as { cpu: number; verified: boolean };
      if (!r.verified) throw new Error('the receiver did not verify the stream');
      if (stop !== null && prof !== null) {
        await stop(prof.sender);
        for (const [who, f] of [['sender', prof.sender], ['receiver', prof.receiver]] as const) {
          console.log(`    ${who} profile: ${f}\n      ${topSelfTime(f, 12).join('\n      ')}`);
        }
      }
      return { ms, senderCpu, receiverCpu: r.cpu };
    };

    const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);
    const perMiB = (cpu: number): number => cpu / (bytes / MiB);
    const reps: Rep[] = [];
    for (let r = 1; r <= REPS; r++) {
      let copy: number, s: { ms: number; senderCpu: number; receiverCpu: number };
      if (r % 2 === 1) { copy = await copyOnce(); s = await streamOnce(r); } else { s = await streamOnce(r); copy = await copyOnce(); }
      reps.push({ copy, stream: s.ms, senderCpu: s.senderCpu, receiverCpu: s.receiverCpu });
      console.log(`  rep ${r}: copy ${mbps(copy).toFixed(0)} MB/s, stream ${mbps(s.ms).toFixed(0)} MB/s = ${((copy / s.ms) * 100).toFixed(0)}% of the copy; `
        + `CPU per MiB: sender ${perMiB(s.senderCpu).toFixed(2)} ms, receiver ${perMiB(s.receiverCpu).toFixed(2)} ms  (load ${os.loadavg()[0]!.toFixed(2)})`);
    }
    console.log(`median of ${REPS}: copy ${median(reps.map((x) => mbps(x.copy))).toFixed(0)} MB/s, stream ${median(reps.map((x) => mbps(x.stream))).toFixed(0)} MB/s, `
      + `stream/copy ${(median(reps.map((x) => x.copy / x.stream)) * 100).toFixed(0)}% (median of the reps' ratios); `
      + `CPU per MiB: sender ${median(reps.map((x) => perMiB(x.senderCpu))).toFixed(2)} ms, receiver ${median(reps.map((x) => perMiB(x.receiverCpu))).toFixed(2)} ms`);
    await t.close();
  } finally {
    c.send({ op: 'exit' } satisfies ToChild);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (args.has('child')) {
  void child(args.get('dir') as string);
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
