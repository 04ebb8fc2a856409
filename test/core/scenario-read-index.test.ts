/**
 * Linearizable reads by ReadIndex (Raft thesis §6.4): from the leader and from followers,
 * only after the leader committed an entry of its term, only after a quorum acknowledged a
 * heartbeat, never from a partitioned old leader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/core/index.js';
import { ELECTION, elect, makeCluster, tickUntil, traced } from './support/scenario.js';

const ctx = (low: number): { low: number; high: number } => ({ low, high: 7 });

test('thesis §6.4 ReadIndex at the leader: released at the commit index after a heartbeat round', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.propose(1, 'a');
  const commit = c.get(1).peer.status().commit;
  const from = c.trace.length;
  c.get(1).peer.readIndex(ctx(11));
  c.stabilize();
  assert.deepEqual(rec.readsFor(1, 11), [{ index: commit, ctx: ctx(11) }]);
  const hb = traced(c, (m) => m.type === MessageType.Heartbeat && m.hint === 11 && m.hintHigh === 7, from);
  assert.equal(hb.length, 2, 'one heartbeat round carrying the read context');
});

test('thesis §6.4 ReadIndex at a follower: forwarded to the leader, answered with the leader\'s commit index', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.propose(1, 'a');
  c.propose(1, 'b');
  const commit = c.get(1).peer.status().commit;
  const from = c.trace.length;
  c.get(3).peer.readIndex(ctx(12));
  c.stabilize();
  assert.equal(traced(c, (m) => m.type === MessageType.ReadIndex && m.from === 3 && m.to === 1, from).length, 1);
  assert.equal(traced(c, (m) => m.type === MessageType.ReadIndexResp && m.to === 3, from).length, 1);
  assert.deepEqual(rec.readsFor(3, 12), [{ index: commit, ctx: ctx(12) }]);
  assert.deepEqual(rec.readsFor(1, 12), [], 'the leader answers the follower, not its own host');
});

test('thesis §6.4 a new leader answers no read before it has committed an entry of its own term', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  c.filter = (m) => !(m.type === MessageType.ReplicateResp && m.to === 1);
  c.elect(1);
  assert.equal(c.leader(), 1);
  const noop = c.get(1).peer.status().lastIndex;
  c.get(1).peer.readIndex(ctx(13));
  c.stabilize();
  c.tick(3, 1); // heartbeats are acknowledged, but the no-op is not
  assert.ok(c.get(1).peer.status().commit < noop);
  assert.deepEqual(rec.readsFor(1, 13), []);
  c.filter = null;
  c.tick(2, 1);
  const reads = rec.readsFor(1, 13);
  assert.equal(reads.length, 1);
  assert.ok((reads[0]?.index ?? 0) >= noop, `read index ${reads[0]?.index} is below the no-op ${noop}`);
});

test('thesis §6.4 a read needs heartbeat acknowledgements from a quorum', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.isolate(1);
  c.get(1).peer.readIndex(ctx(14));
  c.stabilize();
  c.tick(3, 1);
  assert.deepEqual(rec.readsFor(1, 14), [], 'no follower answered: not confirmed');
  // One follower back: the leader and it make a quorum of three.
  c.heal();
  c.cutLink(1, 3);
  c.tick(1, 1);
  assert.equal(rec.readsFor(1, 14).length, 1);
});

test('thesis §6.4 reads queued together are confirmed by one heartbeat round (batching)', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.isolate(1);
  for (const low of [21, 22, 23]) c.get(1).peer.readIndex(ctx(low));
  c.stabilize();
  c.heal();
  const from = c.trace.length;
  c.tick(1, 1);
  for (const low of [21, 22, 23]) assert.equal(rec.readsFor(1, low).length, 1, `read ${low}`);
  const hb = traced(c, (m) => m.type === MessageType.Heartbeat && m.from === 1, from);
  assert.equal(hb.length, 2, 'one round to the two followers');
});

test('thesis §6.4 a partitioned old leader cannot serve reads (check-quorum on)', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.isolate(1);
  c.get(1).peer.readIndex(ctx(31));
  c.stabilize();
  assert.ok(tickUntil(c, () => c.get(2).peer.isLeader || c.get(3).peer.isLeader, 5 * ELECTION) > 0);
  const nl = c.get(2).peer.isLeader ? 2 : 3;
  c.propose(nl, 'newer');
  c.tick(2 * ELECTION);
  assert.equal(c.get(1).peer.isLeader, false, 'the old leader stepped down');
  assert.deepEqual(rec.readsFor(1, 31), []);
  assert.ok(rec.droppedReads(1).some((r) => r.low === 31), 'the read is reported dropped');
  c.heal();
  c.tick(ELECTION);
  assert.deepEqual(rec.readsFor(1, 31), [], 'never released later either');
});

test('thesis §6.4 a partitioned old leader cannot serve reads (check-quorum off): it waits, then drops', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3], config: { checkQuorum: false } });
  elect(c, 1);
  c.isolate(1);
  assert.ok(tickUntil(c, () => c.get(2).peer.isLeader || c.get(3).peer.isLeader, 5 * ELECTION) > 0);
  const nl = c.get(2).peer.isLeader ? 2 : 3;
  c.propose(nl, 'newer');
  assert.equal(c.get(1).peer.isLeader, true, 'without check-quorum the old leader still believes it leads');
  c.get(1).peer.readIndex(ctx(32));
  c.stabilize();
  c.tick(ELECTION, 1);
  assert.deepEqual(rec.readsFor(1, 32), []);
  c.heal();
  c.tick(3);
  assert.equal(c.get(1).peer.isLeader, false);
  assert.deepEqual(rec.readsFor(1, 32), []);
  assert.ok(rec.droppedReads(1).some((r) => r.low === 32));
});

test('thesis §6.4 a read at a replica with no leader is dropped and reported', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  c.get(2).peer.readIndex(ctx(41));
  c.stabilize();
  assert.deepEqual(rec.droppedReads(2), [ctx(41)]);
});
