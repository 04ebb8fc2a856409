/**
 * `node dist/bench/sequential-proposals.js [--proposals=3000] [--fsync] [--tcp]`: the
 * per-proposal cost of the whole write path on one thread — three NodeHosts in this process on
 * the in-memory network (batches encoded and decoded), or with `--tcp` on TCP over loopback,
 * WAL in a temp dir (fsync off unless `--fsync`), one shard, proposals made one after another.
 * Prints the time per proposal, and each host's WAL writes, syncs and bytes and the batches and
 * messages it sent per proposal. Useful to A/B two builds (`node <build>/dist/bench/…`),
 * interleaved, on a quiet machine; on a shared VM the figure swings by tens of percent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeHost } from '../src/host/nodehost.js';
import { MemoryNetwork } from '../src/transport/memory-network.js';
import type { SMEntry, SMResult, StateMachine } from '../src/contracts/state-machine.js';
import { parseArgs } from './host-rpc.js';
import { freePorts } from '../tools/free-ports.js';

const args = parseArgs(process.argv.slice(2));
const n = Number(args.get('proposals') ?? 3000);
const fsync = args.has('fsync');
const tcp = args.has('tcp');

/** Counts updates; nothing else. */
class Counter implements StateMachine {
  private n = 0;
  update(es: readonly SMEntry[]): SMResult[] { return es.map(() => ({ value: ++this.n })); }
  lookup(): number { return this.n; }
  async saveSnapshot(): Promise<void> {}
  async recoverFromSnapshot(): Promise<void> {}
  async close(): Promise<void> {}
}

const dir = mkdtempSync(join(tmpdir(), 'sampan-seq-'));
const net = new MemoryNetwork({ seed: 1 });
const ports = tcp ? await freePorts(3) : [1, 1, 1];
const addr = (i: number): string => (tcp ? `127.0.0.1:${ports[i - 1]}` : `h${i}:1`);
const members = new Map([1, 2, 3].map((i) => [i, addr(i)] as const));
const hosts: NodeHost[] = [];
try {
  for (const i of [1, 2, 3]) {
    const nh = await NodeHost.create({
      nodeHostDir: join(dir, `h${i}`), raftAddress: addr(i), rttMillisecond: 20, unsafeNoFsync: !fsync, leaderBalancing: false,
      transportFactory: tcp ? undefined : (handler) => net.createTransport({ address: addr(i), handler }),
    });
    hosts.push(nh);
    await nh.startReplica(members, false, () => new Counter(), { shardId: 1, replicaId: i, snapshotEntries: 0 });
  }
  let leader: NodeHost | undefined;
  while ((leader = hosts.find((h) => h.getNodeHostInfo().shards[0]?.isLeader)) === undefined) await new Promise((r) => setTimeout(r, 20));
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
  for (const h of hosts) await h.close({ drainTimeoutMs: 0 });
  rmSync(dir, { recursive: true, force: true });
}
