/**
 * Leadership transfer (Raft thesis §3.10): the leader catches the target up, then sends
 * TimeoutNow; the target campaigns at once (no pre-vote, past the lease); proposals are
 * refused meanwhile; a transfer that does not finish within an election timeout is abandoned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/core/index.js';
import { ELECTION, elect, makeCluster, proposeAt, tickUntil, traced } from './support/scenario.js';

test('thesis §3.10 leader transfer: the target is caught up first, then gets TimeoutNow and wins', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  const term = c.get(1).peer.term;
  c.cutOneWay(1, 3);
  for (let i = 0; i < 5; i++) c.propose(1, `e${i}`);
  const last = c.get(1).peer.status().lastIndex;
  assert.ok(c.get(3).storage.lastIndex() < last, 'the target is behind');
  c.get(1).peer.reportUnreachable(3); // as the host's transport would for the cut link
  c.heal();
  const from = c.trace.length;
  c.get(1).peer.requestLeaderTransfer(3);
  c.stabilize();
  assert.ok(tickUntil(c, () => c.get(3).peer.isLeader, ELECTION) > 0, 'the target became leader');
  const tail = c.trace.slice(from);
  const tn = tail.findIndex((m) => m.type === MessageType.TimeoutNow && m.to === 3);
  assert.ok(tn >= 0, 'TimeoutNow was sent');
  assert.equal(tail.filter((m) => m.type === MessageType.TimeoutNow).length, 1);
  const acked = tail.slice(0, tn).filter((m) => m.type === MessageType.ReplicateResp && m.from === 3 && !m.reject);
  assert.ok(acked.some((m) => m.logIndex === last), 'TimeoutNow only after the target acknowledged the whole log');
  assert.equal(c.get(3).peer.term, term + 1);
  assert.equal(traced(c, (m) => m.type === MessageType.RequestPreVote, from).length, 0, 'no pre-vote round');
  assert.equal(c.get(1).peer.leaderId, 3);
  c.propose(1, 'after');
  for (const r of c.replicas.values()) assert.equal(r.appliedIndex, c.get(3).appliedIndex);
});

test('thesis §3.10 leader transfer asked at a follower is forwarded to the leader', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  const from = c.trace.length;
  c.get(2).peer.requestLeaderTransfer(2);
  c.stabilize();
  assert.equal(traced(c, (m) => m.type === MessageType.LeaderTransfer && m.from === 2 && m.to === 1, from).length, 1);
  assert.equal(c.leader(), 2);
});

test('thesis §3.10 proposals at the leader are dropped and reported while a transfer is under way', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.isolate(3);
  const last = c.get(1).peer.status().lastIndex;
  c.get(1).peer.requestLeaderTransfer(3);
  c.stabilize();
  assert.equal(c.get(1).peer.status().leaderTransferTarget, 3);
  proposeAt(c, 1, 'during-transfer');
  c.stabilize();
  assert.deepEqual(rec.droppedCmds(1), ['during-transfer']);
  assert.equal(c.get(1).peer.status().lastIndex, last, 'nothing was appended');
});

test('thesis §3.10 a transfer to an unreachable target is abandoned after an election timeout', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.isolate(3);
  c.get(1).peer.requestLeaderTransfer(3);
  c.stabilize();
  c.tick(ELECTION - 1);
  assert.equal(c.get(1).peer.status().leaderTransferTarget, 3, 'still trying before the timeout');
  c.tick(1);
  assert.equal(c.get(1).peer.status().leaderTransferTarget, 0, 'abandoned after one election timeout');
  assert.equal(c.leader(), 1);
  c.propose(1, 'accepted-again');
  assert.deepEqual(rec.droppedCmds(1), []);
  assert.equal(c.get(2).appliedIndex, c.get(1).appliedIndex);
});

test('thesis §3.10 a transfer to itself or to a non-member is ignored', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.get(1).peer.requestLeaderTransfer(1);
  c.get(1).peer.requestLeaderTransfer(9);
  c.stabilize();
  assert.equal(c.get(1).peer.status().leaderTransferTarget, 0);
  c.propose(1, 'fine');
  assert.deepEqual(rec.droppedCmds(1), []);
});
