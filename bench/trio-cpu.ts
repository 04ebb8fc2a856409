/**
 * `node dist/bench/trio-cpu.js [--inflight=1024] [--proposals=200000] [--shards=1] [--reps=1] [--memory] [--alloc] [--cpu] [--gc] [--top=N]`:
 * the CPU one proposal costs the whole write path, leader and followers together. Three
 * NodeHosts in this one process (`in-process-trio.ts`) on TCP over loopback with the WAL and
 * fsync on; 16-byte proposals at `--inflight` from in-process clients (with `--shards`, client
 * k proposes to shard k mod N + 1, at its leader); after a warm-up (30
 * per request in flight, at most 30,000), `--proposals` more, timed. Prints proposals/s and the process's CPU time (user +
 * system) per proposal.
 *
 * One thread runs all three hosts, so the rate is the inverse of the CPU per proposal, and
 * the figure moves much less with the machine's load than a three-process run does: the
 * quick A/B of two builds (run each build's own copy, interleaved). `--memory` uses the
 * in-memory network instead of TCP (no kernel time in the figure). `--alloc` samples the
 * allocations of the timed proposals (V8's sampling heap profiler, collected objects
 * included) and prints the bytes allocated per proposal, in all and by allocating function.
 * `--cpu` profiles the timed proposals (V8's CPU profiler) and prints the hottest functions by
 * self time, garbage collection and idle time included (the profile is kept in the OS temp
 * dir; `dispatch` in it is the in-process inspector's own work). `--gc` prints the scavenges and full collections of the timed proposals: how many,
 * their median and longest pause, and their total (a `PerformanceObserver` of `gc` entries;
 * combine with node flags such as `--max-semi-space-size`). `--top` sets how many functions
 * `--cpu` and `--alloc` print (25 and 12 by default).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { frameName, median, parseArgs, topSelfTime } from './host-rpc.js';
import { startTrio } from './in-process-trio.js';

/** One node of V8's sampling heap profile. */
interface AllocNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly selfSize: number;
  readonly children: readonly AllocNode[];
}

/** Bytes allocated by each function of `head`'s tree (self sizes, keyed by name, file and line). */
function bytesByFunction(head: AllocNode): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (n: AllocNode): void => {
    const key = frameName(n.callFrame);
    if (n.selfSize > 0) out.set(key, (out.get(key) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c);
  };
  walk(head);
  return out;
}

const args = parseArgs(process.argv.slice(2));
const inflight = Number(args.get('inflight') ?? 1024);
const proposals = Number(args.get('proposals') ?? 200_000);
const reps = Number(args.get('reps') ?? 1);
/** `--top`: how many functions `--cpu` and `--alloc` print (each has its own default). */
const top = args.has('top') ? Number(args.get('top')) : undefined;

const shards = Number(args.get('shards') ?? 1);
const trio = await startTrio({ tcp: !args.has('memory'), fsync: true, prefix: 'sampan-trio-cpu-', shards });
const cmd = new Uint8Array(16);

/** `count` proposals, `inflight` at a time. */
async function run(count: number): Promise<void> {
  let issued = 0;
  await Promise.all(Array.from({ length: inflight }, async (_, k) => {
    // Client k proposes to shard (k mod shards) + 1, at that shard's leader.
    const shardId = (k % shards) + 1;
    const host = trio.leaderOf(shardId);
    while (issued++ < count) await host.propose(shardId, cmd, { timeoutMs: 30_000 });
  }));
}

/** Pauses of one kind of collection, as `--gc` prints them. */
function pauses(name: string, ms: readonly number[]): string {
  if (ms.length === 0) return `${name}: none`;
  const total = ms.reduce((a, b) => a + b, 0);
  return `${name}: ${ms.length}, median ${median(ms).toFixed(2)} ms, longest ${Math.max(...ms).toFixed(2)} ms, ${total.toFixed(1)} ms in all`;
}

const alloc = args.has('alloc');
const cpuProf = args.has('cpu');
const session = alloc || cpuProf ? new Session() : null;
try {
  await run(Math.min(30_000, 30 * inflight));
  if (session !== null) {
    session.connect();
    await session.post(alloc ? 'HeapProfiler.enable' : 'Profiler.enable');
  }
  for (let i = 0; i < reps; i++) {
    if (alloc) {
      await session?.post('HeapProfiler.startSampling', {
        samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
      });
    }
    if (cpuProf) await session?.post('Profiler.start');
    const gcs: PerformanceEntry[] = [];
    const gcObserver = args.has('gc') ? new PerformanceObserver((list) => { gcs.push(...list.getEntries()); }) : null;
    gcObserver?.observe({ entryTypes: ['gc'] });
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await run(proposals);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    if (gcObserver !== null) {
      // Entries still queued are delivered on the next turn.
      await new Promise((r) => setImmediate(r));
      gcObserver.disconnect();
      const kind = (e: PerformanceEntry): number => (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      console.log(pauses('scavenges', gcs.filter((e) => kind(e) === constants.NODE_PERFORMANCE_GC_MINOR).map((e) => e.duration)));
      console.log(pauses('full collections', gcs.filter((e) => kind(e) === constants.NODE_PERFORMANCE_GC_MAJOR).map((e) => e.duration)));
    }
    if (cpuProf && session !== null) {
      const { profile } = await session.post('Profiler.stop');
      const file = join(tmpdir(), `sampan-trio-cpu-${process.pid}-${i}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      console.log(`hottest functions of the timed proposals (self time; ${file}):`);
      for (const line of topSelfTime(file, top ?? 25)) console.log(`  ${line}`);
    }
    if (alloc && session !== null) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      const by = bytesByFunction(profile.head as AllocNode);
      let total = 0;
      for (const b of by.values()) total += b;
      console.log(`allocated ${(total / proposals).toFixed(0)} B per proposal (sampled; the profiler slows the run); the largest sources:`);
      for (const [k, b] of [...by].sort((x, y) => y[1] - x[1]).slice(0, top ?? 12)) console.log(`  ${(b / proposals).toFixed(0).padStart(6)} B  ${k}`);
    }
    console.log(`${inflight} in flight, ${shards} shard(s), ${proposals} proposals: ${((proposals / ms) * 1000).toFixed(0)} proposals/s, `
      + `CPU ${((cpu.user + cpu.system) / proposals).toFixed(2)} µs per proposal (user ${(cpu.user / proposals).toFixed(2)}, system ${(cpu.system / proposals).toFixed(2)})`);
  }
} finally {
  session?.disconnect();
  await trio.close();
}
