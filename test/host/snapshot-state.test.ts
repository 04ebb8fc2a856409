/**
 * A replica's snapshot flags (`snapshot-state.ts`): §2 admission, automatic snapshots, one save
 * at a time, and "busy" while any save, recovery or stream image is requested or running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnapshotState } from '../../src/host/snapshot-state.js';

test('§2 admission: nothing applied, or nothing new since the last local request, is refused; exports always pass and are not recorded', () => {
  const s = new SnapshotState();
  assert.equal(s.admit(0, false), false, 'nothing applied');
  assert.equal(s.admit(0, true), false, 'not even an export of nothing');
  assert.equal(s.admit(10, false), true);
  assert.equal(s.requestedIndex, 10);
  assert.equal(s.admit(10, false), false, 'nothing new since index 10');
  assert.equal(s.admit(10, true), true, 'an export is always taken');
  assert.equal(s.requestedIndex, 10, 'and does not count as the requested index');
  assert.equal(s.admit(11, false), true);
});

test('automatic snapshots: due every N applied entries past the newer of the snapshot and the last request, queued once, not while a save runs', () => {
  const s = new SnapshotState();
  assert.equal(s.autoDue(100, 0, 0), false, 'disabled');
  assert.equal(s.autoDue(99, 0, 100), false);
  assert.equal(s.autoDue(100, 0, 100), true);
  assert.equal(s.autoDue(150, 0, 100), false, 'already queued');
  assert.equal(s.startSave(true), true, 'the automatic save starts; no longer queued');
  assert.equal(s.autoDue(300, 0, 100), false, 'a save runs');
  s.done('save');
  assert.equal(s.autoDue(300, 250, 100), false, 'counted from the snapshot at 250');
  s.admit(400, false);
  assert.equal(s.autoDue(450, 250, 100), false, 'counted from the request at 400');
  assert.equal(s.autoDue(500, 250, 100), true);
});

test('exclusivity: one save at a time (the second is refused, an automatic one un-queued); busy while anything is requested or running', () => {
  const s = new SnapshotState();
  assert.equal(s.busy, false);
  assert.equal(s.startSave(false), true);
  assert.equal(s.saving, true);
  assert.equal(s.autoDue(1000, 0, 10), false);
  assert.equal(s.startSave(false), false, 'a user request while a save runs is refused');
  assert.equal(s.startSave(true), false);
  s.start('recover');
  s.start('stream');
  s.done('save');
  assert.equal(s.saving, false);
  assert.equal(s.busy, true, 'a recovery and a stream image are still requested');
  s.done('recover');
  assert.equal(s.busy, true);
  s.done('stream');
  assert.equal(s.busy, false);
  s.done('stream');
  assert.equal(s.busy, false, 'an extra done does not go negative');
  s.start('stream');
  assert.equal(s.busy, true);
});
