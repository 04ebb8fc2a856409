/**
 * The WAL syncs on the event loop only while the disk has been fast (issue 19): after a slow
 * fdatasync the next small idle commits sync on the thread pool, until fast syncs bring the
 * estimate back under the bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOOP_SYNC_MAX_MS, LoopSyncGate } from '../../src/logdb/loop-sync-gate.js';

test('loop sync gate: small idle commits sync on the loop while syncs are fast, not after a slow one, again once fast ones decay it', () => {
  const g = new LoopSyncGate();
  assert.equal(g.allow(true, 100, 4096), true, 'a fresh log: on the loop');
  assert.equal(g.allow(false, 100, 4096), false, 'not idle: thread pool');
  assert.equal(g.allow(true, 8192, 4096), false, 'too large: thread pool');
  g.record(0.5);
  assert.equal(g.allow(true, 100, 4096), true);
  g.record(40);
  assert.equal(g.allow(true, 100, 4096), false, 'after a 40 ms sync: thread pool');
  let n = 0;
  while (!g.allow(true, 100, 4096)) { g.record(0.5); n++; }
  // 40 ms × 0.9^n ≤ 2 ms: n = ceil(log(20) / log(1 / 0.9)) = 29.
  assert.equal(n, Math.ceil(Math.log(40 / LOOP_SYNC_MAX_MS) / Math.log(1 / 0.9)));
  assert.ok(g.estimateMs <= LOOP_SYNC_MAX_MS);
});
