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

test('automatic snapshots: due at the grid points N apart, at least N/2 past the newer of the snapshot and the last request, queued once, not while a save runs', () => {
  const s = new SnapshotState();
  assert.equal(s.autoDue(100, 0, 0), false, 'disabled');
  assert.equal(s.autoDue(99, 0, 100), false);
  assert.equal(s.autoDue(100, 0, 100), true);
  assert.equal(s.autoDue(150, 0, 100), false, 'already queued');
  assert.equal(s.startSave(true), true, 'the automatic save starts; no longer queued');
  assert.equal(s.autoDue(300, 0, 100), false, 'a save runs');
  s.done('save');
  assert.equal(s.autoDue(299, 250, 100), false, 'the snapshot at 250 moves the next point to 300');
  assert.equal(s.autoDue(300, 250, 100), true);
  s.startSave(true);
  s.done('save');
  assert.equal(s.autoDue(349, 320, 100), false, 'a snapshot at 320: 400 is the first point at least 50 past it');
  assert.equal(s.autoDue(399, 320, 100), false);
  assert.equal(s.autoDue(400, 320, 100), true);
  s.startSave(true);
  s.done('save');
  s.admit(480, false);
  assert.equal(s.autoDue(599, 400, 100), false, 'counted from the request at 480: 530 is too close, 600 is next');
  assert.equal(s.autoDue(600, 400, 100), true);
});

test('automatic snapshots with a phase: the grid is shifted, the spacing stays N', () => {
  const t = new SnapshotState();
  assert.equal(t.autoDue(65, 0, 100, 34), false, 'phase 34: the points are 66, 166, 266…');
  assert.equal(t.autoDue(66, 0, 100, 34), true);
  t.startSave(true);
  t.done('save');
  assert.equal(t.autoDue(165, 70, 100, 34), false, 'taken at 70 (an apply batch ran past 66): the next point is still 166');
  assert.equal(t.autoDue(166, 70, 100, 34), true);
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
