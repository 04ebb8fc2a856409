/**
 * A removed replica stops serving: at once when it applied its own removal, and — when it was
 * cut off while the removal committed, so that it never sees it — as soon as it contacts a
 * member, which answers with a ReplicaRemoved notice. Either way its requests fail with
 * ReplicaRemovedError (HTTP 503 REPLICA_REMOVED) instead of waiting for a leader until they
 * time out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, message, emptyMembership, type Message } from '../../src/core/index.js';
import { ReplicaRemovedError, TimeoutError } from '../../src/errors.js';
import { RemovalNotices, type RemovableReplica } from '../../src/host/removal-notice.js';
import { rejectsWith } from './support/assert.js';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';

test('a removed replica fails requests at once with ReplicaRemovedError', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const gone = [1, 2, 3].find((i) => i !== leader) as number;
    await c.get(leader).propose(1, setCmd('a', '1'));
    await c.get(leader).requestDeleteReplica(1, gone);
    // It learns with the leader's next message (the commit of its removal) or, if that never
    // comes, from a member's notice after its election timeout.
    await c.until(() => c.get(gone).getNodeHostInfo().shards[0]?.removed === true, 5000, 'the replica knows it was removed');
    const t0 = Date.now();
    await rejectsWith(c.get(gone).propose(1, setCmd('b', '2'), { timeoutMs: 3000 }), ReplicaRemovedError, 'REPLICA_REMOVED');
    await rejectsWith(c.get(gone).read(1, 'a', { timeoutMs: 3000 }), ReplicaRemovedError, 'REPLICA_REMOVED');
    await rejectsWith(c.get(gone).staleRead(1, 'a'), ReplicaRemovedError, 'REPLICA_REMOVED');
    assert.ok(Date.now() - t0 < 1000, 'refused at once, not at the deadline');
  } finally {
    await c.closeAll();
  }
});

test('a replica removed while cut off learns it from a member once it reaches one', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const gone = [1, 2, 3].find((i) => i !== leader) as number;
    c.network.isolate(c.address(gone));
    await c.get(leader).requestDeleteReplica(1, gone);
    await c.get(leader).propose(1, setCmd('after', 'removal'));
    // Cut off, it cannot know: its request waits.
    const pending = c.get(gone).propose(1, setCmd('x', 'y'), { timeoutMs: 10000 });
    pending.catch(() => undefined);
    assert.equal(c.get(gone).getNodeHostInfo().shards[0]?.membership.removed.has(gone), false);
    c.network.heal();
    const t0 = Date.now();
    // It was forwarded into the partition: it may have reached the leader, so its outcome is
    // unknown (TIMEOUT, the removal as its cause); later requests fail with REPLICA_REMOVED.
    const err = await rejectsWith(pending, TimeoutError, 'TIMEOUT');
    assert.ok(err.cause instanceof ReplicaRemovedError);
    assert.ok(Date.now() - t0 < 5000, `told within ${Date.now() - t0} ms of the heal`);
    await rejectsWith(c.get(gone).read(1, 'after', { timeoutMs: 3000 }), ReplicaRemovedError, 'REPLICA_REMOVED');
    // The members are undisturbed.
    await c.get(leader).propose(1, setCmd('still', 'ok'));
  } finally {
    await c.closeAll();
  }
});

function fakeReplica(id: number, members: number[], removed: number[]): RemovableReplica & { why: string[] } {
  const m = emptyMembership();
  const why: string[] = [];
  return {
    shardId: 1, replicaId: id, removed: false, why,
    rsm: { membership: { ...m, voters: new Map(members.map((x) => [x, `a${x}`])), removed: new Set(removed) } },
    markRemoved: (w) => { why.push(w); },
  };
}

test('notices: answered at most once a second per removed replica; trusted only from a member', () => {
  let now = 0;
  const sent: Message[] = [];
  const n = new RemovalNotices((m) => sent.push(m), () => now);
  const member = fakeReplica(1, [1, 2], [3]);
  const vote = (from: number): Message => message({ type: MessageType.RequestPreVote, shardId: 1, from, to: 1 });
  assert.equal(n.admit(member, vote(2)), true, 'a member\'s message passes');
  assert.equal(n.admit(member, vote(3)), false, 'a removed replica\'s message is dropped');
  assert.equal(n.admit(member, vote(3)), false);
  assert.equal(sent.length, 1);
  assert.deepEqual([sent[0]?.type, sent[0]?.to, sent[0]?.from], [MessageType.ReplicaRemoved, 3, 1]);
  now = 1000;
  n.admit(member, vote(3));
  assert.equal(sent.length, 2);

  const removedOne = fakeReplica(3, [1, 2, 3], []);
  const notice = (from: number, to = 3): Message => message({ type: MessageType.ReplicaRemoved, shardId: 1, from, to });
  assert.equal(n.admit(removedOne, notice(9)), false);
  assert.deepEqual(removedOne.why, [], 'a non-member\'s notice is ignored');
  assert.equal(n.admit(removedOne, notice(1, 4)), false);
  assert.deepEqual(removedOne.why, [], 'a notice for another replica id is ignored');
  n.admit(removedOne, notice(1));
  assert.deepEqual(removedOne.why, ['replica 1 reports it']);
});
