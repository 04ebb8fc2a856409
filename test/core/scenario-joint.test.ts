/**
 * Joint consensus (Raft thesis §4.3, etcd's ConfChangeV2) end to end in the core: entering a
 * joint configuration, leaving it by itself (auto-leave) or when asked, the double majority
 * while joint, and the leader stepping down once it is no longer a voter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigChangeType, EntryType, decodeConfigChange, type ConfigChange, type ConfigChangeOp, type Message } from '../../src/core/index.js';
import type { TestCluster } from './support/test-cluster.js';
import { ELECTION, elect, makeCluster, proposeChange } from './support/scenario.js';

function enter(ops: ConfigChangeOp[], autoLeave: boolean): ConfigChange {
  return { configChangeId: 0, type: ConfigChangeType.EnterJoint, replicaId: 0, address: '', initialize: false, ops, autoLeave };
}
const leave: ConfigChange = { configChangeId: 0, type: ConfigChangeType.LeaveJoint, replicaId: 0, address: '', initialize: false };
const add = (id: number): ConfigChangeOp => ({ type: ConfigChangeType.AddVoter, replicaId: id, address: `addr-${id}` });
const remove = (id: number): ConfigChangeOp => ({ type: ConfigChangeType.RemoveReplica, replicaId: id, address: '' });
const demote = (id: number): ConfigChangeOp => ({ type: ConfigChangeType.AddNonVoting, replicaId: id, address: '' });

function voters(c: TestCluster, id: number): number[] {
  return [...c.get(id).membership.voters.keys()].sort((a, b) => a - b);
}

test('thesis §4.3 replace two voters in one joint change: auto-leave reaches the final configuration everywhere', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], joiners: [{ id: 4 }, { id: 5 }] });
  elect(c, 1);
  c.propose(1, 'before');
  proposeChange(c, 1, enter([add(4), add(5), remove(2), remove(3)], true));
  c.tick(5);
  for (const id of [1, 4, 5]) {
    assert.deepEqual(voters(c, id), [1, 4, 5], `replica ${id}`);
    assert.equal(c.get(id).membership.joint, undefined, `replica ${id} left the joint configuration`);
  }
  assert.ok(c.get(1).membership.removed.has(2) && c.get(1).membership.removed.has(3));
  c.propose(1, 'after');
  assert.equal(c.get(4).digest, c.get(1).digest);
});

test('thesis §4.3 while joint, a commit needs a majority of the old voters too', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], joiners: [{ id: 4 }, { id: 5 }] });
  elect(c, 1);
  proposeChange(c, 1, enter([add(4), add(5), remove(2), remove(3)], false));
  c.tick(3);
  const l = c.get(1);
  assert.ok(l.membership.joint !== undefined, 'joint, no auto-leave');
  // The new half {1,4,5} is all up, the old half {1,2,3} has only the leader: nothing commits.
  c.crash(2);
  c.crash(3);
  const commit = l.peer.status().commit;
  c.propose(1, 'needs-both');
  c.tick(3);
  assert.equal(l.peer.status().commit, commit, 'no majority of the outgoing half');
  c.restart(2);
  c.tick(5);
  assert.ok(l.peer.status().commit > commit, 'committed once the outgoing half has a majority');
  proposeChange(c, 1, leave);
  c.tick(5);
  assert.equal(l.membership.joint, undefined);
  assert.deepEqual(voters(c, 1), [1, 4, 5]);
});

test('thesis §4.3 a leader removed in a joint change leads until the leave is applied, then steps down', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], joiners: [{ id: 4 }] });
  elect(c, 1);
  proposeChange(c, 1, enter([add(4), remove(1)], false));
  c.tick(3);
  assert.ok(c.get(1).membership.joint !== undefined);
  assert.equal(c.get(1).peer.isLeader, true, 'still leads while in the outgoing half');
  proposeChange(c, 1, leave);
  c.tick(3);
  assert.equal(c.get(1).peer.isLeader, false, 'stepped down once not a voter of the final configuration');
  c.tick(4 * ELECTION);
  const leaders = [2, 3, 4].filter((id) => c.get(id).peer.isLeader);
  assert.equal(leaders.length, 1, 'the remaining voters elected a leader');
  assert.deepEqual(voters(c, leaders[0]!), [2, 3, 4]);
});

test('thesis §4.3 demote in a joint change: the demoted voter keeps voting until the leave, then is non-voting', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], joiners: [{ id: 4 }] });
  elect(c, 1);
  proposeChange(c, 1, enter([add(4), demote(3)], false));
  c.tick(3);
  const m = c.get(1).membership;
  assert.deepEqual([...(m.joint?.nonVotingNext.keys() ?? [])], [3]);
  assert.equal(c.get(3).peer.status().role, 'follower', 'a voter of the outgoing half');
  proposeChange(c, 1, leave);
  c.tick(3);
  assert.equal(c.get(3).peer.status().role, 'non-voting');
  assert.deepEqual([...c.get(1).membership.nonVoting.keys()], [3]);
  c.propose(1, 'after');
  c.tick(2);
  assert.equal(c.get(3).digest, c.get(1).digest, 'it still receives the log');
});

test('etcd auto-leave: a new leader that finds the shard joint with auto-leave proposes the leave itself', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], joiners: [{ id: 4 }] });
  elect(c, 1);
  c.get(1).peer.proposeConfigChange(enter([add(4)], true), 0);
  // Run by hand, dropping every message that carries the leader's leave entry: the
  // followers learn the enter entry committed and apply it, but never see the leave.
  const isLeave = (m: Message): boolean => m.from === 1 && m.entries.some((e) => e.type === EntryType.ConfigChange && decodeConfigChange(e.cmd).type === ConfigChangeType.LeaveJoint);
  let dropped = 0;
  const run = (): void => {
    for (let round = 0; round < 100; round++) {
      const out: Message[] = [];
      for (const id of [1, 2, 3, 4]) if (!c.isDown(id)) c.get(id).process((m) => out.push(m));
      if (out.length === 0) return;
      for (const m of out) {
        if (isLeave(m)) dropped++;
        else c.get(m.to).peer.step(m);
      }
    }
  };
  run();
  // Heartbeats carry the commit index.
  for (let i = 0; i < 3; i++) {
    for (const id of [1, 2, 3, 4]) c.get(id).peer.tick();
    run();
  }
  assert.ok(dropped > 0, 'the leader proposed the leave');
  c.crash(1);
  assert.ok([2, 3].every((id) => c.get(id).membership.joint?.autoLeave === true), 'the others applied the enter entry (4, still catching up, had it in the dropped messages)');
  c.tick(6 * ELECTION);
  const l = [2, 3, 4].find((id) => c.get(id).peer.isLeader);
  assert.ok(l !== undefined, 'a new leader');
  c.tick(3);
  for (const id of [2, 3, 4]) {
    assert.equal(c.get(id).membership.joint, undefined, `replica ${id} left the joint configuration`);
    assert.deepEqual(voters(c, id), [1, 2, 3, 4]);
  }
});

test('etcd auto-leave: held back by a leader transfer, the leave is proposed once the transfer is abandoned', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], joiners: [{ id: 4 }] });
  elect(c, 1);
  c.isolate(3);
  // The enter entry is appended at once; the transfer to the unreachable 3 starts before it applies.
  c.get(1).peer.proposeConfigChange(enter([add(4)], true), 0);
  c.get(1).peer.requestLeaderTransfer(3);
  c.stabilize();
  assert.equal(c.get(1).peer.status().leaderTransferTarget, 3);
  assert.ok(c.get(1).membership.joint?.autoLeave === true, 'joint, the leave held back by the transfer');
  c.tick(2 * ELECTION);
  assert.equal(c.get(1).peer.isLeader, true);
  assert.equal(c.get(1).membership.joint, undefined, 'left once the transfer was abandoned');
  assert.deepEqual(voters(c, 1), [1, 2, 3, 4]);
});
