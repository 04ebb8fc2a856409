/**
 * `node dist/bench/trio-cpu.js [--inflight=1024] [--proposals=200000] [--reps=1] [--memory]`:
 * the CPU one proposal costs the whole write path, leader and followers together. Three
 * NodeHosts in this one process (`in-process-trio.ts`) on TCP over loopback with the WAL and
 * fsync on; 16-byte proposals at `--inflight` from in-process clients; after a warm-up (30
 * per request in flight, at most 30,000), `--proposals` more, timed. Prints proposals/s and the process's CPU time (user +
 * system) per proposal.
 *
 * One thread runs all three hosts, so the rate is the inverse of the CPU per proposal, and
 * the figure moves much less with the machine's load than a three-process run does: the
 * quick A/B of two builds (run each build's own copy, interleaved). `--memory` uses the
 * in-memory network instead of TCP (no kernel time in the figure). `--alloc` samples the
 * allocations of the timed proposals (V8's sampling heap profiler, collected objects
 * included) and prints the bytes allocated per proposal, in all and by allocating function.
 */
import { Session } from 'node:inspector/promises';
import { frameName, parseArgs } from './host-rpc.js';
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

const trio = await startTrio({ tcp: !args.has('memory'), fsync: true, prefix: 'sampan-trio-cpu-' });
const cmd = new Uint8Array(16);

/** `count` proposals, `inflight` at a time. */
async function run(count: number): Promise<void> {
  let issued = 0;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (issued++ < count) await trio.leader.propose(1, cmd, { timeoutMs: 30_000 });
  }));
}

const session = args.has('alloc') ? new Session() : null;
try {
  await run(Math.min(30_000, 30 * inflight));
  if (session !== null) {
    session.connect();
    await session.post('HeapProfiler.enable');
  }
  for (let i = 0; i < reps; i++) {
    await session?.post('HeapProfiler.startSampling', {
      samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
    });
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await run(proposals);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    if (session !== null) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      const by = bytesByFunction(profile.head as AllocNode);
      let total = 0;
      for (const b of by.values()) total += b;
      console.log(`allocated ${(total / proposals).toFixed(0)} B per proposal (sampled; the profiler slows the run); the largest sources:`);
      for (const [k, b] of [...by].sort((x, y) => y[1] - x[1]).slice(0, 12)) console.log(`  ${(b / proposals).toFixed(0).padStart(6)} B  ${k}`);
    }
    console.log(`${inflight} in flight, ${proposals} proposals: ${((proposals / ms) * 1000).toFixed(0)} proposals/s, `
      + `CPU ${((cpu.user + cpu.system) / proposals).toFixed(2)} µs per proposal (user ${(cpu.user / proposals).toFixed(2)}, system ${(cpu.system / proposals).toFixed(2)})`);
  }
} finally {
  session?.disconnect();
  await trio.close();
}
