/**
 * `node dist/bench/sequential-proposals.js [--proposals=3000] [--fsync] [--tcp]`: the
 * per-proposal cost of the whole write path on one thread — three NodeHosts in this process on
 * the in-memory network (batches encoded and decoded), or with `--tcp` on TCP over loopback,
 * WAL in a temp dir (fsync off unless `--fsync`), one shard, proposals made one after another.
 * Prints the time per proposal, and each host's WAL writes, syncs and bytes and the batches and
 * messages it sent per proposal. Useful to A/B two builds (`node <build>/dist/bench/…`),
 * interleaved, on a quiet machine; on a shared VM the figure swings by tens of percent.
 */
import { parseArgs } from './host-rpc.js';
import { startTrio } from './in-process-trio.js';

const args = parseArgs(process.argv.slice(2));
const n = Number(args.get('proposals') ?? 3000);
const fsync = args.has('fsync');
const tcp = args.has('tcp');

const { hosts, leader, close } = await startTrio({ tcp, fsync, prefix: 'sampan-seq-' });
try {
  const cmd = new Uint8Array(16);
  for (let k = 0; k < 200; k++) await leader.propose(1, cmd); // warm-up
  const before = hosts.map((h) => h.getStats());
  const t0 = performance.now();
  for (let k = 0; k < n; k++) await leader.propose(1, cmd);
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 200));
  console.log(`${n} sequential proposals, ${tcp ? 'TCP' : 'in-memory network'}, fsync ${fsync ? 'on' : 'off'}: ${(ms / n * 1000).toFixed(0)} µs per proposal (${ms.toFixed(0)} ms)`);
  hosts.forEach((h, i) => {
    const sa = before[i], sb = h.getStats();
    const a = sa?.logdb, b = sb.logdb;
    if (sa === undefined || a == null || b == null) return;
    console.log(`  host ${i + 1}${h === leader ? ' (leader)' : ''}: per proposal ${((b.writes - a.writes) / n).toFixed(2)} WAL writes, ` +
      `${((b.syncs - a.syncs) / n).toFixed(2)} syncs, ${((b.bytesWritten - a.bytesWritten) / n).toFixed(1)} bytes; ` +
      `${((sb.transport.batchesSent - sa.transport.batchesSent) / n).toFixed(2)} batches, ${((sb.transport.messagesSent - sa.transport.messagesSent) / n).toFixed(2)} messages sent`);
  });
} finally {
  await close();
}
