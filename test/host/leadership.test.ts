/**
 * Leader transfers callers can wait for, drain(), and close() handing leadership over first
 * (issue 16 §2): three hosts on the in-memory network.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { retryDropped } from './support/assert.js';
import { setCmd } from './support/kv.js';
import { InvalidOptionError, RejectedError } from '../../src/errors.js';

test('requestLeaderTransfer without a target moves leadership to the most up-to-date follower and resolves once it leads', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    await retryDropped(() => c.get(leader).propose(1, setCmd('a', '1')));
    await c.get(leader).requestLeaderTransfer(1, 0, { timeoutMs: 3000 });
    const now = c.get(leader).getLeaderId(1);
    assert.ok(now.valid && now.leaderId !== leader, 'leadership left the old leader');
    assert.equal(c.leaderOf(1), now.leaderId, 'and the new leader knows it leads');
    // On a follower, naming no target is refused: only the leader can pick.
    const follower = [1, 2, 3].find((i) => i !== now.leaderId) as number;
    await assert.rejects(c.get(follower).requestLeaderTransfer(1), InvalidOptionError);
    // Asked on a follower, a named target: forwarded to the leader, resolves when it leads.
    await c.get(follower).requestLeaderTransfer(1, follower, { timeoutMs: 3000 });
    assert.equal(c.leaderOf(1), follower);
  } finally {
    await c.closeAll();
  }
});

test('a transfer to a replica that cannot take over is abandoned with RejectedError', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const gone = [1, 2, 3].find((i) => i !== leader) as number;
    await c.crash(gone);
    await assert.rejects(c.get(leader).requestLeaderTransfer(1, gone, { timeoutMs: 5000 }), RejectedError);
    assert.equal(c.leaderOf(1), leader, 'the leader kept leading');
    await retryDropped(() => c.get(leader).propose(1, setCmd('b', '2')));
  } finally {
    await c.closeAll();
  }
});

test('drain() hands over every shard this host leads; close() drains first, so a leader exists the moment it returns', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const shards = [1, 2, 3, 4];
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    for (const s of shards) await c.startShard(s, [1, 2, 3]);
    for (const s of shards) await c.waitLeader(s, [1, 2, 3]);
    // Move every leadership to host 1, then drain it.
    for (const s of shards) {
      const r = c.get(1).getNodeHostInfo().shards.find((x) => x.shardId === s)!;
      if (!r.isLeader) await c.get(1).requestLeaderTransfer(s, 1, { timeoutMs: 3000 });
    }
    assert.deepEqual(shards.map((s) => c.leaderOf(s)), [1, 1, 1, 1]);
    const res = await c.get(1).drain({ timeoutMs: 3000 });
    assert.deepEqual(res, { transferred: shards, kept: [] });
    assert.ok(shards.every((s) => c.leaderOf(s) !== 1 && c.leaderOf(s) !== 0));

    // close() of a leader: the other replicas lead at once (no election timeout to wait).
    const l1 = c.leaderOf(1);
    const h = c.get(l1);
    c.hosts.delete(l1);
    await h.close();
    const others = [1, 2, 3].filter((i) => i !== l1);
    assert.ok(others.includes(c.leaderOf(1)), `a leader among ${others.join(',')} as close() returns`);
    await retryDropped(() => c.get(others[0]!).propose(1, setCmd('after', 'close')));
  } finally {
    await c.closeAll();
  }
});
