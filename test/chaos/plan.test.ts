/**
 * The nemesis schedule is a pure function of the seed (so `--seed S` replays the same faults),
 * stays inside the run, and draws only the fault kinds asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFaults } from '../../tools/chaos/runner.js';

test('the nemesis schedule follows from the seed and stays inside the run', () => {
  const a = planFaults(7, 60, ['kill', 'kill-leader', 'pause', 'pause-leader', 'snapshot', 'restart-all']);
  const b = planFaults(7, 60, ['kill', 'kill-leader', 'pause', 'pause-leader', 'snapshot', 'restart-all']);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, planFaults(8, 60, ['kill', 'kill-leader', 'pause', 'pause-leader', 'snapshot', 'restart-all']));
  assert.ok(a.length >= 5, `${a.length} faults in 60 s`);
  for (let i = 0; i < a.length; i++) {
    const p = a[i];
    assert.ok(p !== undefined && p.at < 57_000 && p.duration >= 0);
    if (i > 0) assert.ok(p.at > (a[i - 1]?.at ?? 0) + (a[i - 1]?.duration ?? 0), 'faults do not overlap');
  }
  const only = planFaults(3, 60, ['pause']);
  assert.ok(only.length > 0 && only.every((p) => p.kind === 'pause'));
  assert.deepEqual(planFaults(3, 60, []), []);
});
