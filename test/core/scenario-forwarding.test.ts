/**
 * etcd's DisableProposalForwarding and ForgetLeader, for applications that route requests
 * themselves: a follower that must not forward drops its proposal (reported at once), and a
 * follower that forgets its leader grants votes without waiting out the check-quorum lease.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/core/index.js';
import { ELECTION, elect, makeCluster, proposeAt, tickUntil, traced } from './support/scenario.js';

test('disableProposalForwarding: a follower drops its own proposal instead of forwarding it', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3], config: { disableProposalForwarding: true } });
  elect(c, 1);
  const from = c.trace.length;
  proposeAt(c, 2, 'routed-wrongly');
  c.stabilize();
  assert.deepEqual(rec.droppedCmds(2), ['routed-wrongly'], 'reported as dropped by the follower');
  assert.deepEqual(traced(c, (m) => m.type === MessageType.Propose, from), [], 'nothing forwarded');
  const before = c.get(1).appliedIndex;
  proposeAt(c, 1, 'at-the-leader');
  c.stabilize();
  assert.equal(c.get(1).appliedIndex, before + 1, 'the leader still takes proposals');
  assert.deepEqual(rec.droppedCmds(1), []);
});

test('proposal forwarding is on by default: the same proposal reaches the leader', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  const from = c.trace.length;
  const before = c.get(2).appliedIndex;
  proposeAt(c, 2, 'forwarded');
  c.stabilize();
  assert.deepEqual(rec.droppedCmds(2), []);
  assert.equal(traced(c, (m) => m.type === MessageType.Propose && m.from === 2 && m.to === 1, from).length, 1);
  assert.equal(c.get(2).appliedIndex, before + 1);
});

test('forgetLeader: followers that forget a dead leader elect a new one without waiting out the lease', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], config: { checkQuorum: true, preVote: true } });
  elect(c, 1);
  c.crash(1);
  // Without forgetting, 3 is in its lease (it heard from 1 a tick ago): 2's pre-vote is refused.
  c.get(2).peer.campaign();
  c.stabilize();
  assert.notEqual(c.get(2).peer.isLeader, true, 'refused inside the lease');
  assert.equal(c.get(3).peer.leaderId, 1);
  assert.equal(c.get(3).peer.forgetLeader(), true);
  assert.equal(c.get(3).peer.leaderId, 0, 'leaderless follower');
  assert.equal(c.get(3).peer.role, 0, 'still a follower, same term, not campaigning');
  c.get(2).peer.campaign();
  c.stabilize();
  assert.equal(c.get(2).peer.isLeader, true, 'elected at once');
});

test('forgetLeader: a no-op on the leader and without a leader; a heartbeat restores the leader', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  const term = c.get(1).peer.term;
  assert.equal(c.get(1).peer.forgetLeader(), false, 'no-op on the leader');
  assert.equal(c.get(1).peer.isLeader, true);
  assert.equal(c.get(2).peer.forgetLeader(), true);
  assert.equal(c.get(2).peer.forgetLeader(), false, 'nothing left to forget');
  assert.equal(c.get(2).peer.term, term, 'the term is kept');
  c.tick(1, 1); // the leader's heartbeat
  assert.equal(c.get(2).peer.leaderId, 1, 'follows the leader again once it hears from it');
  assert.equal(c.get(1).peer.term, term);
});

test('forgetLeader: a no-op in lease read mode (the leader\'s lease counts on the follower refusing votes)', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], config: { readMode: 'lease' } });
  assert.ok(tickUntil(c, () => c.leader() !== 0, 5 * ELECTION) > 0, 'a leader is elected');
  c.tick(2);
  const leader = c.leader();
  const f = [1, 2, 3].find((i) => i !== leader) as number;
  assert.equal(c.get(f).peer.leaderId, leader);
  assert.equal(c.get(f).peer.forgetLeader(), false);
  assert.equal(c.get(f).peer.leaderId, leader, 'still follows its leader');
});

test('a forwarded proposal the network delivers twice is appended once; other proposals still are', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  const from = c.trace.length;
  proposeAt(c, 2, 'once', 7001);
  c.stabilize();
  const [fwd] = traced(c, (m) => m.type === MessageType.Propose && m.from === 2 && m.to === 1, from);
  assert.ok(fwd !== undefined && fwd.entries.length === 1 && fwd.entries[0]!.key !== 0);
  const last = c.get(1).peer.status().lastIndex;
  c.get(1).peer.step(fwd); // the duplicate
  c.stabilize();
  assert.equal(c.get(1).peer.status().lastIndex, last, 'the duplicate was not appended');
  proposeAt(c, 2, 'next', 7002);
  c.stabilize();
  assert.equal(c.get(1).peer.status().lastIndex, last + 1, 'a new forwarded proposal is');
});
