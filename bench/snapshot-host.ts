/**
 * Snapshot save / stream / recover benchmark through NodeHost (issue 5). Not a timed test:
 * run with `npm run bench:snapshot-host`.
 *
 * Three NodeHosts, each in its own child process (`host-child.ts`), over TcpTransport on
 * 127.0.0.1 with the WAL LogDB (fsync on); one shard with a regular state machine
 * (`BlobSM`) whose state is --mib MiB of pseudo-random bytes, saved as 1 MiB chunks and
 * checked byte for byte when recovered. Each repetition, in fresh directories:
 *   0. raw disk: a plain file of the same size written in 1 MiB writes + fsync ("raw write"),
 *      then `fs.copyFile` of it + fsync of the copy ("copyFile", which the kernel does with
 *      copy_file_range, never through user space), then a user-space copy of it: read 2 MiB
 *      (the stream's chunk size), write it, repeat, fsync ("copy", the reference: what any
 *      program that moves the bytes itself, as a network stream must, does at best on this
 *      disk);
 *   1. the hosts start; a follower's host is closed (the follower is stopped);
 *   2. the state is set to --mib MiB (one proposal, applied on the leader and the other
 *      follower);
 *   3. save: `requestSnapshot` on the leader, compacting its log up to the snapshot, timed
 *      until it resolves (the state machine's writes, the file's fsync, the commit's renames
 *      and directory fsyncs, the compaction);
 *   4. stream: the stopped follower's host is started again in a new process; timed from its
 *      `NodeHost.create` to its 'snapshot:received' event (the leader notices the follower,
 *      finds its log compacted past it, and streams the snapshot over TCP; the follower writes
 *      and commits it), and from there to 'snapshot:recovered' (the follower's state machine
 *      reads the received file back); "stream, first byte → received" times the same stream
 *      from the first snapshot byte the follower's transport reads, without the host's start
 *      and the leader's noticing it;
 *   5. recover: the leader's host is closed and started again in a new process; timed over
 *      restarting the replica, which recovers from its own snapshot before it resolves.
 * MB/s = 10^6 bytes of state per second. Reported per run and as medians.
 *
 * Flags: --mib=<1024> --reps=<1> --rtt=<rttMillisecond, 100> --dir=<os.tmpdir()>
 *   --timeout-min=<30> --profile (CPU-profile the leader and the follower over the stream of
 *   every run, and print the top self-time functions; files kept in
 *   --profile-dir, default $TMPDIR/sampan-bench-profiles).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { userSpaceCopy } from './user-space-copy.js';
import { CHUNK, pool } from './host-child.js';
import {
  HostProcess, defaultBase, freePorts, killAll, median, parseArgs, tempDir, topSelfTime, wallNow,
} from './host-rpc.js';

const args = parseArgs(process.argv.slice(2));
const num = (k: string, d: number): number => (args.has(k) ? Number(args.get(k)) : d);
const MIBS = num('mib', 1024);
const REPS = num('reps', 1);
const RTT = num('rtt', 100);
const TIMEOUT_MIN = num('timeout-min', 30);
const BASE = tempDir(args.get('dir') ?? defaultBase(), 'snapshot-host');
const BYTES = MIBS * CHUNK;
const LONG = TIMEOUT_MIN * 60000;
const SHARD = 1;
const PROFILE = args.has('profile');
const PROFILE_DIR = args.get('profile-dir') ?? path.join(defaultBase(), 'sampan-bench-profiles');

const mbps = (ms: number): number => BYTES / 1e6 / (ms / 1000);

/** One run's figures (milliseconds). */
interface Run {
  rawWrite: number; rawCopyFile: number; rawCopy: number; save: number;
  streamReceived: number; streamBytes: number; streamRecovered: number; recover: number;
}


async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function fsyncFile(p: string): Promise<void> {
  const h = await fsp.open(p, 'r+');
  try { await h.sync(); } finally { await h.close(); }
}

/**
 * Raw disk rates on the same disk: write+fsync of a plain file, copyFile+fsync of it, and a
 * user-space copy+fsync of it.
 */
async function rawDisk(dir: string): Promise<{ write: number; copyFile: number; copy: number }> {
  const src = path.join(dir, 'raw.dat'), dst = path.join(dir, 'raw-copy.dat'), dst2 = path.join(dir, 'raw-copy2.dat');
  const p = pool();
  const write = await timed(async () => {
    const h = await fsp.open(src, 'w');
    try {
      for (let i = 0; i < MIBS; i++) {
        const at = (i * CHUNK) % p.length;
        await h.write(p, at, CHUNK);
      }
      await h.sync();
    } finally { await h.close(); }
  });
  const copyFile = await timed(async () => {
    await fsp.copyFile(src, dst);
    await fsyncFile(dst);
  });
  await fsp.rm(dst, { force: true });
  const copy = await timed(() => userSpaceCopy(src, dst2));
  await fsp.rm(src, { force: true });
  await fsp.rm(dst2, { force: true });
  return { write, copyFile, copy };
}

async function leaderOf(hosts: ReadonlyMap<number, HostProcess>): Promise<number> {
  const end = Date.now() + 30000;
  while (Date.now() < end) {
    for (const [i, h] of hosts) if ((await h.call<number[]>('ledShards')).includes(SHARD)) return i;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no leader of the shard within 30 s');
}

async function oneRun(rep: number): Promise<Run> {
  const dir = path.join(BASE, `run-${rep}`);
  fs.mkdirSync(dir, { recursive: true });
  const raw = await rawDisk(dir);
  console.log(`  raw: write+fsync ${mbps(raw.write).toFixed(0)} MB/s, copyFile+fsync ${mbps(raw.copyFile).toFixed(0)} MB/s, `
    + `copy (user space)+fsync ${mbps(raw.copy).toFixed(0)} MB/s`);

  const ports = await freePorts(3);
  const addr = (i: number): string => `127.0.0.1:${ports[i - 1] as number}`;
  const members = [1, 2, 3].map((i) => [i, addr(i)] as [number, string]);
  const hosts = new Map<number, HostProcess>();
  const start = async (i: number, restart: boolean, profile = false, watch = false): Promise<{ h: HostProcess; t0: number; startMs: number }> => {
    const h = await HostProcess.spawn(`host-${i}`);
    hosts.set(i, h);
    if (profile) await h.call('profileStart');
    const t0 = wallNow();
    await h.call('create', { dir: path.join(dir, `host-${i}`), raftAddress: addr(i), rttMillisecond: RTT });
    if (watch) await h.call('watchSnapshotBytes');
    const st = await h.call('startShards', { from: SHARD, to: SHARD, replicaId: i, members: restart ? [] : members, sm: 'blob' }, LONG);
    return { h, t0, startMs: st.ms as number };
  };
  const stop = async (i: number): Promise<void> => {
    const h = hosts.get(i);
    hosts.delete(i);
    if (h === undefined) return;
    await h.call('close', {}, LONG);
    await h.exit();
  };
  try {
    for (const i of [1, 2, 3]) await start(i, false);
    const leader = await leaderOf(hosts);
    const follower = [1, 2, 3].find((i) => i !== leader) as number;
    const fInfo = await (hosts.get(follower) as HostProcess).call<{ lastLogIndex: number }>('shardInfo', { shardId: SHARD });
    await stop(follower);
    const L = hosts.get(leader) as HostProcess;
    await L.call('propose', { shardId: SHARD, cmd: String(MIBS) }, LONG);

    const snap = await L.call('requestSnapshot', { shardId: SHARD, timeoutMs: LONG }, LONG);
    const save = snap.ms as number;
    const lInfo = await L.call<{ firstLogIndex: number }>('shardInfo', { shardId: SHARD });
    if (lInfo.firstLogIndex <= fInfo.lastLogIndex + 1) {
      throw new Error(`the leader's log was not compacted past the follower (first ${lInfo.firstLogIndex}, follower last ${fInfo.lastLogIndex})`);
    }
    console.log(`  save: snapshot at index ${String(snap.index)} in ${(save / 1000).toFixed(2)} s = ${mbps(save).toFixed(0)} MB/s `
      + `(leader's log now starts at ${lInfo.firstLogIndex}; the stopped follower ended at ${fInfo.lastLogIndex})`);

    if (PROFILE) await L.call('profileStart');
    const f = await start(follower, true, PROFILE, true);
    const received = await f.h.waitEvent((e) => e.event === 'snapshot:received' && e.payload.shardId === SHARD, LONG);
    const firstByte = await f.h.waitEvent((e) => e.event === 'bench:snapshot-first-byte', LONG);
    if (PROFILE) {
      fs.mkdirSync(PROFILE_DIR, { recursive: true });
      for (const [who, h] of [['sender', L], ['receiver', f.h]] as const) {
        const file = path.join(PROFILE_DIR, `snapshot-stream-${who}-${MIBS}-${Date.now()}.cpuprofile`);
        await h.call('profileStop', { path: file });
        console.log(`  ${who} profile over the stream: ${file}\n    ${topSelfTime(file, 12).join('\n    ')}`);
      }
    }
    const recovered = await f.h.waitEvent((e) => e.event === 'snapshot:recovered' && e.payload.shardId === SHARD, LONG);
    const fBytes = (await f.h.call<{ value: number }>('staleRead', { shardId: SHARD })).value;
    if (fBytes !== BYTES) throw new Error(`the follower recovered ${fBytes} bytes, not ${BYTES}`);
    const streamReceived = received.at - f.t0, streamBytes = received.at - firstByte.at, streamRecovered = recovered.at - received.at;
    console.log(`  stream: received ${(streamReceived / 1000).toFixed(2)} s after the follower's host started = ${mbps(streamReceived).toFixed(0)} MB/s, `
      + `${(streamBytes / 1000).toFixed(2)} s after its first snapshot byte = ${mbps(streamBytes).toFixed(0)} MB/s; `
      + `its state machine recovered ${(streamRecovered / 1000).toFixed(2)} s later = ${mbps(streamRecovered).toFixed(0)} MB/s `
      + `(end to end ${mbps(recovered.at - f.t0).toFixed(0)} MB/s)`);

    await stop(leader);
    const l2 = await start(leader, true);
    const lBytes = (await l2.h.call<{ value: number }>('staleRead', { shardId: SHARD })).value;
    if (lBytes !== BYTES) throw new Error(`the restarted leader recovered ${lBytes} bytes, not ${BYTES}`);
    const recover = l2.startMs;
    console.log(`  recover: the old leader's replica restarted from its own snapshot in ${(recover / 1000).toFixed(2)} s = ${mbps(recover).toFixed(0)} MB/s`);
    return {
      rawWrite: raw.write, rawCopyFile: raw.copyFile, rawCopy: raw.copy, save, streamReceived, streamBytes, streamRecovered, recover,
    };
  } finally {
    for (const i of [...hosts.keys()]) await stop(i).catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function cleanup(): void {
  killAll();
  fs.rmSync(BASE, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`bench:snapshot-host: over ${TIMEOUT_MIN} min, giving up`);
    cleanup();
    process.exit(2);
  }, TIMEOUT_MIN * 60000);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { cleanup(); process.exit(130); });
  console.log(`bench:snapshot-host  ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} CPUs  `
    + `load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}  state ${MIBS} MiB  reps ${REPS}  rtt ${RTT} ms  dir ${BASE}`);
  const runs: Run[] = [];
  try {
    for (let rep = 1; rep <= REPS; rep++) {
      console.log(`run ${rep}/${REPS} (load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
      runs.push(await oneRun(rep));
    }
  } finally {
    clearTimeout(watchdog);
    cleanup();
  }
  const med = (k: keyof Run): number => median(runs.map((r) => mbps(r[k])));
  // Each run's rate as a share of the same run's user-space copy, then the median of those.
  const share = (k: keyof Run): number => median(runs.map((r) => r.rawCopy / r[k]));
  console.log(`\nmedian of ${runs.length} (MB/s; % = of the user-space copy+fsync in the same run, median over the runs):`);
  for (const [k, label] of [['rawWrite', 'raw write+fsync'], ['rawCopyFile', 'raw copyFile+fsync (kernel copy)'],
    ['rawCopy', 'raw copy+fsync (user space, the reference)'], ['save', 'save (requestSnapshot)'],
    ['streamReceived', 'stream (follower restart → received)'], ['streamBytes', 'stream (first byte → received)'],
    ['streamRecovered', 'follower recover (received → recovered)'], ['recover', 'recover (host restart from own snapshot)']] as const) {
    console.log(`  ${label.padEnd(44)} ${med(k).toFixed(0).padStart(6)} MB/s  ${(share(k) * 100).toFixed(0).padStart(4)}%`
      + `   runs: ${runs.map((r) => mbps(r[k]).toFixed(0)).join(', ')}`);
  }
  console.log(`load at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main().catch((e: unknown) => {
  console.error(e);
  cleanup();
  process.exit(1);
});
