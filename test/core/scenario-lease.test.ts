/**
 * Lease-based reads (thesis §6.4.1, etcd's ReadOnlyLeaseBased; `readMode: 'lease'`): the
 * leader answers at once while a quorum acknowledged a heartbeat it sent within the lease,
 * falls back to ReadIndex otherwise, gives the lease up on leadership transfer, and a
 * partitioned old leader stops serving before a new leader can be elected and commit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidOptionError } from '../../src/errors.js';
import { MessageType, SeededRandom, leaseTicks, message, resolveRaftConfig } from '../../src/core/index.js';
import { ELECTION, makeCluster, tickUntil, traced } from './support/scenario.js';
import type { TestCluster } from './support/test-cluster.js';

const LEASE = { readMode: 'lease', leaseDriftTicks: 1 } as const;
const ctx = (low: number): { low: number; high: number } => ({ low, high: 9 });

/** A three-voter lease-mode cluster with a leader whose lease is renewed; returns its id. */
function leaseCluster(leaseDriftTicks = 1): { c: TestCluster; rec: ReturnType<typeof makeCluster>['rec']; leader: number } {
  const { c, rec } = makeCluster({ voters: [1, 2, 3], config: { ...LEASE, leaseDriftTicks } });
  assert.ok(tickUntil(c, () => c.leader() !== 0, 5 * ELECTION) > 0, 'a leader is elected');
  const leader = c.leader();
  c.propose(leader, 'a');
  c.tick(2); // heartbeat rounds acknowledged by both followers: the lease is valid
  return { c, rec, leader };
}

/** Whether a read issued now at `id` is released without any message being delivered. */
function servedByLease(c: TestCluster, rec: ReturnType<typeof makeCluster>['rec'], id: number, low: number): boolean {
  const from = c.trace.length;
  c.get(id).peer.readIndex(ctx(low));
  c.stabilize();
  return rec.readsFor(id, low).length === 1 && c.trace.length === from;
}

test('lease read: answered at the commit index with no message at all', () => {
  const { c, rec, leader } = leaseCluster();
  const commit = c.get(leader).peer.status().commit;
  const from = c.trace.length;
  c.get(leader).peer.readIndex(ctx(1));
  c.stabilize();
  assert.deepEqual(rec.readsFor(leader, 1), [{ index: commit, ctx: ctx(1) }]);
  assert.equal(c.trace.length, from, 'no heartbeat round, no message');
  // A follower's read costs one forward and one answer, no heartbeat round.
  const f = leader === 1 ? 2 : 1;
  const from2 = c.trace.length;
  c.get(f).peer.readIndex(ctx(2));
  c.stabilize();
  assert.deepEqual(rec.readsFor(f, 2), [{ index: commit, ctx: ctx(2) }]);
  assert.deepEqual(traced(c, () => true, from2).map((m) => m.type), [MessageType.ReadIndex, MessageType.ReadIndexResp]);
});

test('lease read: the same cluster in read-index mode needs a heartbeat round', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  assert.ok(tickUntil(c, () => c.leader() !== 0, 5 * ELECTION) > 0);
  const leader = c.leader();
  c.propose(leader, 'a');
  c.tick(2);
  assert.equal(servedByLease(c, rec, leader, 3), false);
  assert.equal(rec.readsFor(leader, 3).length, 1, 'released after the round');
});

test('lease read: falls back to ReadIndex when the lease is not valid (no heartbeat acknowledged yet)', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3], config: LEASE });
  // Heartbeats go unanswered: the no-op commits (appends are answered), but no lease forms.
  c.filter = (m) => m.type !== MessageType.HeartbeatResp;
  assert.ok(tickUntil(c, () => c.leader() !== 0, 5 * ELECTION) > 0);
  const leader = c.leader();
  c.propose(leader, 'a');
  c.tick(2);
  const from = c.trace.length;
  c.get(leader).peer.readIndex(ctx(4));
  c.stabilize();
  assert.deepEqual(rec.readsFor(leader, 4), [], 'not served by lease');
  assert.equal(traced(c, (m) => m.type === MessageType.Heartbeat && m.hint === 4, from).length, 2, 'a ReadIndex heartbeat round');
  c.filter = null;
  c.tick(1, leader);
  assert.equal(rec.readsFor(leader, 4).length, 1, 'released by ReadIndex once acknowledged');
  // The acknowledgements renewed the lease: the next read is answered at once.
  assert.equal(servedByLease(c, rec, leader, 5), true);
});

test('lease read: a partitioned old leader stops serving before a new leader is elected and commits', () => {
  const { c, rec, leader } = leaseCluster(0);
  assert.equal(servedByLease(c, rec, leader, 10), true);
  c.isolate(leader);
  let lastLeaseRead = -1;
  let elected = -1;
  let firstCommit = -1;
  let newLeader = 0;
  for (let t = 1; t <= 5 * ELECTION && firstCommit < 0; t++) {
    c.tick(1);
    if (c.get(leader).peer.isLeader && servedByLease(c, rec, leader, 100 + t)) lastLeaseRead = t;
    for (const id of [1, 2, 3]) {
      if (id === leader || !c.get(id).peer.isLeader) continue;
      if (elected < 0) { elected = t; newLeader = id; }
      const p = c.get(id).peer.status();
      // The new leader's first commit: an entry of its own term (its no-op) is committed.
      if (p.commit >= p.lastIndex && c.get(id).storage.term(p.commit) === p.term) firstCommit = t;
    }
  }
  assert.ok(newLeader !== 0 && elected > 0 && firstCommit > 0, 'a new leader was elected and committed');
  assert.ok(lastLeaseRead >= 1, 'the old leader served lease reads for a while after the partition');
  assert.ok(lastLeaseRead < elected, `old leader's last lease read at tick ${lastLeaseRead}, new leader elected at ${elected}`);
  assert.ok(lastLeaseRead < firstCommit, `old leader's last lease read at tick ${lastLeaseRead}, new leader's first commit at ${firstCommit}`);
  assert.ok(lastLeaseRead < leaseTicks({ electionTicks: ELECTION, leaseDriftTicks: 0 }), 'within the configured lease');
});

/**
 * The old leader's clock runs slow (4 ticks for every 5 of the others'): isolated, it serves
 * lease reads until its lease runs out by its own clock. Returns the rounds (follower ticks)
 * of its last lease read and of the new leader's first commit.
 */
function slowLeaderRace(leaseDriftTicks: number): { lastLeaseRead: number; firstCommit: number } {
  const { c, rec, leader } = leaseCluster(leaseDriftTicks);
  c.isolate(leader);
  let lastLeaseRead = -1;
  let firstCommit = -1;
  for (let round = 1; round <= 5 * ELECTION && firstCommit < 0; round++) {
    for (const id of [1, 2, 3]) if (id !== leader && !c.isDown(id)) c.get(id).peer.tick();
    if (round % 5 !== 0) c.get(leader).peer.tick();
    c.stabilize();
    if (c.get(leader).peer.isLeader && servedByLease(c, rec, leader, 200 + round)) lastLeaseRead = round;
    for (const id of [1, 2, 3]) {
      const p = c.get(id).peer.status();
      if (id !== leader && c.get(id).peer.isLeader && c.get(id).storage.term(p.commit) === p.term) firstCommit = round;
    }
  }
  return { lastLeaseRead, firstCommit };
}

test('lease read: leaseDriftTicks covers a leader whose clock runs slow; without it the old leader serves stale reads', () => {
  // Followers tick 5 times while the leader ticks 4: over the followers' 9 ticks of lease the
  // leader counts 7.2, so the lease may last 7 ticks: leaseDriftTicks = 10 − 1 − 7 = 2.
  const ok = slowLeaderRace(2);
  assert.ok(ok.firstCommit > 0 && ok.lastLeaseRead > 0);
  assert.ok(ok.lastLeaseRead < ok.firstCommit, `drift bound 2: last lease read at ${ok.lastLeaseRead}, new leader's first commit at ${ok.firstCommit}`);
  // The negative control: no drift allowance, and the old leader is still serving after the
  // new leader committed — a stale read, which the bound exists to prevent.
  const bad = slowLeaderRace(0);
  assert.ok(bad.lastLeaseRead >= bad.firstCommit, `drift bound 0: last lease read at ${bad.lastLeaseRead}, first commit at ${bad.firstCommit}`);
});

test('lease read: leadership transfer gives the lease up at TimeoutNow, for the rest of the term', () => {
  const { c, rec, leader } = leaseCluster();
  assert.equal(servedByLease(c, rec, leader, 20), true);
  const target = leader === 1 ? 2 : 1;
  c.filter = (m) => m.type !== MessageType.TimeoutNow; // the target never campaigns
  const from = c.trace.length;
  c.get(leader).peer.requestLeaderTransfer(target);
  c.stabilize();
  assert.ok(c.get(leader).peer.isLeader);
  assert.equal(c.get(leader).peer.status().leaderTransferTarget, target, 'TimeoutNow was sent (and lost)');
  c.get(leader).peer.readIndex(ctx(21));
  c.stabilize();
  assert.equal(traced(c, (m) => m.type === MessageType.Heartbeat && m.hint === 21, from).length, 2, 'confirmed by ReadIndex, not by lease');
  assert.equal(rec.readsFor(leader, 21).length, 1);
  // The transfer is abandoned after an election timeout; heartbeats are acknowledged all along,
  // yet a TimeoutNow still in flight could start an election: no lease again in this term.
  c.tick(2 * ELECTION);
  assert.ok(c.get(leader).peer.isLeader);
  assert.equal(c.get(leader).peer.status().leaderTransferTarget, 0);
  assert.equal(servedByLease(c, rec, leader, 22), false);
});

test('lease read: a membership change applied by the leader restarts the lease', () => {
  const { c, rec, leader } = leaseCluster();
  assert.equal(servedByLease(c, rec, leader, 30), true);
  c.filter = (m) => m.type !== MessageType.HeartbeatResp;
  c.get(leader).peer.proposeConfigChange({ type: 0, replicaId: 4, configChangeId: 0, address: 'addr-4', initialize: false }, 0);
  c.stabilize();
  assert.ok(c.get(leader).peer.membership.voters.has(4), 'the change was applied');
  assert.equal(servedByLease(c, rec, leader, 31), false, 'acknowledgements from before the change no longer count');
});

test('lease mode: a follower within its lease neither votes for a higher term nor campaigns on request', () => {
  // Without pre-vote, so that a campaign would show at once as a new term.
  const { c } = makeCluster({ voters: [1, 2, 3], config: { ...LEASE, preVote: false } });
  assert.ok(tickUntil(c, () => c.leader() !== 0, 5 * ELECTION) > 0);
  c.tick(2);
  const leader = c.leader();
  const f = leader === 1 ? 2 : 1;
  const other = 6 - leader - f;
  const term = c.get(f).peer.term;
  c.get(f).peer.step(message({ type: MessageType.RequestVote, from: other, to: f, term: term + 1, logIndex: 100, logTerm: term }));
  c.get(f).peer.campaign();
  c.stabilize();
  assert.equal(c.get(f).peer.term, term, 'no new term');
  assert.equal(c.leader(), leader);
});

test('lease mode: a restarted replica does not vote during its first election timeout (it may have forgotten a leader)', () => {
  for (const mode of ['lease', 'read-index'] as const) {
    const { c, leader } = leaseClusterOf(mode);
    const f = leader === 1 ? 2 : 1;
    c.crash(f);
    c.restart(f);
    const r = c.get(f);
    const term = r.peer.term;
    r.peer.step(message({ type: MessageType.RequestVote, from: 6 - leader - f, to: f, term: term + 1, logIndex: 100, logTerm: term }));
    const granted = r.peer.hasUpdate() && r.peer.getUpdate().messages.some((m) => m.type === MessageType.RequestVoteResp && !m.reject);
    if (mode === 'lease') assert.equal(granted, false, 'lease mode: refused');
    else assert.equal(granted, true, 'read-index mode: granted at once (etcd\'s documented gap)');
  }
});

function leaseClusterOf(mode: 'lease' | 'read-index'): { c: TestCluster; leader: number } {
  const { c } = makeCluster({ voters: [1, 2, 3], config: { readMode: mode } });
  assert.ok(tickUntil(c, () => c.leader() !== 0, 5 * ELECTION) > 0);
  c.tick(2);
  return { c, leader: c.leader() };
}

test('lease mode config: requires checkQuorum and a lease of at least one tick', () => {
  const base = { shardId: 1, replicaId: 1, random: new SeededRandom(1) };
  assert.throws(() => resolveRaftConfig({ ...base, readMode: 'lease', checkQuorum: false }), InvalidOptionError);
  assert.throws(() => resolveRaftConfig({ ...base, readMode: 'lease', electionTicks: 10, leaseDriftTicks: 9 }), InvalidOptionError);
  assert.throws(() => resolveRaftConfig({ ...base, readMode: 'fast' as 'lease' }), InvalidOptionError);
  assert.throws(() => resolveRaftConfig({ ...base, leaseDriftTicks: -1 }), InvalidOptionError);
  assert.equal(leaseTicks(resolveRaftConfig({ ...base, readMode: 'lease', electionTicks: 10, leaseDriftTicks: 7 })), 2);
  assert.equal(resolveRaftConfig(base).readMode, 'read-index');
});
