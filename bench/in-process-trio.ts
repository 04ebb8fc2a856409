/**
 * Three NodeHosts in this process, one shard (or `shards`) of a counting state machine, for the benchmarks
 * that measure the whole write path on one thread (`sequential-proposals.ts`,
 * `entry-compression.ts`): on the in-memory network (batches encoded and decoded) or, with
 * `tcp`, on TCP over loopback; the WAL in a temp dir, fsync off unless `fsync`; leader
 * balancing off. Resolves once a leader is known.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeHost } from '../src/host/nodehost.js';
import { MemoryNetwork } from '../src/transport/memory-network.js';
import type { ShardConfig } from '../src/host/config.js';
import type { SMEntry, SMResult, StateMachine } from '../src/contracts/state-machine.js';
import { freePorts } from '../tools/free-ports.js';

/** Counts updates; nothing else. */
export class Counter implements StateMachine {
  private n = 0;
  update(es: readonly SMEntry[]): SMResult[] { return es.map(() => ({ value: ++this.n })); }
  lookup(): number { return this.n; }
  async saveSnapshot(): Promise<void> {}
  async recoverFromSnapshot(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The three hosts of {@link startTrio}. */
export interface Trio {
  readonly hosts: readonly NodeHost[];
  /** The host leading shard 1 when the trio was started. */
  readonly leader: NodeHost;
  /** The host leading shard `shardId` (1..`shards`) when the trio was started. */
  leaderOf(shardId: number): NodeHost;
  /** Closes the hosts and removes their directories. */
  close(): Promise<void>;
}

/**
 * Starts the trio with shards 1..`shards` (default 1) on every host; `shard` adds to each
 * shard's config (no automatic snapshots by default). Resolves once every shard has a leader.
 */
export async function startTrio(o: { readonly tcp: boolean; readonly fsync: boolean; readonly prefix: string;
  readonly shard?: Partial<ShardConfig>; readonly shards?: number }): Promise<Trio> {
  const shards = o.shards ?? 1;
  const dir = mkdtempSync(join(tmpdir(), o.prefix));
  const net = new MemoryNetwork({ seed: 1 });
  const ports = o.tcp ? await freePorts(3) : [1, 1, 1];
  const addr = (i: number): string => (o.tcp ? `127.0.0.1:${ports[i - 1]}` : `h${i}:1`);
  const members = new Map([1, 2, 3].map((i) => [i, addr(i)] as const));
  const hosts: NodeHost[] = [];
  const close = async (): Promise<void> => {
    for (const h of hosts) await h.close({ drainTimeoutMs: 0 });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const i of [1, 2, 3]) {
      const nh = await NodeHost.create({
        nodeHostDir: join(dir, `h${i}`), raftAddress: addr(i), rttMillisecond: 20, unsafeNoFsync: !o.fsync, leaderBalancing: false,
        transportFactory: o.tcp ? undefined : (handler) => net.createTransport({ address: addr(i), handler }),
      });
      hosts.push(nh);
      for (let s = 1; s <= shards; s++) {
        await nh.startReplica(members, false, () => new Counter(), { snapshotEntries: 0, ...o.shard, shardId: s, replicaId: i });
      }
    }
    const leaders: NodeHost[] = [];
    for (let s = 1; s <= shards; s++) {
      let l: NodeHost | undefined;
      const leads = (h: NodeHost): boolean => h.getNodeHostInfo().shards.some((x) => x.shardId === s && x.isLeader);
      while ((l = hosts.find(leads)) === undefined) await new Promise((r) => setTimeout(r, 20));
      leaders.push(l);
    }
    const leaderOf = (shardId: number): NodeHost => {
      const l = leaders[shardId - 1];
      if (l === undefined) throw new RangeError(`no shard ${shardId} in this trio`);
      return l;
    };
    return { hosts, leader: leaderOf(1), leaderOf, close };
  } catch (err) {
    await close();
    throw err;
  }
}
