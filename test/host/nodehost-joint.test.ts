/**
 * Joint membership changes through the NodeHost (thesis §4.3): several replicas replaced in
 * one change that resolves once the final configuration is applied, a change without
 * auto-leave ended by requestLeaveJoint, demotion, and an add that catches up first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidOptionError, RejectedError } from '../../src/errors.js';
import { rejectsWith } from './support/assert.js';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';

const ids = (m: ReadonlyMap<number, string> | ReadonlySet<number>): number[] => [...m.keys()].sort((a, b) => a - b);

test('requestJointChange replaces two voters in one change and resolves with the final configuration applied', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3, 4, 5]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    for (let k = 0; k < 5; k++) await c.get(leader).propose(1, setCmd(`k${k}`, String(k)));
    await c.startShard(1, [4, 5], { join: true });
    const gone = [1, 2, 3].filter((i) => i !== leader);
    const nh = c.get(leader);
    await rejectsWith(nh.requestJointChange(1, []), InvalidOptionError, 'INVALID_OPTION');
    // Two new voters of three: the leader's live-quorum check refuses that while they are not
    // members it hears from. So they join as non-voting first, and the joint change promotes them.
    for (const id of [4, 5]) await nh.requestAddNonVoting(1, id, c.address(id));
    await c.until(() => {
      const info = nh.getNodeHostInfo().shards.find((s) => s.shardId === 1);
      return [4, 5].every((id) => info?.followers.some((f) => f.replicaId === id && f.state === 'replicate' && f.match >= info.commitIndex) === true);
    }, 5000, 'the non-voting members caught up');
    await nh.requestJointChange(1, [
      { op: 'add', replicaId: 4, address: c.address(4) }, { op: 'add', replicaId: 5, address: c.address(5) },
      ...gone.map((replicaId) => ({ op: 'remove' as const, replicaId })),
    ]);
    // Resolved: the final configuration is applied on this host, no linearizable read needed.
    const local = nh.getNodeHostInfo().shards.find((s) => s.shardId === 1)?.membership;
    assert.deepEqual(ids(local?.voters ?? new Map()), [leader, 4, 5].sort((a, b) => a - b));
    assert.equal(local?.joint, undefined);
    assert.deepEqual(ids(local?.removed ?? new Set()), gone);
    for (const i of gone) await c.crash(i);
    const l2 = await c.waitLeader(1, [leader, 4, 5]);
    await c.get(l2).propose(1, setCmd('after', 'yes'), { timeoutMs: 3000 });
    await c.until(() => c.sm(4, 1).map.size === 6 && c.sm(5, 1).map.size === 6, 5000, 'the new voters have everything');
  } finally {
    await c.closeAll();
  }
});

test('without auto-leave the call resolves joint; requestLeaveJoint ends it; a demoted voter becomes non-voting', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3, 4]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    await c.startShard(1, [4], { join: true });
    const demoted = [1, 2, 3].find((i) => i !== leader) as number;
    const nh = c.get(leader);
    await nh.requestJointChange(1, [{ op: 'add', replicaId: 4, address: c.address(4) }, { op: 'demote', replicaId: demoted }], { autoLeave: false });
    let m = await nh.getShardMembership(1);
    assert.deepEqual(ids(m.joint?.outgoing ?? new Map()), [1, 2, 3]);
    assert.deepEqual(ids(m.joint?.nonVotingNext ?? new Map()), [demoted]);
    // While joint, single changes and a second joint change are refused.
    await rejectsWith(nh.requestAddNonVoting(1, 9, '127.0.0.1:1'), RejectedError, 'REJECTED');
    await rejectsWith(nh.requestJointChange(1, [{ op: 'remove', replicaId: 4 }]), RejectedError, 'REJECTED');
    await nh.requestLeaveJoint(1);
    m = await nh.getShardMembership(1);
    assert.equal(m.joint, undefined);
    assert.equal(m.nonVoting.has(demoted), true);
    await c.until(() => c.get(demoted).getNodeHostInfo().shards.find((s) => s.shardId === 1)?.role === 'non-voting', 3000, 'the demoted replica is non-voting');
    await rejectsWith(nh.requestLeaveJoint(1), RejectedError, 'REJECTED');
    // A single demotion, and a promotion back.
    const other = [1, 2, 3].find((i) => i !== leader && i !== demoted) as number;
    await nh.requestAddNonVoting(1, other, c.address(other));
    assert.deepEqual(ids((await nh.getShardMembership(1)).voters), [leader, 4].sort((a, b) => a - b));
    await nh.requestAddReplica(1, other, c.address(other));
    assert.deepEqual(ids((await nh.getShardMembership(1)).voters), [leader, other, 4].sort((a, b) => a - b));
  } finally {
    await c.closeAll();
  }
});

test('requestAddReplica with catchUpFirst adds non-voting, waits for the catch-up, then promotes', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3, 4]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    for (let k = 0; k < 20; k++) await c.get(leader).propose(1, setCmd(`k${k}`, String(k)));
    await c.startShard(1, [4], { join: true });
    const seen: string[] = [];
    c.get(leader).on('membership:changed', (p) => {
      seen.push(p.membership.voters.has(4) ? 'voter' : p.membership.nonVoting.has(4) ? 'non-voting' : 'none');
    });
    await c.get(leader).requestAddReplica(1, 4, c.address(4), { catchUpFirst: true });
    assert.deepEqual(seen, ['non-voting', 'voter']);
    assert.ok(c.sm(4, 1).map.size >= 20, 'caught up before it became a voter');
  } finally {
    await c.closeAll();
  }
});
