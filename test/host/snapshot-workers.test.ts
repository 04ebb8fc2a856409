/**
 * The engine's snapshot workers seen from a NodeHost: however many shards save or recover at
 * once, at most two state machine saves / recoveries run at the same time on the host (the
 * default), and every one completes. Before the workers moved into the engine, saves of
 * regular state machines and recoveries at start ran unbounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';
import { sleepAbortable, sleep } from './support/snapshot-sm.js';
import type { NodeHost } from '../../src/host/nodehost.js';
import type { SnapshotFileCollection, SnapshotReader, SnapshotWriter } from '../../src/contracts/state-machine.js';

/** How many state machine saves and recoveries run at once, over the whole host. */
class Gauge {
  now = 0;
  max = 0;
  saves = 0;
  recoveries = 0;
  async inside<T>(f: () => Promise<T>): Promise<T> {
    this.now++;
    this.max = Math.max(this.max, this.now);
    try {
      return await f();
    } finally {
      this.now--;
    }
  }
}

/** A regular KV state machine whose saves and recoveries take `ms` and are gauged. */
class GaugedKv extends KvStateMachine {
  constructor(private readonly g: Gauge, private readonly ms: number) { super(); }
  override async saveSnapshot(w: SnapshotWriter, f: SnapshotFileCollection, s: AbortSignal): Promise<void> {
    await this.g.inside(async () => {
      await sleepAbortable(this.ms, s);
      await super.saveSnapshot(w, f, s);
      this.g.saves++;
    });
  }
  override async recoverFromSnapshot(r: SnapshotReader): Promise<void> {
    await this.g.inside(async () => {
      await sleep(this.ms);
      await super.recoverFromSnapshot(r);
      this.g.recoveries++;
    });
  }
}

const SHARDS = [1, 2, 3, 4, 5];

async function startShards(c: HostCluster, nh: NodeHost, g: Gauge, members: boolean): Promise<void> {
  // Started together: a restart recovers every shard from its snapshot at once.
  await Promise.all(SHARDS.map((shardId) => nh.startReplica(members ? c.members([1]) : new Map(), false,
    () => new GaugedKv(g, 120), { shardId, replicaId: 1, electionRTT: 10 })));
  await c.until(() => nh.getNodeHostInfo().shards.filter((s) => s.isLeader).length === SHARDS.length, 10_000, 'every shard leads');
}

test('five shards snapshotting at once, then recovering at once at a restart: at most two saves or recoveries run together on the host', { timeout: 30_000 }, async () => {
  const c = new HostCluster();
  try {
    const g = new Gauge();
    const nh = await c.start(1);
    await startShards(c, nh, g, true);
    for (const shardId of SHARDS) await nh.propose(shardId, setCmd(`k${shardId}`, `v${shardId}`));
    const indexes = await Promise.all(SHARDS.map((shardId) => nh.requestSnapshot(shardId, { timeoutMs: 10_000 })));
    assert.ok(indexes.every((i) => i > 0), `every snapshot was taken: ${indexes.join(',')}`);
    assert.equal(g.saves, SHARDS.length);
    assert.equal(g.max, 2, 'two saves ran side by side, never more');

    await c.crash(1);
    const g2 = new Gauge();
    const again = await c.start(1);
    await startShards(c, again, g2, false);
    assert.equal(g2.recoveries, SHARDS.length, 'every shard recovered from its snapshot at start');
    assert.equal(g2.max, 2, 'two recoveries ran side by side, never more');
    for (const shardId of SHARDS) assert.equal(await again.staleRead(shardId, `k${shardId}`), `v${shardId}`);
  } finally {
    await c.closeAll();
  }
});
