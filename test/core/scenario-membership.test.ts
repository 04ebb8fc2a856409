/**
 * Membership changes one replica at a time (Raft thesis §4.1, and the 2015 fix: no change
 * before the leader has committed an entry of its term), non-voting members, witnesses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigChangeType, EntryType, MessageType, ProgressState, membershipOf, message, validateConfigChange, applyConfigChange,
} from '../../src/core/index.js';
import type { TestCluster } from './support/test-cluster.js';
import {
  ELECTION, cc, elect, isCommand, makeCluster, persistedEntry, proposeChange, tickUntil, traced,
} from './support/scenario.js';

/** Every live replica's view of the voters, sorted. */
function votersEverywhere(c: TestCluster, ids: number[]): number[][] {
  return ids.map((id) => [...c.get(id).membership.voters.keys()].sort((a, b) => a - b));
}

test('thesis §4.1 add a voter: it catches up from the leader and then counts in the quorum', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], joiners: [{ id: 4 }] });
  elect(c, 1);
  for (let i = 0; i < 5; i++) c.propose(1, `before-${i}`);
  proposeChange(c, 1, cc(ConfigChangeType.AddVoter, 4));
  c.tick(3);
  const l = c.get(1);
  assert.equal(c.get(4).appliedIndex, l.appliedIndex);
  assert.equal(c.get(4).digest, l.digest);
  assert.deepEqual(votersEverywhere(c, [1, 2, 3, 4]), Array(4).fill([1, 2, 3, 4]));
  assert.equal(l.peer.status().progress.get(4)?.match, l.peer.status().lastIndex);
  // Four voters: the leader and 4 are not a majority.
  c.crash(2);
  c.crash(3);
  const commit = l.peer.status().commit;
  c.propose(1, 'two-of-four');
  assert.equal(c.get(4).storage.lastIndex(), l.peer.status().lastIndex, '4 has the entry');
  assert.equal(l.peer.status().commit, commit, 'but 2 of 4 voters is no quorum');
});

test('thesis §4.2.1 add a non-voting member: it receives the log, never campaigns, never counts for commit or election', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], joiners: [{ id: 4, config: { isNonVoting: true } }] });
  elect(c, 1);
  c.propose(1, 'a');
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 4));
  c.tick(3);
  const l = c.get(1);
  assert.equal(c.get(4).appliedIndex, l.appliedIndex);
  assert.equal(c.get(4).peer.status().role, 'non-voting');
  assert.deepEqual([...l.membership.nonVoting.keys()], [4]);
  assert.equal(l.membership.voters.has(4), false);
  // Never counts: the leader and the non-voting member hold an entry, it stays uncommitted.
  c.crash(2);
  c.crash(3);
  const commit = l.peer.status().commit;
  c.propose(1, 'not-enough');
  assert.equal(c.get(4).storage.lastIndex(), l.peer.status().lastIndex);
  assert.equal(l.peer.status().commit, commit);
  // Never campaigns, even with the leader gone for a long time.
  c.crash(1);
  const from = c.trace.length;
  c.tick(5 * ELECTION);
  assert.equal(c.get(4).peer.isLeader, false);
  assert.equal(traced(c, (m) => m.from === 4 && (m.type === MessageType.RequestVote || m.type === MessageType.RequestPreVote), from).length, 0);
  // It answers a vote request (as etcd's learners do: it may have been promoted without
  // knowing it), but a candidate that holds it non-voting does not count its vote.
  const n = c.get(4);
  n.peer.step(message({ type: MessageType.RequestVote, from: 2, to: 4, term: n.peer.term + 1, logIndex: 1000, logTerm: 1000 }));
  const out: ReturnType<typeof message>[] = [];
  n.process((m) => out.push(m));
  assert.equal(out.filter((m) => m.type === MessageType.RequestVoteResp && !m.reject).length, 1);
  assert.equal(n.peer.status().role, 'non-voting');
});

test('thesis §4.2.1 promote a non-voting member to voter: it becomes a follower and can lead', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], joiners: [{ id: 4, config: { isNonVoting: true } }] });
  elect(c, 1);
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 4));
  c.tick(3);
  assert.equal(c.get(4).peer.status().role, 'non-voting');
  proposeChange(c, 1, cc(ConfigChangeType.AddVoter, 4));
  c.tick(2);
  assert.deepEqual(votersEverywhere(c, [1, 2, 3, 4]), Array(4).fill([1, 2, 3, 4]));
  for (const id of [1, 2, 3, 4]) assert.equal(c.get(id).membership.nonVoting.size, 0);
  assert.equal(c.get(4).peer.status().role, 'follower');
  assert.equal(c.get(1).peer.status().progress.get(4)?.match, c.get(1).peer.status().lastIndex, 'progress kept on promotion');
  c.get(1).peer.requestLeaderTransfer(4);
  c.stabilize();
  assert.ok(tickUntil(c, () => c.get(4).peer.isLeader, ELECTION) > 0, 'the promoted member can lead');
});

test('a promoted non-voting member keeps its replication progress at the moment the change applies', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3], joiners: [{ id: 4, config: { isNonVoting: true } }] });
  elect(c, 1);
  for (let i = 0; i < 3; i++) c.propose(1, `p${i}`);
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 4));
  c.tick(3);
  const before = c.get(1).peer.status().progress.get(4);
  assert.ok(before !== undefined && before.match > 0 && before.state === ProgressState.Replicate);
  // Look at the leader's progress of 4 right as it applies the promotion, before any reply can restore it.
  const seen: Array<{ match: number; state: number } | undefined> = [];
  const push = rec.appliedLog.push.bind(rec.appliedLog);
  rec.appliedLog.push = (...items) => {
    for (const x of items) if (x.replica === 1 && x.e.type === EntryType.ConfigChange) seen.push(c.get(1).peer.status().progress.get(4));
    return push(...items);
  };
  proposeChange(c, 1, cc(ConfigChangeType.AddVoter, 4));
  assert.equal(seen.length, 1);
  assert.ok((seen[0]?.match ?? 0) >= before.match, `match ${seen[0]?.match} after promotion, ${before.match} before`);
  assert.equal(seen[0]?.state, ProgressState.Replicate);
});

test('thesis §4.1 witness: votes, receives metadata entries without payload, never leads', () => {
  const { c, rec } = makeCluster({ voters: [1, 2], joiners: [{ id: 3, config: { isWitness: true } }] });
  elect(c, 1);
  proposeChange(c, 1, cc(ConfigChangeType.AddWitness, 3));
  c.propose(1, 'payload-1');
  c.propose(1, 'payload-2');
  c.tick(3);
  const w = c.get(3);
  assert.equal(w.peer.status().role, 'witness');
  assert.equal(w.appliedIndex, c.get(1).appliedIndex);
  let metadata = 0;
  for (let i = 1; i <= w.storage.lastIndex(); i++) {
    const mine = persistedEntry(w, i);
    const leaders = persistedEntry(c.get(1), i);
    assert.equal(mine.term, leaders.term);
    if (leaders.type === EntryType.ConfigChange) {
      assert.equal(mine.type, EntryType.ConfigChange, 'config changes reach witnesses whole');
      assert.deepEqual(mine.cmd, leaders.cmd);
    } else if (isCommand(leaders)) {
      assert.equal(mine.type, EntryType.Metadata);
      assert.equal(mine.cmd.length, 0);
      metadata++;
    }
  }
  assert.ok(metadata >= 2);
  // A witness never campaigns and ignores TimeoutNow and transfers.
  w.peer.campaign();
  c.get(1).peer.requestLeaderTransfer(3);
  c.stabilize();
  w.peer.step(message({ type: MessageType.TimeoutNow, from: 1, to: 3, term: w.peer.term }));
  c.stabilize();
  assert.equal(w.peer.isLeader, false);
  assert.equal(c.leader(), 1);
  // Witnesses refuse client work.
  w.peer.propose([{ ...persistedEntry(c.get(1), c.get(1).appliedIndex), term: 0, index: 0 }]);
  w.peer.readIndex({ low: 5, high: 5 });
  c.stabilize();
  assert.equal(rec.dropped.filter((d) => d.replica === 3).length, 1);
  assert.equal(rec.droppedReads(3).length, 1);
  // With the leader gone, 2 wins by the witness's vote (2 of 3 voting members).
  c.crash(1);
  const from = c.trace.length;
  assert.ok(tickUntil(c, () => c.get(2).peer.isLeader, 6 * ELECTION) > 0, '2 was elected with the witness');
  assert.ok(traced(c, (m) => m.type === MessageType.RequestVoteResp && m.from === 3 && m.to === 2 && !m.reject, from).length > 0);
  assert.equal(w.peer.isLeader, false);
  // The witness also counts for commit.
  c.propose(2, 'with-witness');
  assert.equal(c.get(2).peer.status().commit, c.get(2).peer.status().lastIndex);
  assert.equal(traced(c, (m) => m.from === 3 && m.type === MessageType.RequestVote).length, 0, 'a witness never campaigns');
});

test('thesis §4.1 remove a follower: the rest commit without it', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  proposeChange(c, 1, cc(ConfigChangeType.RemoveReplica, 3));
  c.tick(2);
  assert.deepEqual(votersEverywhere(c, [1, 2]), [[1, 2], [1, 2]]);
  assert.equal(c.get(1).membership.removed.has(3), true);
  assert.equal(c.get(3).removed, true, 'the removed replica applied its own removal');
  c.crash(3);
  c.propose(1, 'two-voters');
  assert.equal(c.get(1).peer.status().commit, c.get(1).peer.status().lastIndex);
});

test('thesis §4.2.2 the leader removes itself: it steps down, never campaigns, the rest elect a leader', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  proposeChange(c, 1, cc(ConfigChangeType.RemoveReplica, 1));
  assert.equal(c.get(1).peer.isLeader, false, 'stepped down once the removal was applied');
  assert.deepEqual(votersEverywhere(c, [2, 3]), [[2, 3], [2, 3]]);
  const from = c.trace.length;
  assert.ok(tickUntil(c, () => c.leader() === 2 || c.leader() === 3, 6 * ELECTION) > 0);
  assert.equal(traced(c, (m) => m.from === 1 && (m.type === MessageType.RequestVote || m.type === MessageType.RequestPreVote), from).length, 0);
  const nl = c.leader();
  c.crash(1);
  c.propose(nl, 'without-1');
  assert.equal(c.get(nl).peer.status().commit, c.get(nl).peer.status().lastIndex);
});

test('thesis §4.1 at most one pending change: a second one is dropped and reported', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.get(1).peer.proposeConfigChange(cc(ConfigChangeType.AddNonVoting, 4), 101);
  c.get(1).peer.proposeConfigChange(cc(ConfigChangeType.AddNonVoting, 5), 102);
  c.stabilize();
  const dropped = rec.dropped.filter((d) => d.replica === 1).flatMap((d) => d.entries.map((e) => e.key));
  assert.deepEqual(dropped, [102]);
  assert.deepEqual([...c.get(1).membership.nonVoting.keys()], [4]);
  // Once the first is applied, the next is accepted.
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 5), 103);
  assert.deepEqual([...c.get(1).membership.nonVoting.keys()].sort(), [4, 5]);
});

test('thesis §4.1 (2015 fix) no change before the leader has applied the no-op of its term', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  c.filter = (m) => !(m.type === MessageType.ReplicateResp && m.to === 1);
  c.elect(1);
  c.tick(2, 1);
  assert.equal(c.leader(), 1);
  c.get(1).peer.proposeConfigChange(cc(ConfigChangeType.AddNonVoting, 4), 201);
  c.stabilize();
  assert.deepEqual(rec.dropped.flatMap((d) => d.entries.map((e) => e.key)), [201]);
  c.filter = null;
  c.tick(2, 1);
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 4), 202);
  assert.equal(c.get(1).membership.nonVoting.has(4), true);
});

test('thesis §4.1 a removed replica id can never return', () => {
  const m0 = membershipOf(new Map([[1, 'a'], [2, 'b'], [3, 'c']]));
  const m1 = applyConfigChange(m0, cc(ConfigChangeType.RemoveReplica, 3), 10);
  for (const t of [ConfigChangeType.AddVoter, ConfigChangeType.AddNonVoting, ConfigChangeType.AddWitness]) {
    assert.match(validateConfigChange(m1, cc(t, 3), false) ?? '', /removed/);
  }
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  proposeChange(c, 1, cc(ConfigChangeType.RemoveReplica, 3));
  proposeChange(c, 1, cc(ConfigChangeType.AddVoter, 3));
  c.tick(2);
  for (const id of [1, 2]) {
    assert.equal(c.get(id).membership.voters.has(3), false);
    assert.equal(c.get(id).membership.removed.has(3), true);
  }
  assert.equal(c.get(1).peer.membership.voters.has(3), false, 'the protocol did not adopt the rejected change');
});

test('removing an id that is not a member is rejected and tombstones nothing (as etcd refuses it)', () => {
  const m0 = membershipOf(new Map([[1, 'a'], [2, 'b'], [3, 'c']]));
  assert.match(validateConfigChange(m0, cc(ConfigChangeType.RemoveReplica, 9), false) ?? '', /not a member/);
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  proposeChange(c, 1, cc(ConfigChangeType.RemoveReplica, 9));
  c.tick(2);
  for (const id of [1, 2, 3]) assert.equal(c.get(id).membership.removed.has(9), false);
  // The id is still free.
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 9));
  c.tick(2);
  for (const id of [1, 2, 3]) assert.equal(c.get(id).membership.nonVoting.has(9), true);
});

test('thesis §4.1 the last voter cannot be removed', () => {
  const m = membershipOf(new Map([[1, 'a']]));
  assert.match(validateConfigChange(m, cc(ConfigChangeType.RemoveReplica, 1), false) ?? '', /last voter/);
  const { c } = makeCluster({ voters: [1] });
  c.elect(1);
  proposeChange(c, 1, cc(ConfigChangeType.RemoveReplica, 1));
  assert.equal(c.get(1).peer.isLeader, true);
  assert.deepEqual([...c.get(1).membership.voters.keys()], [1]);
  c.propose(1, 'still-works');
  assert.equal(c.get(1).peer.status().commit, c.get(1).peer.status().lastIndex);
});

test('thesis §4.1 ordered config changes: a change naming a stale membership version is rejected', () => {
  const m0 = membershipOf(new Map([[1, 'a']]), 7);
  assert.match(validateConfigChange(m0, cc(ConfigChangeType.AddNonVoting, 2, 6), true) ?? '', /stale/);
  assert.equal(validateConfigChange(m0, cc(ConfigChangeType.AddNonVoting, 2, 7), true), null);
  assert.equal(validateConfigChange(m0, cc(ConfigChangeType.AddNonVoting, 2, 6), false), null, 'unordered mode ignores versions');

  const { c } = makeCluster({ voters: [1, 2, 3], config: { orderedConfigChange: true } });
  elect(c, 1);
  const v0 = c.get(1).membership.configChangeId;
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 4, v0));
  const v1 = c.get(1).membership.configChangeId;
  assert.ok(v1 > v0 && c.get(1).membership.nonVoting.has(4));
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 5, v0)); // stale
  for (const id of [1, 2, 3]) {
    assert.equal(c.get(id).membership.nonVoting.has(5), false);
    assert.equal(c.get(id).membership.configChangeId, v1);
  }
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 5, v1));
  assert.equal(c.get(1).membership.nonVoting.has(5), true);
});

test('a replica that cannot campaign answers a stale leader with its term (no check-quorum, no pre-vote)', () => {
  // A removed voter that never learnt of its removal raised a joiner's term with its vote
  // requests (the others ignore it); the joiner cannot campaign, so without an answer the
  // leader would never learn the term and the joiner would never catch up.
  const { c } = makeCluster({ voters: [1, 2, 3], joiners: [{ id: 4, config: { isNonVoting: true } }], config: { checkQuorum: false, preVote: false } });
  elect(c, 1);
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 4));
  c.tick(2);
  const n = c.get(4);
  const term = c.get(1).peer.term + 5;
  n.peer.step(message({ type: MessageType.RequestVote, from: 3, to: 4, term, logIndex: 0, logTerm: 0 }));
  n.process(() => {});
  assert.equal(n.peer.term, term);
  c.tick(3 * ELECTION);
  assert.ok(c.get(1).peer.term >= term || c.get(2).peer.term >= term, 'the shard learnt the higher term');
  const l = c.leader();
  assert.ok(l !== 0, 'and elected a leader in it');
  c.propose(l, 'after');
  assert.equal(n.digest, c.get(l).digest, 'the non-voting member catches up again');
});
