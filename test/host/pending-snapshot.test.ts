/**
 * A replica's one pending user snapshot request (`pending-snapshot.ts`): one at a time, handed
 * to the apply loop once, its deadline frees the slot, closing fails it and refuses more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClosedError, SystemBusyError, TimeoutError } from '../../src/errors.js';
import { PendingSnapshot, type SnapshotRequest } from '../../src/host/pending-snapshot.js';
import { Pending } from '../../src/host/request.js';
import { Deadlines } from '../../src/host/deadlines.js';

const deadlines = new Deadlines();

const local = (timeoutMs = 5000) => (cleanup: () => void): SnapshotRequest => ({
  req: new Pending<number>(deadlines, { timeoutMs }, cleanup), target: { kind: 'local' }, compactTo: () => null,
});

test('one request at a time: a second is SystemBusyError until the first settles', async () => {
  const p = new PendingSnapshot(4);
  const first = p.request(local());
  assert.equal(p.pending, true);
  assert.throws(() => p.request(local()), (e: unknown) => e instanceof SystemBusyError && /shard 4/.test(e.message));
  const taken = p.take();
  assert.ok(taken !== null);
  assert.equal(p.take(), null, 'handed to the apply loop once');
  assert.throws(() => p.request(local()), SystemBusyError, 'still pending while its save runs');
  taken.req.resolve(42);
  assert.equal(await first, 42);
  assert.equal(p.pending, false);
  const second = p.request(local());
  p.take()?.req.resolve(43);
  assert.equal(await second, 43);
});

test('deadline: the request fails with TimeoutError and frees the slot (taken or not)', async () => {
  const p = new PendingSnapshot(1);
  await assert.rejects(p.request(local(20)), TimeoutError);
  assert.equal(p.pending, false);
  assert.equal(p.take(), null);
  const again = p.request(local(20));
  assert.ok(p.take() !== null);
  await assert.rejects(again, TimeoutError);
  assert.equal(p.pending, false, 'a taken request that expired frees the slot too');
  const third = p.request(local());
  assert.ok(p.take() !== null, 'the new request is handed over afresh');
  p.close('stopped');
  await assert.rejects(third, ClosedError);
});

test('close: the pending request fails with ClosedError and later requests are refused with it', async () => {
  const p = new PendingSnapshot(1);
  const pending = p.request(local());
  p.close('replica 1 of shard 1 stopped');
  await assert.rejects(pending, (e: unknown) => e instanceof ClosedError && e.message === 'replica 1 of shard 1 stopped');
  assert.throws(() => p.request(local()), ClosedError);
  assert.equal(p.take(), null);
});
