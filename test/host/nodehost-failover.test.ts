/**
 * Requests across leader changes (issue #14 §3): made while the shard has no leader they wait
 * for one instead of failing with DROPPED; a proposal forwarded to a leader that is lost is
 * re-forwarded once it provably cannot commit, and completes exactly once; one that may still
 * commit is waited for, never proposed a second time. In-memory network, WAL on files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { rejectsWith } from './support/assert.js';
import { setCmd } from './support/kv.js';
import { DroppedError, TimeoutError } from '../../src/errors.js';

function count(xs: readonly string[], x: string): number {
  return xs.filter((y) => y === x).length;
}

function lastIndex(c: HostCluster, host: number, shard = 1): number {
  return c.get(host).getNodeHostInfo().shards.find((s) => s.shardId === shard)?.lastLogIndex ?? 0;
}

test('propose, read and a membership change made right after startReplica wait for the first leader', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    // One replica, as in the README's example: no leader yet when propose is called.
    await c.start(1);
    await c.startShard(1, [1]);
    const r = await c.get(1).propose(1, setCmd('solo', 'x'), { timeoutMs: 3000 });
    assert.equal(r.value, 1);
    // Three replicas: every host proposes and reads before any leader exists.
    for (const i of [2, 3, 4]) await c.start(i);
    await c.startShard(2, [2, 3, 4]);
    const writes = [2, 3, 4].map((i) => c.get(i).propose(2, setCmd(`k${i}`, `v${i}`), { timeoutMs: 4000 }));
    const reads = [2, 3, 4].map((i) => c.get(i).read(2, 'nothing', { timeoutMs: 4000 }));
    const change = c.get(3).requestAddNonVoting(2, 9, c.address(9), { timeoutMs: 4000 });
    await Promise.all([...writes, ...reads, change]);
    for (const i of [2, 3, 4]) assert.equal(await c.get(i).read(2, `k${i}`, { timeoutMs: 3000 }), `v${i}`);
    assert.deepEqual([...(await c.get(2).getShardMembership(2)).nonVoting.keys()], [9]);
  } finally {
    await c.closeAll();
  }
});

test('a proposal and a read forwarded to a leader that is cut off complete under the next leader, the write exactly once', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    await c.get(leader).propose(1, setCmd('warm', 'up'));
    const [f, g] = [1, 2, 3].filter((i) => i !== leader) as [number, number];
    // The leader still hears the followers, but nothing it sends arrives: it takes the
    // forwarded proposal into its log and can never replicate it (as if killed right after).
    c.network.blockOneWay(c.address(leader), c.address(f));
    c.network.blockOneWay(c.address(leader), c.address(g));
    const t0 = Date.now();
    const write = c.get(f).propose(1, setCmd('failover', 'v'), { timeoutMs: 3000 });
    const read = c.get(f).read(1, 'warm', { timeoutMs: 3000 });
    const r = await write;
    assert.equal(await read, 'up');
    const took = Date.now() - t0;
    const info = c.get(f).getNodeHostInfo().shards[0];
    assert.ok(info !== undefined && info.leaderId !== leader, 'a new leader took over');
    assert.ok(took < 3000, `completed in ${took} ms`);
    assert.ok(r.value >= 2);
    assert.ok((c.get(f).getStats().shards[0]?.proposalsReforwarded ?? 0) >= 1, 'the proposal was re-forwarded');
    // Heal: the old leader's copy of the entry (of its term) is replaced, never applied.
    c.network.heal();
    await c.get(f).propose(1, setCmd('after', 'heal'), { timeoutMs: 3000 });
    await c.until(() => [1, 2, 3].every((i) => c.sm(i, 1).map.get('after') === 'heal'), 5000, 'every host caught up');
    for (const i of [1, 2, 3]) assert.equal(count(c.sm(i, 1).commands, 'set failover v'), 1, `host ${i} applied it once`);
  } finally {
    await c.closeAll();
  }
});

test('a proposal that reached a follower\'s log before its leader was lost is committed by the next leader, not proposed twice', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    await c.get(leader).propose(1, setCmd('warm', 'up'));
    const [f, g] = [1, 2, 3].filter((i) => i !== leader) as [number, number];
    // The entry reaches g's log but the leader never hears g's acknowledgement (no commit), and
    // f never receives it: after the leader is lost, only g can win, and g's log has the entry.
    c.network.blockOneWay(c.address(leader), c.address(f));
    c.network.blockOneWay(c.address(g), c.address(leader));
    const before = lastIndex(c, g);
    const write = c.get(f).propose(1, setCmd('maybe', 'once'), { timeoutMs: 4000 });
    await c.until(() => lastIndex(c, g) > before, 3000, 'the entry in g\'s log');
    c.network.isolate(c.address(leader));
    const r = await write;
    assert.ok(r.value >= 2);
    assert.equal(c.get(f).getStats().shards[0]?.proposalsReforwarded, 0, 'it was waited for, not re-forwarded');
    c.network.heal();
    await c.get(f).propose(1, setCmd('after', 'heal'), { timeoutMs: 3000 });
    await c.until(() => [1, 2, 3].every((i) => c.sm(i, 1).map.get('after') === 'heal'), 5000, 'every host caught up');
    for (const i of [1, 2, 3]) assert.equal(count(c.sm(i, 1).commands, 'set maybe once'), 1, `host ${i} applied it once`);
  } finally {
    await c.closeAll();
  }
});

test('with no leader to be had, a proposal, a read and a membership change wait out their deadline, then fail with DROPPED (never appended)', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    // One of three members: it can never win an election.
    await c.start(1);
    await c.startShard(1, [1], { members: [1, 2, 3] });
    const t0 = Date.now();
    await Promise.all([
      rejectsWith(c.get(1).propose(1, setCmd('k', 'v'), { timeoutMs: 400 }), DroppedError, 'DROPPED'),
      rejectsWith(c.get(1).read(1, 'k', { timeoutMs: 400 }), DroppedError, 'DROPPED'),
      rejectsWith(c.get(1).requestAddNonVoting(1, 9, c.address(9), { timeoutMs: 400 }), DroppedError, 'DROPPED'),
    ]);
    assert.ok(Date.now() - t0 >= 380, 'they waited for a leader until their deadline');
    assert.equal(c.sm(1, 1).commands.length, 0);
  } finally {
    await c.closeAll();
  }
});

test('a follower restarted from a snapshot of its last entry, on an idle shard, takes a membership change', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const f = [1, 2, 3].find((i) => i !== leader) as number;
    await c.get(f).propose(1, setCmd('a', '1'));
    await c.get(f).readIndex(1);
    await c.get(f).requestSnapshot(1);
    await c.crash(f);
    await c.start(f);
    await c.startShard(1, [f], { members: [] });
    await c.waitLeader(1, [1, 2, 3]);
    // Nothing new is applied on f: the entry of the current term it holds is in its snapshot.
    await c.get(f).requestAddNonVoting(1, 9, c.address(9), { timeoutMs: 3000 });
    assert.deepEqual([...(await c.get(leader).getShardMembership(1)).nonVoting.keys()], [9]);
  } finally {
    await c.closeAll();
  }
});

test('a proposal whose entry the proposer only receives inside a snapshot is never re-forwarded: TIMEOUT, applied once', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3], { config: { snapshotEntries: 5, compactionOverhead: 0 } });
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const [f, g] = [1, 2, 3].filter((i) => i !== leader) as [number, number];
    await c.get(f).propose(1, setCmd('warm', 'up'));
    // f's proposal reaches the leader, which commits it with g; f receives nothing.
    c.network.blockOneWay(c.address(leader), c.address(f));
    const p = c.get(f).propose(1, setCmd('inside', 'snapshot'), { timeoutMs: 4000 }).then(() => 'applied', (e: unknown) => e);
    await c.until(() => c.sm(g, 1).map.get('inside') === 'snapshot', 3000, 'the proposal committed on g');
    for (let k = 0; k < 12; k++) await c.get(leader).propose(1, setCmd(`fill${k}`, 'x'));
    // The leader's log is compacted past it: f catches up from a snapshot of this term.
    const snapIndex = (): number => c.get(leader).getNodeHostInfo().shards[0]?.snapshotIndex ?? 0;
    await c.until(() => snapIndex() > 0, 3000, 'a snapshot on the leader');
    c.network.heal();
    await c.until(() => c.sm(f, 1).map.get('fill11') === 'x', 5000, 'f caught up');
    assert.ok((c.get(f).getStats().shards[0]?.snapshotsReceived ?? 0) >= 1, 'f received a snapshot');
    // A leader change: f applies an entry of a later term while the proposal still waits.
    c.network.isolate(c.address(leader));
    await c.waitLeader(1, [f, g], 5000);
    c.network.heal();
    await c.get(f).propose(1, setCmd('after', 'change'), { timeoutMs: 3000 });
    const outcome = await p;
    assert.ok(outcome instanceof TimeoutError, `the outcome is unknown on f: ${String(outcome)}`);
    assert.equal(c.get(f).getStats().shards[0]?.proposalsReforwarded, 0);
    await c.until(() => [1, 2, 3].every((i) => c.sm(i, 1).map.get('after') === 'change'), 5000, 'every host caught up');
    for (const i of [1, 2, 3]) assert.ok(count(c.sm(i, 1).commands, 'set inside snapshot') <= 1, `host ${i} applied it at most once`);
    assert.equal(count(c.sm(g, 1).commands, 'set inside snapshot'), 1);
  } finally {
    await c.closeAll();
  }
});
