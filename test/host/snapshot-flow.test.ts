import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';
import { RejectedError, ShardNotFoundError, SystemBusyError } from '../../src/errors.js';

async function threeHosts(c: HostCluster, sms: Map<number, KvStateMachine>, shard: Record<string, number | boolean> = {}): Promise<void> {
  for (const i of [1, 2, 3]) {
    const nh = await c.start(i);
    await nh.startReplica(c.members([1, 2, 3]), false, () => { const sm = new KvStateMachine(); sms.set(i, sm); return sm; },
      { shardId: 1, replicaId: i, ...shard });
  }
  await c.until(() => c.leaderOf(1) !== 0 && [1, 2, 3].every((i) => c.get(i).getLeaderId(1).valid), 5000, 'leader');
}

test('requested snapshot: index returned, log compacted, nothing new → Rejected, unknown shard → ShardNotFound', async () => {
  const c = new HostCluster();
  try {
    const sms = new Map<number, KvStateMachine>();
    await threeHosts(c, sms, { compactionOverhead: 2 });
    const l = c.get(c.leaderOf(1));
    for (let k = 0; k < 20; k++) await l.propose(1, setCmd(`k${k}`, `v${k}`));
    const idx = await l.requestSnapshot(1);
    const info = l.getNodeHostInfo().shards[0];
    assert.ok(info !== undefined);
    assert.equal(info.snapshotIndex, idx);
    assert.ok(idx >= 24, `snapshot index ${idx}`);
    assert.equal(info.firstLogIndex, idx - 2 + 1);
    await assert.rejects(l.requestSnapshot(1), RejectedError);
    await assert.rejects(l.requestSnapshot(99), ShardNotFoundError);
  } finally {
    await c.closeAll();
  }
});

test('a second request while one is pending is SystemBusy', async () => {
  const c = new HostCluster();
  try {
    const sms = new Map<number, KvStateMachine>();
    await threeHosts(c, sms);
    const l = c.get(c.leaderOf(1));
    await l.propose(1, setCmd('a', '1'));
    const first = l.requestSnapshot(1);
    await assert.rejects(l.requestSnapshot(1), SystemBusyError);
    assert.ok(await first > 0);
  } finally {
    await c.closeAll();
  }
});

test('a follower stopped while the leader compacted past it catches up by snapshot, and a restart recovers from the snapshot', async () => {
  const c = new HostCluster();
  try {
    const sms = new Map<number, KvStateMachine>();
    await threeHosts(c, sms, { snapshotEntries: 10, compactionOverhead: 2 });
    const leaderId = c.leaderOf(1);
    const follower = [1, 2, 3].find((i) => i !== leaderId) as number;
    await c.get(follower).stopShard(1);
    const l = c.get(leaderId);
    for (let k = 0; k < 60; k++) await l.propose(1, setCmd(`k${k}`, `v${k}`));
    await c.until(() => (l.getNodeHostInfo().shards[0]?.firstLogIndex ?? 0) > 20, 5000, 'leader compacted');
    await c.get(follower).startReplica(new Map(), false, () => { const sm = new KvStateMachine(); sms.set(follower, sm); return sm; },
      { shardId: 1, replicaId: follower, snapshotEntries: 10, compactionOverhead: 2 });
    await c.until(() => sms.get(follower)?.map.get('k59') === 'v59', 8000, 'follower caught up');
    assert.equal(sms.get(follower)?.map.size, 60);
    // Restart the whole follower host: it recovers from its newest snapshot and replays the tail.
    await c.get(follower).close();
    const nh = await c.start(follower);
    let restarted: KvStateMachine | undefined;
    await nh.startReplica(new Map(), false, () => { restarted = new KvStateMachine(); return restarted; },
      { shardId: 1, replicaId: follower, snapshotEntries: 10, compactionOverhead: 2 });
    assert.ok(restarted !== undefined);
    assert.ok((restarted.map.size) >= 50, `recovered ${restarted.map.size} keys from the snapshot before replay`);
    await c.until(() => restarted?.map.get('k59') === 'v59', 5000, 'restarted follower complete');
  } finally {
    await c.closeAll();
  }
});
