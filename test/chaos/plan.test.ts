/**
 * The nemesis schedule is a pure function of the seed (so `--seed S` replays the same faults),
 * stays inside the run, and draws only the fault kinds asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_KINDS, NETWORK_FAULTS, PROCESS_FAULTS, planFaults } from '../../tools/chaos/plan.js';

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

test('every fault kind is planned, each with a duration in its range', () => {
  const seen = new Map<string, number[]>();
  for (let seed = 1; seed <= 40; seed++) {
    for (const p of planFaults(seed, 60, FAULT_KINDS)) seen.set(p.kind, [...(seen.get(p.kind) ?? []), p.duration]);
  }
  assert.deepEqual([...seen.keys()].sort(), [...FAULT_KINDS].sort());
  const within = (kinds: readonly string[], lo: number, hi: number): void => {
    for (const k of kinds) for (const d of seen.get(k) ?? []) assert.ok(d >= lo && d <= hi, `${k}: ${d} ms`);
  };
  within(NETWORK_FAULTS, 1000, 6000);
  within(['membership', 'joint-replace'], 300, 3000);
  within(['transfer'], 300, 1500);
  within(['rolling-restart'], 300, 2000);
  within(['disk', 'kill', 'kill-leader', 'new-address'], 200, 4000);
  within(['snapshot'], 0, 0);
  // The process faults alone plan what they planned before the other kinds existed (so the
  // seeds of the first runs in RELIABILITY.md replay with `--faults process`).
  assert.deepEqual(planFaults(7, 60, PROCESS_FAULTS).slice(0, 3).map((p) => [p.kind, p.at, p.duration]),
    [['restart-all', 2342, 847], ['pause-leader', 4535, 6189], ['pause-leader', 13016, 2050]]);
});
