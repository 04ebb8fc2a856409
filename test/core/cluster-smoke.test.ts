import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster } from './support/test-cluster.js';

test('three voters elect a leader and apply a proposal everywhere (§5.2, §5.3)', () => {
  const c = new TestCluster({ voters: [1, 2, 3], config: { electionTicks: 10, heartbeatTicks: 1 } });
  c.elect(1);
  assert.equal(c.leader(), 1);
  c.propose(1, 'hello');
  c.propose(2, 'forwarded');
  for (const r of c.replicas.values()) {
    assert.equal(r.appliedIndex, 6); // 3 bootstrap + no-op + 2 proposals
  }
  const d = c.get(1).digest;
  for (const r of c.replicas.values()) assert.equal(r.digest, d);
});

test('a single voter commits its own proposals', () => {
  const c = new TestCluster({ voters: [1] });
  c.tick(25);
  assert.equal(c.leader(), 1);
  c.propose(1, 'x');
  assert.equal(c.get(1).appliedIndex, 3);
});
