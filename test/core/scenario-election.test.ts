/**
 * Leader election (Raft paper §5.2, §5.4.1), check-quorum and the leader lease (§6 of the
 * paper / thesis §6.2), and pre-vote (thesis §9.6).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLogStorage, MessageType, Peer, SeededRandom } from '../../src/core/index.js';
import {
  ELECTION, drainPeer, elect, makeCluster, proposeAt, tickUntil, traced,
} from './support/scenario.js';

const members = new Map([[1, 'a1'], [2, 'a2'], [3, 'a3']]);

/** Ticks a lone peer until it starts an election; returns the ticks it took. */
function ticksToCampaign(peer: Peer, storage: MemoryLogStorage): number {
  for (let t = 1; t <= 10 * ELECTION; t++) {
    peer.tick();
    const out = drainPeer(peer, storage);
    if (out.some((m) => m.type === MessageType.RequestPreVote || m.type === MessageType.RequestVote)) return t;
  }
  return -1;
}

test('§5.2 election timeouts are drawn from [electionTicks, 2·electionTicks), differently per seed', () => {
  const seen = new Set<number>();
  for (let seed = 1; seed <= 24; seed++) {
    const storage = new MemoryLogStorage(1);
    const peer = new Peer({ shardId: 1, replicaId: 1, random: new SeededRandom(seed), electionTicks: ELECTION, heartbeatTicks: 1 },
      storage, { initialMembers: members });
    drainPeer(peer, storage);
    // The first timeout as a follower, then two more as a (pre-)candidate that got no answer.
    for (let round = 0; round < 3; round++) {
      const t = ticksToCampaign(peer, storage);
      assert.ok(t >= ELECTION && t < 2 * ELECTION, `seed ${seed} round ${round}: campaigned after ${t} ticks`);
      seen.add(t);
    }
  }
  assert.ok(seen.size >= 4, `timeouts are randomised: only saw ${[...seen].join(',')}`);
});

test('§5.2 the same seed gives the same election timeouts (replayable)', () => {
  const run = (): number[] => {
    const storage = new MemoryLogStorage(1);
    const peer = new Peer({ shardId: 1, replicaId: 2, random: new SeededRandom(77) }, storage, { initialMembers: members });
    drainPeer(peer, storage);
    return [ticksToCampaign(peer, storage), ticksToCampaign(peer, storage), ticksToCampaign(peer, storage)];
  };
  assert.deepEqual(run(), run());
});

test('§5.2 election safety: at most one leader per term under partitions, several seeds', () => {
  for (let seed = 1; seed <= 6; seed++) {
    const { c, rec } = makeCluster({ voters: [1, 2, 3, 4, 5], seed });
    const rnd = new SeededRandom(seed * 31);
    let leaderless = 0;
    for (let t = 0; t < 240; t++) {
      if (t % 25 === 0) {
        c.heal();
        // Cut one or two random replicas off, or nobody.
        const k = rnd.intn(3);
        for (let i = 0; i < k; i++) c.isolate(1 + rnd.intn(5));
      }
      c.tick(1);
      const byTerm = new Map<number, number[]>();
      for (const r of c.replicas.values()) {
        if (!r.peer.isLeader) continue;
        byTerm.set(r.peer.term, [...(byTerm.get(r.peer.term) ?? []), r.id]);
      }
      for (const [term, ids] of byTerm) assert.equal(ids.length, 1, `seed ${seed} tick ${t}: leaders ${ids} in term ${term}`);
      if (c.leader() === 0) leaderless++;
    }
    const firstLeader = new Map<number, number>();
    for (const { term, id } of rec.leaders) {
      const prev = firstLeader.get(term);
      assert.ok(prev === undefined || prev === id, `seed ${seed}: term ${term} had leaders ${prev} and ${id}`);
      firstLeader.set(term, id);
    }
    assert.ok(rec.leaders.length >= 1, `seed ${seed}: no leader was ever elected`);
    // Liveness once healed: a leader within a few election timeouts.
    c.heal();
    assert.ok(tickUntil(c, () => c.leader() !== 0, 6 * ELECTION) > 0, `seed ${seed}: no leader after healing`);
    assert.ok(leaderless < 240, `seed ${seed}: never had a leader`);
  }
});

test('§5.2 a split vote resolves: simultaneous candidates, then a single leader in a later term', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const { c } = makeCluster({ voters: [1, 2, 3], seed, config: { preVote: false, checkQuorum: false } });
    for (const id of [1, 2, 3]) c.get(id).peer.campaign();
    c.stabilize();
    assert.equal(c.leader(), 0, 'three candidates that each voted for themselves: nobody wins');
    for (const r of c.replicas.values()) assert.equal(r.peer.term, 2);
    const took = tickUntil(c, () => c.leader() !== 0, 6 * ELECTION);
    assert.ok(took > 0, `seed ${seed}: the split vote never resolved`);
    const leaders = [...c.replicas.values()].filter((r) => r.peer.isLeader);
    assert.equal(leaders.length, 1);
    assert.ok((leaders[0]?.peer.term ?? 0) > 2, 'the winner was elected in a later term');
  }
});

test('§5.2 a new leader sends the no-op of its term at once: followers learn it and it commits without a tick', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  c.elect(1); // campaign and deliver until quiet; no clock tick
  assert.equal(c.leader(), 1);
  const st = c.get(1).peer.status();
  assert.equal(c.get(1).storage.term(st.lastIndex), st.term, 'the no-op of the new term is in the log');
  assert.equal(st.commit, st.lastIndex, 'the no-op is committed once the followers answer');
  for (const id of [2, 3]) assert.equal(c.get(id).peer.leaderId, 1, `replica ${id} knows the leader`);
});

test('§5.2 vote persistence: a replica never votes twice in a term, even after a restart', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], config: { preVote: false, checkQuorum: false } });
  c.isolate(3);
  // 2 campaigns in term 2 and 1 grants its vote, but 2 never hears the grant.
  c.filter = (m) => !(m.type === MessageType.RequestVoteResp && m.to === 2);
  elect(c, 2);
  assert.equal(c.leader(), 0);
  assert.equal(c.get(1).storage.hardState.vote, 2, 'the vote was persisted before the reply was sent');
  assert.equal(c.get(1).storage.hardState.term, 2);
  c.crash(1);
  c.restart(1);
  assert.equal(c.get(1).peer.status().vote, 2, 'the restarted replica remembers its vote');
  c.filter = null;
  c.heal();
  c.cutLink(2, 3);
  c.cutLink(2, 1);
  const from = c.trace.length;
  elect(c, 3); // 3 campaigns in term 2 as well
  assert.equal(c.get(3).peer.term, 2);
  const replies = traced(c, (m) => m.type === MessageType.RequestVoteResp && m.from === 1 && m.to === 3, from);
  assert.equal(replies.length, 1);
  assert.equal(replies[0]?.reject, true, 'replica 1 already voted for 2 in term 2');
  assert.notEqual(c.leader(), 3);
});

test('§5.4.1 election restriction: a candidate missing committed entries is not elected', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], config: { preVote: false, checkQuorum: false } });
  elect(c, 1);
  c.cutOneWay(1, 3);
  c.propose(1, 'x');
  const committed = c.get(1).peer.status().commit;
  assert.ok(c.get(3).peer.status().lastIndex < committed);
  c.heal();
  const from = c.trace.length;
  elect(c, 3);
  assert.notEqual(c.leader(), 3);
  const grants = traced(c, (m) => m.type === MessageType.RequestVoteResp && m.to === 3 && !m.reject, from);
  assert.deepEqual(grants, [], 'nobody with the committed entry votes for a candidate without it');
  assert.ok(tickUntil(c, () => c.leader() !== 0, 6 * ELECTION) > 0);
  assert.notEqual(c.leader(), 3);
});

test('§6 check-quorum: a leader cut off from the quorum steps down within two election timeouts', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  // Connected, it stays leader for a long time.
  c.tick(5 * ELECTION);
  assert.equal(c.leader(), 1);
  const term = c.get(1).peer.term;
  c.isolate(1);
  let steppedDown = -1;
  for (let t = 1; t <= 2 * ELECTION; t++) {
    c.tick(1, 1);
    if (!c.get(1).peer.isLeader) { steppedDown = t; break; }
  }
  assert.ok(steppedDown > 0, 'the isolated leader is still leader after two election timeouts');
  assert.equal(c.get(1).peer.term, term, 'stepping down does not change the term');
});

test('§6 check-quorum: a new leader cut off at once steps down at the first check, after electionTicks', () => {
  // etcd's TestLeaderStepdownWhenQuorumLost: no follower ever answered this leader, so after one
  // election timeout it has not heard from a quorum and must step down.
  const { c } = makeCluster({ voters: [1, 2, 3] });
  // Votes reach 1; from the moment it leads, nothing reaches or leaves it.
  c.filter = (m) => !(c.get(1).peer.isLeader && (m.from === 1 || m.to === 1));
  c.get(1).peer.campaign();
  c.stabilize();
  assert.equal(c.leader(), 1);
  c.tick(ELECTION, 1);
  assert.equal(c.get(1).peer.isLeader, false, 'still leader one election timeout after it was cut off');
});

test('§6 check-quorum: a leader that hears from a quorum (one follower of two) stays leader', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.isolate(3);
  c.tick(6 * ELECTION, 1);
  c.tick(1);
  assert.equal(c.get(1).peer.isLeader, true);
});

test('§6 lease: followers that hear from a live leader ignore vote requests (no pre-vote)', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], config: { preVote: false, checkQuorum: true } });
  elect(c, 1);
  const term = c.get(1).peer.term;
  c.cutLink(1, 3); // 3 stops hearing the leader and campaigns again and again
  const from = c.trace.length;
  c.tick(4 * ELECTION);
  assert.ok(c.get(3).peer.term > term, 'the cut-off replica did campaign');
  const toTwo = traced(c, (m) => m.type === MessageType.RequestVote && m.to === 2, from);
  assert.ok(toTwo.length > 0);
  const answers = traced(c, (m) => m.type === MessageType.RequestVoteResp && m.from === 2, from);
  assert.deepEqual(answers, [], 'a follower in its lease does not answer');
  assert.equal(c.get(2).peer.term, term, 'nor adopt the higher term');
  assert.equal(c.get(1).peer.isLeader, true);
  assert.equal(c.get(1).peer.term, term);
});

test('§6 lease does not block an election once the leader is gone', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], config: { preVote: false, checkQuorum: true } });
  elect(c, 1);
  c.crash(1);
  assert.ok(tickUntil(c, () => c.leader() !== 0, 5 * ELECTION) > 0);
  assert.notEqual(c.leader(), 1);
});

test('§9.6 pre-vote: a partitioned replica that rejoins does not bump the term or depose the leader', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3], config: { preVote: true, checkQuorum: true } });
  elect(c, 1);
  const term = c.get(1).peer.term;
  c.isolate(3);
  for (let i = 0; i < 3; i++) proposeAt(c, 1, `w${i}`);
  c.tick(6 * ELECTION);
  assert.equal(c.get(3).peer.term, term, 'pre-vote rounds that fail leave the term alone');
  const from = c.trace.length;
  c.heal();
  c.tick(3 * ELECTION);
  assert.equal(c.leader(), 1);
  for (const r of c.replicas.values()) assert.equal(r.peer.term, term);
  assert.equal(traced(c, (m) => m.type === MessageType.RequestVote, from).length, 0);
  assert.deepEqual(rec.leaders.map((l) => l.id), [1]);
  assert.equal(c.get(3).peer.leaderId, 1);
});

test('§9.6 pre-vote without check-quorum: an out-of-date rejoining replica is refused and the term is kept', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], config: { preVote: true, checkQuorum: false } });
  elect(c, 1);
  const term = c.get(1).peer.term;
  c.isolate(3);
  c.propose(1, 'while-away');
  c.tick(6 * ELECTION, 3); // only 3's clock runs: it keeps pre-campaigning in vain
  c.heal();
  c.stabilize();
  const from = c.trace.length;
  c.tick(3 * ELECTION);
  assert.equal(c.leader(), 1);
  assert.equal(c.get(1).peer.term, term);
  assert.equal(c.get(2).peer.term, term);
  assert.equal(traced(c, (m) => m.type === MessageType.RequestVote, from).length, 0);
});

test('§9.6 control: without pre-vote the rejoining replica does disrupt the term', () => {
  // Shows the two pre-vote tests above can fail: the same story with pre-vote off.
  const { c } = makeCluster({ voters: [1, 2, 3], config: { preVote: false, checkQuorum: false } });
  elect(c, 1);
  const term = c.get(1).peer.term;
  c.isolate(3);
  c.propose(1, 'while-away');
  c.tick(6 * ELECTION, 3);
  assert.ok(c.get(3).peer.term > term);
  c.heal();
  c.tick(3 * ELECTION);
  assert.ok(c.get(1).peer.term > term, 'the leader was pushed to a higher term');
});

test('§9.6 two pre-candidates that time out together do not split the vote: the higher id steps back', () => {
  // The leader's crash in a three-replica shard: both survivors campaign in the same tick.
  const { c } = makeCluster({ voters: [1, 2, 3], config: { preVote: true, checkQuorum: false } });
  elect(c, 3);
  const term = c.get(3).peer.term;
  c.isolate(3);
  c.get(1).peer.campaign();
  c.get(2).peer.campaign();
  c.stabilize();
  assert.equal(c.get(1).peer.isLeader, true, 'the lower id won');
  assert.equal(c.get(1).peer.term, term + 1, 'in the first election after the crash');
  assert.equal(c.get(2).peer.leaderId, 1);
  assert.equal(c.get(2).peer.term, term + 1);
});
