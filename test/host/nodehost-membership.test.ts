/**
 * Membership changes through the NodeHost: adding a voter that joins and catches up,
 * non-voting replicas and their promotion, witnesses, removal, ordered config changes, a
 * second change while one is pending, and the last voter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Membership } from '../../src/core/types.js';
import { DroppedError, InvalidOptionError, RejectedError, ReplicaNotFoundError } from '../../src/errors.js';
import { rejectsWith, settle } from './support/assert.js';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';

const ids = (m: ReadonlyMap<number, string> | ReadonlySet<number>): number[] => [...m.keys()].sort((a, b) => a - b);
const role = (c: HostCluster, i: number, shardId: number): string | undefined =>
  c.get(i).getNodeHostInfo().shards.find((s) => s.shardId === shardId)?.role;

test('a voter added on a fourth host joins, catches up, and its vote counts; membership:changed fires everywhere', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const changes = new Map<number, Array<{ shardId: number; replicaId: number; membership: Membership }>>();
  try {
    for (const i of [1, 2, 3, 4]) {
      const nh = await c.start(i);
      changes.set(i, []);
      nh.on('membership:changed', (p) => changes.get(i)?.push(p));
    }
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    for (let k = 0; k < 10; k++) await c.get(leader).propose(1, setCmd(`k${k}`, String(k)));

    await c.get(leader).requestAddReplica(1, 4, c.address(4));
    const m = await c.get(leader).getShardMembership(1);
    assert.deepEqual(ids(m.voters), [1, 2, 3, 4]);
    assert.equal(m.voters.get(4), c.address(4));
    await c.until(() => [1, 2, 3].every((i) => changes.get(i)?.some((e) => e.membership.voters.has(4))), 3000, 'membership events');
    for (const i of [1, 2, 3]) {
      const e = changes.get(i)?.find((x) => x.membership.voters.has(4));
      assert.equal(e?.shardId, 1);
      assert.equal(e?.replicaId, i);
      assert.deepEqual(ids(e?.membership.voters ?? new Map()), [1, 2, 3, 4]);
    }

    await c.startShard(1, [4], { join: true });
    await c.until(() => c.sm(4, 1).map.size === 10, 5000, 'the joined voter catches up');
    assert.deepEqual(c.sm(4, 1).applied, c.sm(leader, 1).applied.slice(0, c.sm(4, 1).applied.length));
    assert.deepEqual(ids((await c.get(4).getShardMembership(1)).voters), [1, 2, 3, 4]);
    assert.equal(c.get(4).getLeaderId(1).leaderId, leader);

    // Four voters need three: with one original host down, nothing commits without the new one.
    const victim = [1, 2, 3].find((i) => i !== leader) as number;
    await c.crash(victim);
    const live = [1, 2, 3, 4].filter((i) => i !== victim);
    await c.waitLeader(1, live);
    await c.get(4).propose(1, setCmd('joined', 'yes'), { timeoutMs: 3000 });
    assert.equal(await c.get(4).read(1, 'joined'), 'yes');
  } finally {
    await c.closeAll();
  }
});

test('non-voting replica joins and catches up, is promoted; a witness is added then deleted and cannot return', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3, 5, 6]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    for (let k = 0; k < 5; k++) await c.get(leader).propose(1, setCmd(`k${k}`, String(k)));

    await c.get(leader).requestAddNonVoting(1, 5, c.address(5));
    let m = await c.get(leader).getShardMembership(1);
    assert.deepEqual(ids(m.nonVoting), [5]);
    assert.deepEqual(ids(m.voters), [1, 2, 3]);
    await c.startShard(1, [5], { join: true, config: { isNonVoting: true } });
    await c.until(() => c.sm(5, 1).map.size === 5, 5000, 'the non-voting replica catches up');
    assert.equal(role(c, 5, 1), 'non-voting');
    // A non-voting replica serves linearizable reads too.
    await c.get(leader).propose(1, setCmd('nv', 'seen'));
    assert.equal(await c.get(5).read(1, 'nv'), 'seen');

    // Promotion: add the same replica as a voter.
    await c.get(leader).requestAddReplica(1, 5, c.address(5));
    m = await c.get(leader).getShardMembership(1);
    assert.deepEqual(ids(m.voters), [1, 2, 3, 5]);
    assert.deepEqual(ids(m.nonVoting), []);
    await c.until(() => role(c, 5, 1) === 'follower', 3000, 'the promoted replica becomes a follower');

    await c.get(leader).requestAddWitness(1, 6, c.address(6));
    m = await c.get(leader).getShardMembership(1);
    assert.deepEqual(ids(m.witnesses), [6]);
    await c.startShard(1, [6], { join: true, config: { isWitness: true } });
    await c.until(() => role(c, 6, 1) === 'witness', 3000, 'the witness runs as a witness');
    await c.until(() => (c.get(6).getNodeHostInfo().shards[0]?.commitIndex ?? 0) >= (c.get(leader).getNodeHostInfo().shards[0]?.commitIndex ?? 1),
      3000, 'the witness follows the commit index');

    await c.get(leader).requestDeleteReplica(1, 6);
    m = await c.get(leader).getShardMembership(1);
    assert.deepEqual(ids(m.witnesses), []);
    assert.ok(m.removed.has(6));
    await rejectsWith(c.get(leader).requestAddWitness(1, 6, c.address(6)), RejectedError, 'REJECTED');
    await rejectsWith(c.get(leader).requestAddReplica(1, 6, c.address(6)), RejectedError, 'REJECTED');

    // Deleting a voter shrinks the quorum; the rest keep working.
    await c.get(leader).requestDeleteReplica(1, 5);
    m = await c.get(leader).getShardMembership(1);
    assert.deepEqual(ids(m.voters), [1, 2, 3]);
    await c.get(leader).propose(1, setCmd('after', 'delete'));
    assert.equal(await c.get(1 + (leader % 3)).read(1, 'after'), 'delete');

    // Caller mistakes are refused before anything is proposed.
    await rejectsWith(c.get(leader).requestAddReplica(1, 9, 'no-port'), InvalidOptionError, 'INVALID_OPTION');
    await rejectsWith(c.get(leader).requestAddReplica(1, 0, c.address(9)), InvalidOptionError, 'INVALID_OPTION');
  } finally {
    await c.closeAll();
  }
});

test('ordered config changes: a change naming a stale membership version is rejected', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3], { config: { orderedConfigChange: true } });
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const m0 = await c.get(leader).getShardMembership(1);
    await c.get(leader).requestAddNonVoting(1, 7, c.address(7), { configChangeId: m0.configChangeId });
    const m1 = await c.get(leader).getShardMembership(1);
    assert.ok(m1.configChangeId > m0.configChangeId, 'the version moved');
    assert.deepEqual(ids(m1.nonVoting), [7]);

    // Reusing the version the first change consumed: rejected, nothing changes.
    await rejectsWith(c.get(leader).requestAddNonVoting(1, 8, c.address(8), { configChangeId: m0.configChangeId }), RejectedError, 'REJECTED');
    // Omitting the version in ordered mode is a stale version too.
    await rejectsWith(c.get(leader).requestDeleteReplica(1, 7), RejectedError, 'REJECTED');
    const m2 = await c.get(leader).getShardMembership(1);
    assert.equal(m2.configChangeId, m1.configChangeId);
    assert.deepEqual(ids(m2.nonVoting), [7]);

    // With the current version, from a follower host: accepted.
    const follower = [1, 2, 3].find((i) => i !== leader) as number;
    await c.get(follower).requestDeleteReplica(1, 7, { configChangeId: m2.configChangeId });
    const m3 = await c.get(follower).getShardMembership(1);
    assert.deepEqual(ids(m3.nonVoting), []);
    assert.ok(m3.removed.has(7));
  } finally {
    await c.closeAll();
  }
});

test('a second change while one is pending is dropped (DroppedError) or applied after it, never lost silently', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const nh = c.get(leader);
    // Let the leader's no-op apply first, or even the first change is dropped.
    await nh.propose(1, setCmd('warm', 'up'));
    const results = await Promise.all([
      settle(nh.requestAddNonVoting(1, 8, c.address(8))),
      settle(nh.requestAddNonVoting(1, 9, c.address(9))),
      settle(nh.requestAddNonVoting(1, 10, c.address(10))),
    ]);
    const ok = [8, 9, 10].filter((_, k) => results[k]?.ok === true);
    for (const r of results) if (!r.ok) assert.ok(r.error instanceof DroppedError, `expected DroppedError, got ${String(r.error)}`);
    assert.ok(ok.length >= 1, 'the first change succeeds');
    assert.ok(results[0]?.ok, 'the first change is the one accepted');
    const m = await nh.getShardMembership(1);
    assert.deepEqual(ids(m.nonVoting), ok, 'exactly the acknowledged changes took effect');
    // Once the first is applied, a retry of a dropped one succeeds.
    for (const id of [8, 9, 10].filter((x) => !ok.includes(x))) await nh.requestAddNonVoting(1, id, c.address(id));
    assert.deepEqual(ids((await nh.getShardMembership(1)).nonVoting), [8, 9, 10]);
  } finally {
    await c.closeAll();
  }
});

test('deleting an id that is not a member is refused (ReplicaNotFoundError) and tombstones nothing', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    await c.start(1);
    await c.startShard(1, [1]);
    await c.waitLeader(1, [1]);
    await c.get(1).propose(1, setCmd('first', 'write'));
    const before = await c.get(1).getShardMembership(1);
    await rejectsWith(c.get(1).requestDeleteReplica(1, 9), ReplicaNotFoundError, 'REPLICA_NOT_FOUND');
    const after = await c.get(1).getShardMembership(1);
    assert.equal(after.configChangeId, before.configChangeId, 'nothing was committed');
    assert.deepEqual([...after.removed], []);
    // The id was never tombstoned: it can still be added.
    await c.get(1).requestAddNonVoting(1, 9, c.address(9));
    assert.deepEqual(ids((await c.get(1).getShardMembership(1)).nonVoting), [9]);
  } finally {
    await c.closeAll();
  }
});

test('the last voter cannot be deleted', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    await c.start(1);
    await c.startShard(1, [1]);
    await c.waitLeader(1, [1]);
    // A new leader takes no membership change before its term's no-op is applied (DroppedError);
    // a proposal that resolved shows it is.
    await c.get(1).propose(1, setCmd('first', 'write'));
    await rejectsWith(c.get(1).requestDeleteReplica(1, 1), RejectedError, 'REJECTED');
    assert.deepEqual(ids((await c.get(1).getShardMembership(1)).voters), [1]);
    await c.get(1).propose(1, setCmd('still', 'works'));
    assert.equal(await c.get(1).read(1, 'still'), 'works');
  } finally {
    await c.closeAll();
  }
});
