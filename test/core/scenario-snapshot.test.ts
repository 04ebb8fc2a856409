/**
 * Log compaction and snapshot install (Raft paper §7): a follower behind a compacted leader
 * receives InstallSnapshot, restores and catches up; a failed snapshot is retried from probe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, ProgressState } from '../../src/core/index.js';
import type { TestCluster } from './support/test-cluster.js';
import { elect, makeCluster, proposeAt, tickUntil, traced } from './support/scenario.js';

/** A cluster whose leader 1 compacted past everything replica 3 has. */
function behindCompactedLeader(): ReturnType<typeof makeCluster> {
  const made = makeCluster({ voters: [1, 2, 3], snapshotEvery: 5, compactionOverhead: 0 });
  const { c } = made;
  elect(c, 1);
  c.propose(1, 'first');
  c.crash(3);
  c.get(1).peer.reportUnreachable(3); // as the host's transport would
  for (let i = 0; i < 20; i++) {
    proposeAt(c, 1, `p${i}`);
    c.stabilize();
  }
  const l = c.get(1);
  assert.ok(l.storage.firstIndex() > c.get(3).storage.lastIndex() + 1, 'the leader compacted what 3 needs');
  return made;
}

function assertCaughtUp(c: TestCluster, id: number): void {
  const l = c.get(1);
  assert.equal(c.get(id).appliedIndex, l.appliedIndex);
  assert.equal(c.get(id).digest, l.digest);
  assert.equal(c.get(id).storage.lastIndex(), l.storage.lastIndex());
}

test('§7 a follower behind a compacted leader receives InstallSnapshot, restores it and catches up', () => {
  const { c, rec } = behindCompactedLeader();
  c.restart(3);
  const from = c.trace.length;
  assert.ok(tickUntil(c, () => c.get(3).appliedIndex === c.get(1).appliedIndex, 5) > 0);
  const snaps = traced(c, (m) => m.type === MessageType.InstallSnapshot && m.to === 3, from);
  assert.equal(snaps.length, 1);
  const ss = snaps[0]?.snapshot;
  assert.ok(ss && ss.index > 0);
  assert.deepEqual(rec.snapshotsRestored.filter((s) => s.replica === 3).map((s) => s.index), [ss.index]);
  assert.equal(c.get(3).storage.firstIndex(), ss.index + 1, "the follower's log starts after the snapshot");
  assert.deepEqual([...c.get(3).membership.voters.keys()].sort(), [1, 2, 3], 'membership restored from the snapshot');
  // The entries after the snapshot came by Replicate, and the remote is back to pipelining.
  c.propose(1, 'after');
  assertCaughtUp(c, 3);
  assert.equal(c.get(1).peer.status().progress.get(3)?.state, ProgressState.Replicate);
});

test('§7 a failed snapshot send moves the remote back to probe, and the snapshot is sent again', () => {
  const { c } = behindCompactedLeader();
  let attempts = 0;
  c.filter = (m) => {
    if (m.type !== MessageType.InstallSnapshot) return true;
    attempts++;
    return attempts > 1; // the first one is lost; the cluster reports the failure
  };
  c.restart(3);
  c.tick(1);
  assert.equal(attempts, 1);
  assert.equal(c.get(1).peer.status().progress.get(3)?.state, ProgressState.Probe, 'failure: back to probe');
  assert.ok(c.get(3).appliedIndex < c.get(1).appliedIndex);
  assert.ok(tickUntil(c, () => c.get(3).appliedIndex === c.get(1).appliedIndex, 5) > 0, 'retried and caught up');
  assert.equal(attempts, 2);
  assertCaughtUp(c, 3);
});

test('§7 a replica restarts from its own snapshot plus the log after it', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], snapshotEvery: 4, compactionOverhead: 1 });
  elect(c, 1);
  for (let i = 0; i < 10; i++) c.propose(1, `q${i}`);
  const two = c.get(2);
  assert.ok(two.storage.snapshot().index > 0);
  const digest = two.digest;
  const applied = two.appliedIndex;
  c.crash(2);
  c.restart(2);
  c.tick(2);
  assert.equal(two.appliedIndex, applied);
  assert.equal(two.digest, digest);
  c.propose(1, 'later');
  assertCaughtUp(c, 2);
});
