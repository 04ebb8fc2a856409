/**
 * The host's edges: config validation, directory ownership, unknown and duplicate shards,
 * closing with requests in flight, timeouts, AbortSignal, and request latency on a
 * single-replica shard.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ClosedError, InvalidOperationError, InvalidOptionError, SampanError, ShardAlreadyExistsError, ShardNotFoundError,
  TimeoutError,
} from '../../src/errors.js';
import { NodeHost } from '../../src/host/nodehost.js';
import type { NodeHostConfig } from '../../src/host/config.js';
import { rejectsWith, settle } from './support/assert.js';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';

const kv = (): KvStateMachine => new KvStateMachine();

test('bad host configs are refused with InvalidOptionError (INVALID_OPTION)', { timeout: 10000 }, async () => {
  const c = new HostCluster();
  try {
    const base: NodeHostConfig = { nodeHostDir: join(c.dir, 'bad'), raftAddress: '127.0.0.1:7000' };
    const bad: Array<Partial<NodeHostConfig>> = [
      { raftAddress: 'localhost' }, { raftAddress: '127.0.0.1:0' }, { raftAddress: '127.0.0.1:70000' },
      { raftAddress: '' }, { raftAddress: 'a b:80' }, { listenAddress: 'nowhere' }, { nodeHostDir: '' },
      { rttMillisecond: 0 }, { rttMillisecond: 1.5 }, { deploymentId: -1 }, { maxPendingPerShard: 0 },
      { tls: { caFile: 'ca.pem', certFile: '', keyFile: 'key.pem' } },
    ];
    for (const b of bad) {
      await rejectsWith(NodeHost.create({ ...base, ...b }), InvalidOptionError, 'INVALID_OPTION');
    }
    // None of the refusals left a lock behind.
    const nh = await c.start(1, { nodeHostDir: base.nodeHostDir, raftAddress: c.address(1) });
    await nh.close();
  } finally {
    await c.closeAll();
  }
});

test('bad shard configs and start arguments are refused, and leave nothing behind', { timeout: 10000 }, async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    const m = c.members([1]);
    const badStarts: Array<() => Promise<void>> = [
      () => nh.startReplica(m, false, kv, { shardId: 1, replicaId: 1, electionRTT: 2, heartbeatRTT: 1 }),
      () => nh.startReplica(m, false, kv, { shardId: 1, replicaId: 1, electionRTT: 4, heartbeatRTT: 2 }),
      () => nh.startReplica(m, false, kv, { shardId: 1, replicaId: 1, heartbeatRTT: 0 }),
      () => nh.startReplica(m, false, kv, { shardId: 0, replicaId: 1 }),
      () => nh.startReplica(m, false, kv, { shardId: 1, replicaId: 0 }),
      () => nh.startReplica(m, false, kv, { shardId: 1, replicaId: 1, isNonVoting: true, isWitness: true }),
      // a compression sampan does not implement (it used to be accepted and write Snappy)
      () => nh.startReplica(m, false, kv, { shardId: 1, replicaId: 1, snapshotCompression: 'lz4' as 'snappy' }),
      // missing initial members for a replica with no data
      () => nh.startReplica(new Map(), false, kv, { shardId: 1, replicaId: 1 }),
      // join with initial members
      () => nh.startReplica(m, true, kv, { shardId: 1, replicaId: 1 }),
      // initial members without this replica, with a bad address, with a bad id
      () => nh.startReplica(c.members([2, 3]), false, kv, { shardId: 1, replicaId: 1 }),
      () => nh.startReplica(new Map([[1, 'not-an-address']]), false, kv, { shardId: 1, replicaId: 1 }),
      () => nh.startReplica(new Map([[0, c.address(1)], [1, c.address(1)]]), false, kv, { shardId: 1, replicaId: 1 }),
    ];
    for (const [k, start] of badStarts.entries()) {
      const e = await settle(start());
      assert.ok(!e.ok && e.error instanceof InvalidOptionError, `bad start #${k}: expected InvalidOptionError, got ${e.ok ? 'success' : String(e.error)}`);
      assert.equal(e.error.code, 'INVALID_OPTION');
    }
    assert.equal(nh.getNodeHostInfo().shards.length, 0);
    // The refused starts saved nothing: the shard starts cleanly now and works.
    await c.startShard(1, [1]);
    await c.waitLeader(1, [1]);
    await nh.propose(1, setCmd('a', 'b'));
    assert.equal(await nh.read(1, 'a'), 'b');
  } finally {
    await c.closeAll();
  }
});

test('a host directory is owned by one live host of one deployment; another address is the same host moved', { timeout: 10000 }, async () => {
  const c = new HostCluster();
  try {
    const first = await c.start(1);
    // A second host on the same directory, while the first runs.
    await rejectsWith(c.start(1), InvalidOperationError, 'INVALID_OPERATION');
    // The refusal did not take the lock away: the first host still works.
    await c.startShard(1, [1]);
    await c.waitLeader(1, [1]);
    await first.propose(1, setCmd('a', 'b'));
    const hostId = first.getNodeHostInfo().nodeHostId;
    await first.close();
    // The same directory with another deployment id is refused even when free.
    await rejectsWith(c.start(1, { deploymentId: 42 }), InvalidOptionError, 'INVALID_OPTION');
    // Another raft address is a move: accepted, the same host (docs/operations.md).
    const moved = await c.start(1, { raftAddress: c.address(9) });
    assert.equal(moved.getNodeHostInfo().nodeHostId, hostId);
    await moved.close();
    // With its own identity, it opens again and finds its data.
    const again = await c.start(1);
    await c.startShard(1, [1], { members: [] });
    await c.waitLeader(1, [1]);
    assert.equal(await again.read(1, 'a'), 'b');
  } finally {
    await c.closeAll();
  }
});

test('unknown shards fail with ShardNotFoundError; a second start of a shard with ShardAlreadyExistsError', { timeout: 10000 }, async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    await c.startShard(1, [1]);
    await c.waitLeader(1, [1]);
    const calls: Array<() => unknown> = [
      () => nh.propose(7, setCmd('a', 'b')), () => nh.read(7, 'a'), () => nh.readIndex(7), () => nh.readLocal(7, 'a'),
      () => nh.staleRead(7, 'a'), () => nh.getLeaderId(7), () => nh.getShardMembership(7), () => nh.getNewSession(7),
      () => nh.requestAddReplica(7, 2, c.address(2)), () => nh.requestAddNonVoting(7, 2, c.address(2)),
      () => nh.requestAddWitness(7, 2, c.address(2)), () => nh.requestDeleteReplica(7, 2),
      () => nh.requestLeaderTransfer(7, 1), () => nh.stopShard(7), () => nh.stopReplica(7, 1),
      () => nh.stopReplica(1, 2), // shard 1 runs here, but not as replica 2
    ];
    for (const call of calls) await rejectsWith(call, ShardNotFoundError, 'SHARD_NOT_FOUND');

    await rejectsWith(nh.startReplica(c.members([1]), false, kv, { shardId: 1, replicaId: 1 }), ShardAlreadyExistsError, 'SHARD_ALREADY_EXISTS');
    await rejectsWith(nh.startReplica(new Map(), true, kv, { shardId: 1, replicaId: 5 }), ShardAlreadyExistsError, 'SHARD_ALREADY_EXISTS');
    // The running replica is untouched.
    await nh.propose(1, setCmd('still', 'here'));

    // removeData: refused while the replica runs; after a stop, the data is gone for good.
    await rejectsWith(nh.removeData(1, 1), InvalidOperationError, 'INVALID_OPERATION');
    await nh.stopReplica(1, 1);
    await nh.removeData(1, 1);
    await rejectsWith(nh.startReplica(new Map(), false, kv, { shardId: 1, replicaId: 1 }), InvalidOptionError, 'INVALID_OPTION');
  } finally {
    await c.closeAll();
  }
});

/** Three hosts with shard 1 (check-quorum off, so the leader keeps leading alone); returns the leader's host id after the other two are closed. */
async function leaderWithoutQuorum(c: HostCluster): Promise<number> {
  for (const i of [1, 2, 3]) await c.start(i);
  await c.startShard(1, [1, 2, 3], { config: { checkQuorum: false } });
  const leader = await c.waitLeader(1, [1, 2, 3]);
  await c.get(leader).propose(1, setCmd('warm', 'up'));
  for (const i of [1, 2, 3]) if (i !== leader) await c.crash(i);
  return leader;
}

test('closing a host fails its in-flight requests (ClosedError; TIMEOUT for writes already in the log); close is idempotent', { timeout: 10000 }, async () => {
  const c = new HostCluster();
  try {
    const leader = await leaderWithoutQuorum(c);
    const nh = c.get(leader);
    const inFlight = [
      nh.propose(1, setCmd('p1', 'x')), nh.propose(1, setCmd('p2', 'x')), nh.read(1, 'warm'), nh.readIndex(1),
      nh.requestAddNonVoting(1, 9, c.address(9)),
    ];
    const settled = inFlight.map((p) => settle(p));
    await new Promise((r) => setTimeout(r, 30));
    const first = nh.close();
    const second = nh.close();
    await Promise.all([first, second]);
    await nh.close();
    // The writes were appended to the leader's log (they could commit after a restart): outcome
    // unknown, TIMEOUT with the closing as its cause. The reads fail plainly.
    for (const [k, p] of settled.entries()) {
      const r = await p;
      const write = k === 0 || k === 1 || k === 4;
      assert.ok(!r.ok && r.error instanceof (write ? TimeoutError : ClosedError), `request #${k}: got ${r.ok ? 'success' : String(r.error)}`);
      assert.equal(r.error.code, write ? 'TIMEOUT' : 'CLOSED');
      if (write) assert.ok(r.error.cause instanceof ClosedError);
    }
    // Every call on a closed host fails the same way.
    await rejectsWith(nh.propose(1, setCmd('a', 'b')), ClosedError, 'CLOSED');
    await rejectsWith(nh.read(1, 'a'), ClosedError, 'CLOSED');
    await rejectsWith(() => nh.getLeaderId(1), ClosedError, 'CLOSED');
    await rejectsWith(nh.startReplica(c.members([1]), false, kv, { shardId: 2, replicaId: 1 }), ClosedError, 'CLOSED');
    // The directory was released.
    c.hosts.delete(leader);
    await c.start(leader);
  } finally {
    await c.closeAll();
  }
});

test('without a quorum requests time out (TimeoutError); the wait ends, the entry may still commit later', { timeout: 10000 }, async () => {
  const c = new HostCluster();
  try {
    const leader = await leaderWithoutQuorum(c);
    const nh = c.get(leader);
    let t = Date.now();
    await rejectsWith(nh.propose(1, setCmd('late', 'yes'), { timeoutMs: 150 }), TimeoutError, 'TIMEOUT');
    let waited = Date.now() - t;
    assert.ok(waited >= 140 && waited < 1500, `waited ${waited} ms for a 150 ms timeout`);
    t = Date.now();
    await rejectsWith(nh.read(1, 'warm', { timeoutMs: 100 }), TimeoutError, 'TIMEOUT');
    waited = Date.now() - t;
    assert.ok(waited >= 90 && waited < 1500, `waited ${waited} ms for a 100 ms timeout`);
    // A follower comes back: the timed-out proposal, still in the leader's log, commits.
    const back = [1, 2, 3].find((i) => i !== leader) as number;
    await c.start(back);
    await c.startShard(1, [back], { members: [] });
    await c.until(() => c.sm(leader, 1).map.get('late') === 'yes', 5000, 'the timed-out entry commits once a quorum is back');
  } finally {
    await c.closeAll();
  }
});

test('an AbortSignal ends the wait at once; an aborted signal is refused before anything is proposed', { timeout: 10000 }, async () => {
  const c = new HostCluster();
  try {
    const leader = await leaderWithoutQuorum(c);
    const nh = c.get(leader);
    const ac = new AbortController();
    const reason = new Error('user gave up');
    const t = Date.now();
    const p = nh.propose(1, setCmd('a', 'b'), { signal: ac.signal, timeoutMs: 5000 });
    setTimeout(() => ac.abort(reason), 30);
    const e = await rejectsWith(p, TimeoutError, 'TIMEOUT');
    assert.ok(Date.now() - t < 1000, 'the abort ended the wait');
    assert.equal(e.cause, reason);
    await rejectsWith(nh.read(1, 'a', { signal: AbortSignal.timeout(30) }), TimeoutError, 'TIMEOUT');

    const before = nh.getNodeHostInfo().shards[0]?.lastLogIndex;
    for (const call of [
      () => nh.propose(1, setCmd('x', 'y'), { signal: ac.signal }), () => nh.read(1, 'x', { signal: ac.signal }),
      () => nh.requestAddReplica(1, 9, c.address(9), { signal: ac.signal }), () => nh.getNewSession(1, { signal: ac.signal }),
    ]) {
      const err = await rejectsWith(call, SampanError, 'TIMEOUT');
      assert.equal(err.cause, reason);
    }
    assert.equal(nh.getNodeHostInfo().shards[0]?.lastLogIndex, before, 'nothing was proposed');
  } finally {
    await c.closeAll();
  }
});

test('a single-replica shard commits without waiting for a tick', { timeout: 10000 }, async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1, { rttMillisecond: 100 });
    await c.startShard(1, [1]);
    await c.waitLeader(1, [1]);
    await nh.propose(1, setCmd('warm', 'up'));
    const t = Date.now();
    for (let k = 0; k < 10; k++) await nh.propose(1, setCmd(`k${k}`, 'v'));
    const ms = Date.now() - t;
    // Ten proposals each waiting for the next 100 ms tick would take about a second.
    assert.ok(ms < 500, `10 sequential proposals took ${ms} ms`);
  } finally {
    await c.closeAll();
  }
});
