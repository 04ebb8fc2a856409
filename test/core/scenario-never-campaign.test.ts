/**
 * A voter configured never to campaign (leader priority 0): it votes and replicates like any
 * voter, but starts no election, neither on election timeout nor when a leader hands it
 * leadership with TimeoutNow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/core/index.js';
import { ELECTION, elect, makeCluster, tickUntil, traced } from './support/scenario.js';

const isElection = (m: { type: number }): boolean => m.type === MessageType.RequestPreVote || m.type === MessageType.RequestVote;

test('a never-campaign voter starts no election on timeout, however long it hears nothing', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], voterConfig: { 3: { neverCampaign: true } } });
  c.isolate(1);
  c.isolate(2);
  c.tick(10 * ELECTION, 3);
  assert.equal(traced(c, (m) => m.from === 3 && isElection(m)).length, 0, 'no vote request from 3');
  assert.equal(c.get(3).peer.status().campaigns, 0);
  assert.equal(c.get(3).peer.status().role, 'follower');
});

test('a never-campaign voter ignores TimeoutNow: the transfer to it is abandoned and the leader stays', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], voterConfig: { 3: { neverCampaign: true } } });
  elect(c, 1);
  const term = c.get(1).peer.term;
  const from = c.trace.length;
  c.get(1).peer.requestLeaderTransfer(3);
  c.stabilize();
  assert.equal(traced(c, (m) => m.type === MessageType.TimeoutNow && m.to === 3, from).length, 1, 'TimeoutNow was sent');
  assert.equal(traced(c, (m) => m.from === 3 && isElection(m), from).length, 0, '3 did not campaign');
  assert.ok(tickUntil(c, () => c.get(1).peer.status().leaderTransferTarget === 0, 2 * ELECTION) > 0, 'the transfer was abandoned');
  assert.equal(c.leader(), 1);
  assert.equal(c.get(1).peer.term, term, 'no new term');
});

test('a never-campaign voter still votes: with the leader down, another voter wins with its vote', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], voterConfig: { 3: { neverCampaign: true } } });
  elect(c, 1);
  c.propose(1, 'x');
  c.crash(1);
  assert.ok(tickUntil(c, () => c.get(2).peer.isLeader, 4 * ELECTION) > 0, '2 won the election');
  assert.equal(traced(c, (m) => m.from === 3 && m.to === 2 && m.type === MessageType.RequestVoteResp && !m.reject).length, 1, '3 voted for 2');
  assert.equal(c.get(3).peer.status().campaigns, 0);
});
