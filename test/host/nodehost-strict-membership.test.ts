/**
 * The leader's live-quorum check through real NodeHosts (`src/core/live-quorum.ts`): a voter
 * add that would leave the shard without a quorum of live voters fails with
 * NotEnoughLiveVotersError — whether asked on the leader or on a follower — nothing is
 * appended, the shard goes on serving, and `catchUpFirst` (or `force`) still grows it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotEnoughLiveVotersError, RejectedError } from '../../src/errors.js';
import { rejectsWith } from './support/assert.js';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';
import type { ShardConfig } from '../../src/host/config.js';

const ids = (m: ReadonlyMap<number, string>): number[] => [...m.keys()].sort((a, b) => a - b);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** More than an election timeout (10 ticks of 20 ms): the leader no longer counts a crashed host live. */
const PAST_ELECTION_MS = 400;

/** Shard 1 with one voter on host 1 (elected), and replica 2 started on host 2 to join it. */
async function loneVoterAndJoiner(c: HostCluster, config: Partial<ShardConfig> = {}): Promise<void> {
  for (const i of [1, 2]) await c.start(i);
  await c.startShard(1, [1], { config });
  await c.waitLeader(1, [1]);
  await c.startShard(1, [2], { join: true, config });
}

test('3 voters, one host closed: adding a voter that never starts is refused on the leader and on a follower; catchUpFirst still adds one', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3, 4]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const [down, follower] = [1, 2, 3].filter((i) => i !== leader) as [number, number];
    await c.crash(down);
    await sleep(PAST_ELECTION_MS);
    const before = c.applied(leader, 1);
    for (const via of [leader, follower]) {
      const e = await rejectsWith(c.get(via).requestAddReplica(1, 9, '127.0.0.1:29999', { timeoutMs: 5000 }), NotEnoughLiveVotersError, 'NOT_ENOUGH_LIVE_VOTERS');
      assert.ok(e instanceof RejectedError, 'a kind of RejectedError');
      assert.equal(e.message, 'adding voter 9 to shard 1 would leave 2 of 4 voters live, below the quorum of 3: add it as non-voting, '
        + 'start it and promote it once caught up (requestAddReplica with catchUpFirst does this), start the stopped voters, or force the change');
      assert.deepEqual([e.live, e.voters, e.quorum, e.shardId], [2, 4, 3, 1]);
    }
    // Nothing was appended, and the shard serves.
    assert.equal(c.applied(leader, 1), before);
    await c.get(follower).propose(1, setCmd('after', 'yes'), { timeoutMs: 3000 });
    assert.deepEqual(ids((await c.get(follower).getShardMembership(1)).voters), [1, 2, 3]);
    // The safe path: replica 4 runs, joins as non-voting, catches up, then is promoted.
    await c.startShard(1, [4], { join: true });
    await c.get(leader).requestAddReplica(1, 4, c.address(4), { catchUpFirst: true, timeoutMs: 10000 });
    assert.deepEqual(ids((await c.get(leader).getShardMembership(1)).voters), [1, 2, 3, 4]);
    await c.get(leader).propose(1, setCmd('grown', 'yes'), { timeoutMs: 3000 });
  } finally {
    await c.closeAll();
  }
});

test('a one-voter shard refuses a plain voter add (even of a running replica) unless forced; the lone voter still leads', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    await loneVoterAndJoiner(c);
    await sleep(PAST_ELECTION_MS);
    await rejectsWith(c.get(1).requestAddReplica(1, 2, c.address(2), { timeoutMs: 5000 }), NotEnoughLiveVotersError, 'NOT_ENOUGH_LIVE_VOTERS');
    assert.equal(c.get(1).getLeaderId(1).leaderId, 1, 'still leads');
    await c.get(1).propose(1, setCmd('k', 'v'), { timeoutMs: 3000 });
    // The operator's override: replica 2 runs, so the forced add completes and the pair commits.
    await c.get(1).requestAddReplica(1, 2, c.address(2), { force: true, timeoutMs: 5000 });
    await c.get(1).propose(1, setCmd('k2', 'v2'), { timeoutMs: 5000 });
    await c.until(() => c.sm(2, 1).map.size === 2, 5000, 'replica 2 has both keys');
    assert.deepEqual(ids((await c.get(1).getShardMembership(1)).voters), [1, 2]);
  } finally {
    await c.closeAll();
  }
});

test('strictMembershipCheck: false turns the check off for a shard (etcd --strict-reconfig-check=false)', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    await loneVoterAndJoiner(c, { strictMembershipCheck: false });
    await c.get(1).requestAddReplica(1, 2, c.address(2), { timeoutMs: 5000 });
    assert.deepEqual(ids((await c.get(1).getShardMembership(1)).voters), [1, 2]);
  } finally {
    await c.closeAll();
  }
});
