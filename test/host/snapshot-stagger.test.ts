/**
 * Where each replica takes its automatic snapshots (`snapshot-stagger.ts`): the members of a
 * shard are spread over the interval by rank, the shards of a host by id, and the grid keeps
 * the spacing N whatever the apply batches overshoot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextAutoSnapshot, snapshotPhase } from '../../src/host/snapshot-stagger.js';
import type { Membership } from '../../src/core/types.js';

function members(voters: number[], nonVoting: number[] = [], witnesses: number[] = []): Membership {
  const m = (ids: number[]): Map<number, string> => new Map(ids.map((id) => [id, `127.0.0.1:${7000 + id}`]));
  return { configChangeId: 1, voters: m(voters), nonVoting: m(nonVoting), witnesses: m(witnesses), removed: new Set() };
}

test('three voters of shard 1 are a third of the interval apart, by rank of id (not by the ids themselves)', () => {
  const m = members([7, 1, 4]);
  assert.deepEqual([1, 4, 7].map((id) => snapshotPhase(m, 1, id, 9000)), [0, 3000, 6000]);
  const first = [1, 4, 7].map((id) => nextAutoSnapshot(0, 9000, snapshotPhase(m, 1, id, 9000)));
  assert.deepEqual(first, [9000, 6000, 12000]);
});

test('first points: rank 0 of shard 1 keeps N, 2N…; the others come between N/2 and 3N/2, then every N', () => {
  const m = members([1, 2, 3]);
  const pts = (id: number): number[] => {
    const ph = snapshotPhase(m, 1, id, 9000);
    const out = [nextAutoSnapshot(0, 9000, ph)];
    for (let i = 0; i < 3; i++) out.push(nextAutoSnapshot(out[out.length - 1] as number, 9000, ph));
    return out;
  };
  assert.deepEqual(pts(1), [9000, 18000, 27000, 36000]);
  assert.deepEqual(pts(2), [6000, 15000, 24000, 33000]);
  assert.deepEqual(pts(3), [12000, 21000, 30000, 39000]);
});

test('an overshoot does not drift the grid; a snapshot taken off the grid moves the next point at least N/2 on', () => {
  assert.equal(nextAutoSnapshot(9013, 9000, 0), 18000, 'taken 13 past its point: the next is still 18000');
  assert.equal(nextAutoSnapshot(13000, 9000, 0), 18000, 'a user snapshot at 13000: 18000 is 5000 on');
  assert.equal(nextAutoSnapshot(14000, 9000, 0), 27000, '18000 would be only 4000 on');
  for (let base = 0; base < 30; base++) {
    for (const phase of [0, 1, 5, 9]) {
      const t = nextAutoSnapshot(base, 10, phase);
      assert.equal((t + phase) % 10, 0, `on the grid (base ${base}, phase ${phase})`);
      assert.ok(t - base >= 5 && t - base < 15, `between N/2 and 3N/2 past ${base}: ${t}`);
    }
  }
});

test('non-voting members count, witnesses do not; a replica not among them has rank 0', () => {
  const m = members([1, 2], [3], [4]);
  assert.deepEqual([1, 2, 3].map((id) => snapshotPhase(m, 1, id, 300)), [0, 100, 200]);
  assert.equal(snapshotPhase(m, 1, 4, 300), 0, 'a witness (takes no snapshots anyway)');
  assert.equal(snapshotPhase(m, 1, 9, 300), 0, 'not a member');
});

test('the shards of one replica get different shifts; every phase lies in 0..N-1', () => {
  const m = members([1, 2, 3]);
  const phases = Array.from({ length: 16 }, (_, i) => snapshotPhase(m, i + 1, 1, 10000));
  assert.equal(new Set(phases).size, 16, `16 distinct phases: ${phases.join(' ')}`);
  const sorted = [...phases].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) assert.ok((sorted[i] as number) - (sorted[i - 1] as number) >= 300, `spread out: ${sorted.join(' ')}`);
  for (const every of [1, 2, 3, 7, 10000]) {
    for (let shard = 0; shard < 40; shard++) {
      for (const id of [1, 2, 3]) {
        const p = snapshotPhase(m, shard, id, every);
        assert.ok(Number.isInteger(p) && p >= 0 && p < every, `phase ${p} for every ${every}, shard ${shard}`);
      }
    }
  }
});
