import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from '../../tools/sim/simulator.js';

// The deterministic simulator over many seeds: safety after every step, liveness at the end.
// A failure names the seed; `npm run sim -- --seed S …` replays it exactly.
function runSeeds(first: number, count: number, shards: number, replicas: number, asyncWrites = false, readMode?: 'lease'): number {
  const failures: string[] = [];
  let applied = 0;
  let elections = 0;
  let leaseReads = 0;
  for (let seed = first; seed < first + count; seed++) {
    const r = runSeed({ seed, shards, replicas, steps: 1500, asyncWrites, readMode });
    applied += r.stats['applied'] ?? 0;
    leaseReads += r.stats['leaseReads'] ?? 0;
    elections += r.stats['elections'] ?? 0;
    if (r.violations.length > 0) {
      failures.push(`seed ${seed}: ${r.violations.join('; ')} — replay: npm run sim -- --seed ${seed} --shards ${shards} --replicas ${replicas}${asyncWrites ? ' --async' : ''}${readMode ? ` --read-mode ${readMode}` : ''}`);
    }
  }
  assert.deepEqual(failures, []);
  // The runs did real work: entries were applied and leaders were elected many times.
  assert.ok(applied > count * 100, `only ${applied} entries applied`);
  assert.ok(elections > count * 3, `only ${elections} elections`);
  return leaseReads;
}

test('simulator: 500 seeds, 2 shards × 3 replicas, under every fault', () => {
  runSeeds(1, 500, 2, 3);
});

test('simulator: 100 seeds, 3 shards × 5 replicas, under every fault', () => {
  runSeeds(10_001, 100, 3, 5);
});

test('simulator: 300 seeds with async storage writes (several updates in flight per replica, as the engine runs)', () => {
  runSeeds(20_001, 300, 2, 3, true);
});

test('simulator: 100 seeds reading by lease, every host\'s clock drifting within the configured bound', () => {
  const leaseReads = runSeeds(30_001, 100, 2, 3, false, 'lease');
  assert.ok(leaseReads > 1000, `only ${leaseReads} reads answered by lease`);
});

test('simulator: the same seed replays to the same result', () => {
  const a = runSeed({ seed: 4242, steps: 800 });
  const b = runSeed({ seed: 4242, steps: 800 });
  assert.deepEqual(a, b);
  assert.ok((a.stats['applied'] ?? 0) > 0);
});

// Seeds that once failed, kept as regression tests (each with what it found):
// - 152: a removed replica that never learnt of its removal kept bumping the term and stalled
//   the shard (fixed: messages from removed ids are ignored, thesis §4.2.3).
// - 464: a snapshot stream to a crashed replica ended with no status, leaving the leader's
//   progress in Snapshot state for ever (fixed in the simulated transport, which, like the
//   real ones, now reports the end of every stream).
// - 20410 (5 replicas, 3 shards): a follower whose appends were lost in replicate state was
//   never repaired on an idle shard (fixed: heartbeat responses send an empty Replicate).
test('simulator: regression seeds', () => {
  for (const [seed, shards, replicas] of [[152, 2, 3], [464, 2, 3], [20410, 3, 5]] as const) {
    const r = runSeed({ seed, shards, replicas, steps: 1500 });
    assert.deepEqual(r.violations, [], `seed ${seed}`);
  }
});
