/**
 * The leader's lease in a joint configuration (thesis §4.3 with §6.4.1): it runs from a tick
 * acknowledged by a majority of EACH half, as a new leader would need both. A majority of the
 * union of the halves is not enough: the outgoing half could still elect a leader of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderLease } from '../../src/core/lease.js';

test('a joint lease needs acknowledgements from a majority of both halves, not of their union', () => {
  const lease = new LeaderLease();
  lease.reset(0);
  const incoming = new Set([1, 4, 5]);
  const outgoing = new Set([1, 2, 3]);
  // The old voters 2 and 3 echoed tick 5: a majority of the union {1..5} with the leader, but
  // the incoming half has only the leader.
  lease.ack(2, 5);
  lease.ack(3, 5);
  assert.equal(lease.start(incoming, outgoing, 1, 6), -1);
  assert.equal(lease.valid(incoming, outgoing, 1, 6, 8), false);
  // Replica 4 of the incoming half echoes too: both halves have a majority from tick 5 on.
  lease.ack(4, 5);
  assert.equal(lease.start(incoming, outgoing, 1, 6), 5);
  assert.equal(lease.valid(incoming, outgoing, 1, 6, 8), true);
  assert.equal(lease.valid(incoming, outgoing, 1, 13, 8), false, 'expired 8 ticks after tick 5');
  // Not joint: the incoming half alone decides.
  assert.equal(lease.start(new Set([1, 2, 3]), new Set(), 1, 6), 5);
});
