/**
 * Moving a replica to another host (`NodeHost.moveReplica`): add as non-voting, catch up,
 * promote, remove the old one; moving the leader hands leadership over first; an interrupted
 * move resumes from the membership; caller mistakes are refused before anything changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidOptionError, NotLeaderError, ReplicaNotFoundError, TimeoutError } from '../../src/errors.js';
import { rejectsWith } from './support/assert.js';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';

const ids = (m: ReadonlyMap<number, string>): number[] => [...m.keys()].sort((a, b) => a - b);

async function threeWithSpare(c: HostCluster, spare: readonly number[], writes = 20): Promise<number> {
  for (const i of [1, 2, 3, ...spare]) await c.start(i);
  await c.startShard(1, [1, 2, 3]);
  const leader = await c.waitLeader(1, [1, 2, 3]);
  for (let k = 0; k < writes; k++) await c.get(leader).propose(1, setCmd(`k${k}`, String(k)));
  return leader;
}

test('a follower moves to a fourth host: added, caught up, promoted, removed; the new voter has every write', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    const leader = await threeWithSpare(c, [4]);
    const from = [1, 2, 3].find((i) => i !== leader) as number;
    // What the leader knew of replica 4 when each change applied there.
    let commitAtAdd = -1;
    let matchAtPromote = -1;
    c.get(leader).on('membership:changed', ({ membership }) => {
      const info = c.get(leader).getNodeHostInfo().shards[0];
      if (membership.nonVoting.has(4) && commitAtAdd < 0) commitAtAdd = info?.commitIndex ?? -1;
      if (membership.voters.has(4) && matchAtPromote < 0) matchAtPromote = info?.followers.find((f) => f.replicaId === 4)?.match ?? -1;
    });
    const moving = c.get(leader).moveReplica(1, from, { replicaId: 4, address: c.address(4) });
    // The new replica starts a little later, as an operator's would: the move waits for it.
    await new Promise((r) => setTimeout(r, 300));
    await c.startShard(1, [4], { join: true });
    const res = await moving;
    assert.deepEqual(res.steps, ['added', 'promoted', 'removed']);
    assert.ok(commitAtAdd > 20, `commit at the add: ${commitAtAdd}`);
    assert.ok(matchAtPromote >= commitAtAdd, `replica 4 had ${matchAtPromote} entries at its promotion, ${commitAtAdd} were committed`);
    const m = await c.get(leader).getShardMembership(1);
    assert.deepEqual(ids(m.voters), [1, 2, 3, 4].filter((i) => i !== from));
    assert.ok(m.removed.has(from));
    assert.equal(c.sm(4, 1).map.size, 20, 'the new voter caught up before the old one left');
    // The shard commits with the new voter: with one other original down, 4 is needed for a quorum.
    const other = [1, 2, 3].find((i) => i !== leader && i !== from) as number;
    await c.crash(other);
    await c.get(leader).propose(1, setCmd('after', 'move'), { timeoutMs: 3000 });
    assert.equal(await c.get(4).read(1, 'after'), 'move');
  } finally {
    await c.closeAll();
  }
});

test('moving the leader hands leadership to the new voter before removing the old one', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    const leader = await threeWithSpare(c, [4], 5);
    await c.startShard(1, [4], { join: true });
    const res = await c.get(leader).moveReplica(1, leader, { replicaId: 4, address: c.address(4) });
    assert.deepEqual(res.steps, ['added', 'promoted', 'transferred', 'removed']);
    const rest = [1, 2, 3, 4].filter((i) => i !== leader);
    assert.equal(await c.waitLeader(1, rest), 4);
    assert.deepEqual(ids((await c.get(4).getShardMembership(1)).voters), rest);
    await c.get(4).propose(1, setCmd('x', 'y'));
    assert.equal(c.sm(4, 1).map.get('x'), 'y');
  } finally {
    await c.closeAll();
  }
});

test('an interrupted move resumes from the membership, and a finished one is a no-op', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    const leader = await threeWithSpare(c, [4, 5]);
    const [a, b] = [1, 2, 3].filter((i) => i !== leader) as [number, number];
    await c.startShard(1, [4], { join: true });
    await c.startShard(1, [5], { join: true });
    // A move that stopped after its first step (a crash of the caller).
    await c.get(leader).requestAddNonVoting(1, 4, c.address(4));
    assert.deepEqual((await c.get(leader).moveReplica(1, a, { replicaId: 4, address: c.address(4) })).steps, ['promoted', 'removed']);
    assert.deepEqual((await c.get(leader).moveReplica(1, a, { replicaId: 4, address: c.address(4) })).steps, []);
    // One that stopped after the promotion: only the removal is left, and it needs no leader here.
    await c.get(leader).requestAddNonVoting(1, 5, c.address(5));
    await c.until(() => c.sm(5, 1).map.size === 20, 5000, 'replica 5 catches up');
    await c.get(leader).requestAddReplica(1, 5, c.address(5));
    assert.deepEqual((await c.get(b).moveReplica(1, b, { replicaId: 5, address: c.address(5) })).steps, ['removed']);
    assert.deepEqual(ids((await c.get(leader).getShardMembership(1)).voters), [leader, 4, 5].sort((x, y) => x - y));
  } finally {
    await c.closeAll();
  }
});

test('the catch-up step runs on the leader; a new replica that never starts times out, naming the likely cause', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    const leader = await threeWithSpare(c, [4], 3);
    const follower = [1, 2, 3].find((i) => i !== leader) as number;
    const e = await rejectsWith(c.get(follower).moveReplica(1, follower, { replicaId: 4, address: c.address(4) }), NotLeaderError, 'NOT_LEADER');
    assert.equal(e.leaderId, leader);
    // The add was applied before the refusal; on the leader, with replica 4 never started, the wait ends at the deadline.
    const t = await rejectsWith(c.get(leader).moveReplica(1, follower, { replicaId: 4, address: c.address(4) }, { timeoutMs: 600 }),
      TimeoutError, 'TIMEOUT');
    assert.match(t.message, /did not catch up .*is it started/);
    const m = await c.get(leader).getShardMembership(1);
    assert.deepEqual(ids(m.voters), [1, 2, 3], 'nothing promoted or removed');
    assert.deepEqual(ids(m.nonVoting), [4]);
  } finally {
    await c.closeAll();
  }
});

test('caller mistakes are refused before the membership changes', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    const leader = await threeWithSpare(c, [], 1);
    const nh = c.get(leader);
    const other = [1, 2, 3].find((i) => i !== leader) as number;
    await rejectsWith(nh.moveReplica(1, other, { replicaId: other, address: c.address(4) }), InvalidOptionError, 'INVALID_OPTION');
    await rejectsWith(nh.moveReplica(1, 9, { replicaId: 4, address: c.address(4) }), ReplicaNotFoundError, 'REPLICA_NOT_FOUND');
    await rejectsWith(nh.moveReplica(1, other, { replicaId: 0, address: c.address(4) }), InvalidOptionError, 'INVALID_OPTION');
    // The new id names an existing member at another address.
    const third = [1, 2, 3].find((i) => i !== leader && i !== other) as number;
    await rejectsWith(nh.moveReplica(1, other, { replicaId: third, address: c.address(4) }), InvalidOptionError, 'INVALID_OPTION');
    // Moving onto the address the replica already has.
    await rejectsWith(nh.moveReplica(1, other, { replicaId: 4, address: c.address(other) }), InvalidOptionError, 'INVALID_OPTION');
    const m = await nh.getShardMembership(1);
    assert.deepEqual(ids(m.voters), [1, 2, 3]);
    assert.equal(m.nonVoting.size, 0);
  } finally {
    await c.closeAll();
  }
});
