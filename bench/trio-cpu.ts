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
 * in-memory network instead of TCP (no kernel time in the figure).
 */
import { parseArgs } from './host-rpc.js';
import { startTrio } from './in-process-trio.js';

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

try {
  await run(Math.min(30_000, 30 * inflight));
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await run(proposals);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    console.log(`${inflight} in flight, ${proposals} proposals: ${((proposals / ms) * 1000).toFixed(0)} proposals/s, `
      + `CPU ${((cpu.user + cpu.system) / proposals).toFixed(2)} µs per proposal (user ${(cpu.user / proposals).toFixed(2)}, system ${(cpu.system / proposals).toFixed(2)})`);
  }
} finally {
  await trio.close();
}
