/**
 * Cluster identity (issue: a cluster never silently forks): replicas bootstrapped with other
 * initial members or another token refuse each other's traffic, both sides say so, and a
 * replica that another cluster lists as a member stops serving. In-memory network, WAL on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { retryDropped } from './support/assert.js';
import { setCmd } from './support/kv.js';
import { ClusterIdentityMismatchError, InvalidOptionError, TimeoutError } from '../../src/errors.js';
import type { NodeHostEvents } from '../../src/host/events.js';
import type { Logger } from '../../src/logger.js';
import { ClusterIdentityGuard, deriveClusterId, formatClusterId, parseClusterId, type IdentityReplica } from '../../src/host/cluster-identity.js';
import { MessageType, message } from '../../src/core/types.js';

type Mismatch = NodeHostEvents['cluster:identity-mismatch'];

/** A logger that keeps every line at warn and above. */
function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (msg: string): void => { lines.push(msg); };
  return { lines, debug: () => {}, info: () => {}, warn: keep, error: keep };
}

function info(c: HostCluster, host: number, shardId = 1) {
  const s = c.get(host).getNodeHostInfo().shards.find((x) => x.shardId === shardId);
  assert.ok(s, `host ${host} runs shard ${shardId}`);
  return s;
}

test('identity: derived from shard, members and token; the same on every initial member', () => {
  const m = new Map([[1, 'a:1'], [2, 'b:2'], [3, 'c:3']]);
  const reordered = new Map([[3, 'c:3'], [1, 'a:1'], [2, 'b:2']]);
  const id = deriveClusterId(1, m, '');
  assert.equal(deriveClusterId(1, reordered, ''), id, 'member order does not matter');
  assert.notEqual(deriveClusterId(2, m, ''), id, 'shard id matters');
  assert.notEqual(deriveClusterId(1, new Map([[3, 'c:3']]), ''), id, 'members matter');
  assert.notEqual(deriveClusterId(1, new Map([[1, 'a:1'], [2, 'b:2'], [3, 'c:4']]), ''), id, 'addresses matter');
  assert.notEqual(deriveClusterId(1, m, 'prod'), id, 'the token matters');
  assert.ok(id > 0 && id < 2 ** 48);
  assert.equal(parseClusterId(formatClusterId(id)), id);
  assert.match(formatClusterId(id), /^[0-9a-f]{12}$/);
  assert.throws(() => parseClusterId('xyz'), InvalidOptionError);
  assert.throws(() => parseClusterId('000000000000'), InvalidOptionError);
});

test('a replica bootstrapped alone beside a three-member cluster is refused, both sides say so, and it stops serving', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const logs = new Map<number, ReturnType<typeof recorder>>();
  const events = new Map<number, Mismatch[]>();
  try {
    for (const i of [1, 2, 3]) {
      const log = recorder();
      logs.set(i, log);
      const nh = await c.start(i, { logger: log });
      const seen: Mismatch[] = [];
      events.set(i, seen);
      nh.on('cluster:identity-mismatch', (e) => seen.push(e));
    }
    await c.startShard(1, [1, 2], { members: [1, 2, 3] });
    // The operator's mistake: replica 3 is given only itself as the initial membership.
    await c.startShard(1, [3], { members: [3] });
    const leader = await c.waitLeader(1, [1, 2]);
    assert.notEqual(info(c, 1).clusterId, info(c, 3).clusterId);
    assert.equal(info(c, 1).clusterId, info(c, 2).clusterId);

    // The leader's heartbeats reach replica 3, which another cluster therefore lists as a member.
    await c.until(() => info(c, 3).identityConflict !== null, 5000, 'replica 3 fenced');
    await assert.rejects(c.get(3).propose(1, setCmd('k', 'from3')), ClusterIdentityMismatchError);
    await assert.rejects(c.get(3).read(1, 'k'), ClusterIdentityMismatchError);
    await assert.rejects(c.get(3).staleRead(1, 'k'), ClusterIdentityMismatchError);
    const line3 = logs.get(3)!.lines.find((l) => l.includes('cluster identity mismatch') && l.includes('stopped serving'));
    assert.ok(line3, 'replica 3 logs the mismatch');
    assert.match(line3, new RegExp(`shard 1: refused a message from replica ${leader} .*cluster ${info(c, 1).clusterId}.* to replica 3 here \\(cluster ${info(c, 3).clusterId}\\)`));
    assert.match(line3, /stopped serving shard 1/);
    assert.ok(events.get(3)!.some((e) => e.direction === 'received' && e.fenced && e.remoteReplicaId === leader));
    assert.ok(info(c, 3).identityMismatches > 0);

    // The other side hears of it through the notice.
    await c.until(() => events.get(leader)!.some((e) => e.direction === 'reported' && e.remoteReplicaId === 3), 5000, 'the leader told');
    const lineL = logs.get(leader)!.lines.find((l) => l.includes('cluster identity mismatch'));
    assert.ok(lineL, 'the leader logs it too');
    assert.match(lineL, /replica 3 at 127\.0\.0\.1:20003 .*refused a message/);
    assert.equal(info(c, leader).identityConflict, null, 'the real cluster keeps serving');

    // The real cluster serves writes; replica 3 never took the leader's entries.
    await retryDropped(() => c.get(1).propose(1, setCmd('k', 'from1')));
    assert.equal(await retryDropped(() => c.get(2).read(1, 'k')), 'from1');
    assert.equal(c.sm(3, 1).map.get('k'), undefined);
    assert.deepEqual([...info(c, 1).membership.voters.keys()].sort(), [1, 2, 3]);
    // One line per peer and identity, not one per message.
    assert.ok(logs.get(3)!.lines.filter((l) => l.includes('cluster identity mismatch')).length <= 4);
  } finally {
    await c.closeAll();
  }
});

test('started after the leader exists, a lone replica never follows it with a membership nobody else holds', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2], { members: [1, 2, 3] });
    await c.waitLeader(1, [1, 2]);
    await retryDropped(() => c.get(1).propose(1, setCmd('a', '1')));
    await c.startShard(1, [3], { members: [3] });
    await c.until(() => info(c, 3).identityConflict !== null, 5000, 'replica 3 fenced');
    const s3 = info(c, 3);
    assert.deepEqual([...s3.membership.voters.keys()], [3], 'replica 3 kept its own membership, took nothing from the leader');
    assert.equal(c.sm(3, 1).map.get('a'), undefined);
  } finally {
    await c.closeAll();
  }
});

test('a member given another cluster token is refused; the two replicas with the same token keep serving', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2], { members: [1, 2, 3], config: { clusterToken: 'blue' } });
    await c.startShard(1, [3], { members: [1, 2, 3], config: { clusterToken: 'green' } });
    await c.waitLeader(1, [1, 2]);
    await c.until(() => info(c, 3).identityConflict !== null, 5000, 'replica 3 fenced');
    // Replica 3's votes requests reached 1 and 2 and were refused, without fencing them.
    await retryDropped(() => c.get(2).propose(1, setCmd('x', 'y')));
    assert.equal(await retryDropped(() => c.get(1).read(1, 'x')), 'y');
    assert.equal(info(c, 1).identityConflict, null);
    assert.equal(info(c, 2).identityConflict, null);
  } finally {
    await c.closeAll();
  }
});

test('a joining replica learns the identity on first contact, keeps it across a restart, and an expected identity is checked', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3, 4]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const id = info(c, 1).clusterId;
    await retryDropped(() => c.get(leader).requestAddNonVoting(1, 4, c.address(4)));
    await c.startShard(1, [4], { join: true, config: { isNonVoting: true } });
    assert.equal(info(c, 4).clusterId, 'unknown');
    await c.until(() => info(c, 4).clusterId === id, 5000, 'replica 4 learns the identity');
    await c.until(() => info(c, 4).appliedIndex >= info(c, leader).commitIndex, 5000, 'replica 4 catches up');
    await c.crash(4);
    await c.start(4);
    await c.startShard(1, [4], { members: [], config: { isNonVoting: true } });
    assert.equal(info(c, 4).clusterId, id, 'the learned identity was persisted');
    // A restart that names another identity is refused at start.
    await c.crash(4);
    await c.start(4);
    await assert.rejects(c.startShard(1, [4], { members: [], config: { isNonVoting: true, clusterId: 'abcdefabcdef' } }),
      (e: unknown) => e instanceof InvalidOptionError && /belongs to cluster/.test(e.message));
  } finally {
    await c.closeAll();
  }
});

test('a joiner told to expect another identity refuses the cluster on first contact', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3, 4]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    await retryDropped(() => c.get(leader).requestAddNonVoting(1, 4, c.address(4)));
    await c.startShard(1, [4], { join: true, config: { isNonVoting: true, clusterId: '0123456789ab' } });
    await c.until(() => info(c, 4).identityConflict !== null, 5000, 'replica 4 fenced');
    assert.equal(info(c, 4).appliedIndex, 0, 'nothing of the other cluster was applied');
  } finally {
    await c.closeAll();
  }
});

test('start refuses initial members that list this replica elsewhere or two members at one address, and warns on changed members at restart', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    const log = recorder();
    await c.start(1, { logger: log });
    const sm = (): never => { throw new Error('not reached'); };
    await assert.rejects(c.get(1).startReplica(new Map([[1, '127.0.0.1:29999'], [2, c.address(2)]]), false, sm, { shardId: 1, replicaId: 1 }),
      (e: unknown) => e instanceof InvalidOptionError && /replica 1 at 127\.0\.0\.1:29999, but this host's raft address is 127\.0\.0\.1:20001/.test(e.message));
    await assert.rejects(c.get(1).startReplica(new Map([[1, c.address(1)], [2, c.address(2)], [3, c.address(2)]]), false, sm, { shardId: 1, replicaId: 1 }),
      (e: unknown) => e instanceof InvalidOptionError && /members 2 and 3 have the same address/.test(e.message));
    await assert.rejects(c.get(1).startReplica(new Map([[1, c.address(1)]]), false, sm, { shardId: 1, replicaId: 1, maxSessions: 10 } as never),
      (e: unknown) => e instanceof InvalidOptionError && /maxSessions is not a per-replica setting/.test(e.message));
    // Nothing was written by the refused starts: the shard bootstraps normally now.
    await c.startShard(1, [1], { members: [1] });
    await c.waitLeader(1, [1]);
    await c.crash(1);
    await c.start(1, { logger: log });
    await c.startShard(1, [1], { members: [1, 2] });
    await c.waitLeader(1, [1]);
    const warn = log.lines.find((l) => l.includes('initial members given differ'));
    assert.ok(warn, 'a warning line');
    assert.match(warn, /2=127\.0\.0\.1:20002 is new/);
    assert.deepEqual([...info(c, 1).membership.voters.keys()], [1], 'the given members were ignored');
  } finally {
    await c.closeAll();
  }
});

test('a joining replica learns its identity from a leader\'s message to it, not from a stray vote request', () => {
  const guard = new ClusterIdentityGuard({
    logger: recorder(), logdb: { getBootstrap: () => null, saveBootstrap: () => Promise.resolve() }, emit: () => {}, notify: () => {},
  });
  const r: IdentityReplica = { shardId: 1, replicaId: 4, clusterId: 0, identityConflict: null, counters: { identityMismatches: 0 }, rejectAll: () => {} };
  const stray = 0x111111111111, real = 0x222222222222;
  assert.equal(guard.admit(r, message({ type: MessageType.RequestPreVote, shardId: 1, from: 9, to: 4, term: 5 }), stray, 'x:1'), true);
  assert.equal(r.clusterId, 0, 'a vote request teaches nothing');
  assert.equal(guard.admit(r, message({ type: MessageType.Heartbeat, shardId: 1, from: 1, to: 4, term: 2 }), real, 'y:1'), true);
  assert.equal(r.clusterId, real, 'the leader\'s heartbeat does');
  assert.equal(guard.admit(r, message({ type: MessageType.RequestPreVote, shardId: 1, from: 9, to: 4, term: 5 }), stray, 'x:1'), false, 'then the stray is refused');
});

test('fencing a replica fails its waiting requests with the mismatch, and those already handed to the core with TIMEOUT (they may still commit)', () => {
  const guard = new ClusterIdentityGuard({
    logger: recorder(), logdb: { getBootstrap: () => null, saveBootstrap: () => Promise.resolve() }, emit: () => {}, notify: () => {},
  });
  const calls: Array<[Error, Error | undefined]> = [];
  const r: IdentityReplica = {
    shardId: 1, replicaId: 4, clusterId: 0x111111111111, identityConflict: null, counters: { identityMismatches: 0 },
    rejectAll: (err, inFlight) => { calls.push([err, inFlight]); },
  };
  assert.equal(guard.admit(r, message({ type: MessageType.Heartbeat, shardId: 1, from: 1, to: 4, term: 2 }), 0x222222222222, 'y:1'), false);
  assert.equal(calls.length, 1);
  const [err, inFlight] = calls[0] as [Error, Error | undefined];
  assert.ok(err instanceof ClusterIdentityMismatchError);
  assert.ok(inFlight instanceof TimeoutError && inFlight.cause === err, `in flight: ${String(inFlight)}`);
});
