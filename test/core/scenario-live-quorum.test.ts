/**
 * The leader's live-quorum check (`src/core/live-quorum.ts`, etcd's strict reconfiguration
 * check): a membership change that adds a voting member, or takes a live one away, is refused
 * — nothing appended, the proposer told why — when the configuration it produces would lack a
 * quorum of members the leader heard from within an election timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeShortfall, encodeConfigChange, entry, type ConfigChange, type ConfigChangeOp, type Entry } from '../../src/core/index.js';
import type { TestCluster } from './support/test-cluster.js';
import { ConfigChangeType, ELECTION, EntryType, cc, elect, makeCluster, proposeChange, type Recorder } from './support/scenario.js';

const STRICT = { strictMembershipCheck: true };

/** A cluster with the check on, `leader` elected, and `down` crashed for more than an election timeout. */
function setup(voters: number[], leader: number, down: number[] = [], joiners: number[] = []): { c: TestCluster; rec: Recorder } {
  const { c, rec } = makeCluster({ voters, config: STRICT, joiners: joiners.map((id) => ({ id })) });
  elect(c, leader);
  for (const id of down) c.crash(id);
  c.tick(ELECTION + 1);
  assert.equal(c.get(leader).peer.isLeader, true);
  return { c, rec };
}

/** Membership changes with `key` reported dropped at `replica`. */
function droppedAt(rec: Recorder, replica: number, key: number): Entry[] {
  return rec.dropped.filter((d) => d.replica === replica).flatMap((d) => d.entries).filter((e) => e.key === key);
}

function enter(ops: ConfigChangeOp[]): ConfigChange {
  return { configChangeId: 0, type: ConfigChangeType.EnterJoint, replicaId: 0, address: '', initialize: false, ops, autoLeave: true };
}

function voters(c: TestCluster, id: number): number[] {
  return [...c.get(id).membership.voters.keys()].sort((a, b) => a - b);
}

test('a voter add that would leave too few live voters is refused at the leader: nothing appended, the shortfall reported', () => {
  const { c, rec } = setup([1, 2, 3], 1, [3]);
  const last = c.get(1).storage.lastIndex();
  proposeChange(c, 1, cc(ConfigChangeType.AddVoter, 4), 501);
  const [d] = droppedAt(rec, 1, 501);
  assert.ok(d !== undefined, 'reported dropped');
  assert.equal(d.type, EntryType.ConfigChange);
  assert.equal(d.term, 0, 'a local refusal');
  assert.deepEqual(decodeShortfall(d.cmd), { live: 2, voters: 4, quorum: 3 });
  assert.equal(c.get(1).storage.lastIndex(), last, 'nothing appended');
  assert.deepEqual(voters(c, 1), [1, 2, 3]);
  // The shard still commits.
  c.propose(1, 'after');
  assert.equal(c.get(2).storage.lastIndex(), last + 1);
});

test('the same refusal reaches a follower that forwarded the change, with the leader\'s term and the shortfall', () => {
  const { c, rec } = setup([1, 2, 3], 1, [3]);
  const term = c.get(1).peer.term;
  const last = c.get(1).storage.lastIndex();
  proposeChange(c, 2, cc(ConfigChangeType.AddVoter, 4), 502);
  const [d] = droppedAt(rec, 2, 502);
  assert.ok(d !== undefined, 'reported dropped at the proposer');
  assert.equal(d.term, term);
  assert.deepEqual(decodeShortfall(d.cmd), { live: 2, voters: 4, quorum: 3 });
  assert.equal(c.get(1).storage.lastIndex(), last, 'nothing appended');
});

test('an add with enough live voters is accepted; a one-voter shard refuses a second voter unless forced', () => {
  const { c } = setup([1, 2, 3], 1);
  proposeChange(c, 1, cc(ConfigChangeType.AddVoter, 4), 503);
  assert.deepEqual(voters(c, 1), [1, 2, 3, 4], '3 live of 4, quorum 3');

  const solo = setup([1], 1);
  proposeChange(solo.c, 1, cc(ConfigChangeType.AddVoter, 2), 504);
  assert.deepEqual(decodeShortfall(droppedAt(solo.rec, 1, 504)[0]!.cmd), { live: 1, voters: 2, quorum: 2 });
  assert.deepEqual(voters(solo.c, 1), [1]);
  // The override: the Propose's force hint.
  solo.c.get(1).peer.propose([entry({ term: 0, index: 0, type: EntryType.ConfigChange, key: 505, cmd: encodeConfigChange(cc(ConfigChangeType.AddVoter, 2)) })], true);
  solo.c.stabilize();
  assert.deepEqual(droppedAt(solo.rec, 1, 505), []);
  assert.deepEqual(voters(solo.c, 1), [1, 2], 'forced through');
});

test('a promotion counts the non-voting member only when it is live and caught up', () => {
  const { c } = setup([1], 1, [], [2, 3]);
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 2), 506);
  proposeChange(c, 1, cc(ConfigChangeType.AddNonVoting, 3), 507);
  c.tick(2);
  assert.deepEqual([...c.get(1).membership.nonVoting.keys()].sort(), [2, 3]);
  // 2 is live and caught up: 1 → 2 voters by promotion is fine.
  proposeChange(c, 1, cc(ConfigChangeType.AddVoter, 2), 508);
  assert.deepEqual(voters(c, 1), [1, 2]);
  // 3 stopped answering: {1, 2, 3} has quorum 2 and 1, 2 are live, so even that is fine ...
  c.crash(3);
  c.tick(ELECTION + 1);
  proposeChange(c, 1, cc(ConfigChangeType.AddVoter, 3), 509);
  assert.deepEqual(voters(c, 1), [1, 2, 3]);
  // ... but a lone voter may not promote a non-voting member that stopped answering.
  const two = setup([1], 1, [], [2]);
  proposeChange(two.c, 1, cc(ConfigChangeType.AddNonVoting, 2), 510);
  two.c.tick(2);
  two.c.crash(2);
  two.c.tick(ELECTION + 1);
  proposeChange(two.c, 1, cc(ConfigChangeType.AddVoter, 2), 511);
  assert.deepEqual(decodeShortfall(droppedAt(two.rec, 1, 511)[0]!.cmd), { live: 1, voters: 2, quorum: 2 });
  assert.deepEqual(voters(two.c, 1), [1]);
});

test('a joint change is checked on its incoming voters; removing a live voter is refused, a dead one is not', () => {
  const { c, rec } = setup([1, 2, 3], 1, [3]);
  proposeChange(c, 1, enter([{ type: ConfigChangeType.AddVoter, replicaId: 4, address: 'addr-4' }]), 512);
  assert.deepEqual(decodeShortfall(droppedAt(rec, 1, 512)[0]!.cmd), { live: 2, voters: 4, quorum: 3 });
  assert.equal(c.get(1).membership.joint, undefined);
  // Removing live voter 2 leaves {1, 3} with only 1 live.
  proposeChange(c, 1, cc(ConfigChangeType.RemoveReplica, 2), 513);
  assert.deepEqual(decodeShortfall(droppedAt(rec, 1, 513)[0]!.cmd), { live: 1, voters: 2, quorum: 2 });
  // Removing the dead voter 3 is always fine.
  proposeChange(c, 1, cc(ConfigChangeType.RemoveReplica, 3), 514);
  assert.deepEqual(droppedAt(rec, 1, 514), []);
  assert.deepEqual(voters(c, 1), [1, 2]);

  const all = setup([1, 2, 3], 1);
  proposeChange(all.c, 1, enter([{ type: ConfigChangeType.AddVoter, replicaId: 4, address: 'addr-4' }, { type: ConfigChangeType.RemoveReplica, replicaId: 3, address: '' }]), 515);
  all.c.tick(3);
  // Incoming {1, 2, 4}: 1 and 2 live (4 is new: never counted), quorum 2 — accepted.
  assert.deepEqual(voters(all.c, 1), [1, 2, 4]);
});

test('a leader that has led for less than an election timeout holds a short change, and refuses it once its view is complete', () => {
  const { c, rec } = makeCluster({ voters: [1], config: STRICT });
  elect(c, 1);
  const last = c.get(1).storage.lastIndex();
  proposeChange(c, 1, cc(ConfigChangeType.AddVoter, 2), 516);
  assert.deepEqual(droppedAt(rec, 1, 516), [], 'held, not refused yet');
  c.tick(ELECTION);
  assert.deepEqual(decodeShortfall(droppedAt(rec, 1, 516)[0]!.cmd), { live: 1, voters: 2, quorum: 2 });
  assert.equal(c.get(1).storage.lastIndex(), last, 'nothing appended');
});

test('without strictMembershipCheck (the core default) nothing is checked', () => {
  const { c } = makeCluster({ voters: [1] });
  elect(c, 1);
  c.tick(ELECTION + 1);
  proposeChange(c, 1, cc(ConfigChangeType.AddVoter, 2), 517);
  assert.deepEqual(voters(c, 1), [1, 2]);
});
