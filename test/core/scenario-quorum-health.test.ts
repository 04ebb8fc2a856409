/**
 * The quorum-health view of `Peer.status().quorum`: what check-quorum (thesis §6.2) will decide,
 * visible before it acts. Logical time only: deterministic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ELECTION, elect, makeCluster } from './support/scenario.js';

test('quorum health: every voter active after election; a crashed one is lost after an election timeout', () => {
  const { c } = makeCluster({ voters: [1, 2, 3, 4, 5] });
  elect(c, 1);
  c.tick(1);
  assert.deepEqual(c.get(1).peer.status().quorum, { voters: 5, quorum: 3, active: [1, 2, 3, 4, 5], lost: [], failuresToLoss: 3 });
  for (const id of [2, 3, 4, 5]) assert.equal(c.get(id).peer.status().quorum, null, 'followers have no view');

  c.crash(4);
  c.crash(5);
  c.tick(ELECTION - 1);
  assert.equal(c.get(1).peer.status().quorum?.lost.length, 0, 'still within an election timeout of their last answer');
  c.tick(2);
  assert.deepEqual(c.get(1).peer.status().quorum, { voters: 5, quorum: 3, active: [1, 2, 3], lost: [4, 5], failuresToLoss: 1 },
    'one more failure loses the quorum');
  assert.equal(c.leader(), 1, 'three of five still hold it');
});

test('quorum health: an isolated leader sees its quorum lost before it steps down', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.isolate(1);
  let seen = false;
  for (let i = 0; i < 3 * ELECTION && c.get(1).peer.status().role === 'leader'; i++) {
    c.tick(1, 1);
    const q = c.get(1).peer.status().quorum;
    if (q?.failuresToLoss === 0) {
      seen = true;
      assert.deepEqual(q.lost, [2, 3]);
    }
  }
  assert.ok(seen, 'failuresToLoss reached 0 while it still led');
  assert.notEqual(c.get(1).peer.status().role, 'leader', 'check-quorum then stepped it down');
});

test('campaigns are counted in the status', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  assert.ok(c.get(1).peer.status().campaigns >= 1);
  assert.equal(c.get(2).peer.status().campaigns, 0);
});
