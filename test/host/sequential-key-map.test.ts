/**
 * The waiting proposals' key map against a plain `Map`: sequential keys from a 50-bit start
 * (as a replica numbers its proposals), gaps, keys of other replicas, keys far ahead and
 * behind, removals in and out of order, and a value stuck at the front while thousands of
 * later ones come and go (the window must not keep them all).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../src/core/random.js';
import { SequentialKeyMap } from '../../src/host/sequential-key-map.js';

function same(m: SequentialKeyMap<string>, model: Map<number, string>, what: string): void {
  assert.equal(m.size, model.size, `${what}: size`);
  const keys = [...model.keys()].sort((a, b) => a - b);
  assert.deepEqual(m.values(), keys.map((k) => model.get(k)), `${what}: values by key`);
}

for (const seed of [1, 2, 3]) {
  test(`sequential key map (seed ${seed}): matches a Map over 20,000 random operations`, () => {
    const rnd = new SeededRandom(seed);
    const m = new SequentialKeyMap<string>();
    const model = new Map<number, string>();
    const base = (rnd.intn(2 ** 20) + 1) * 2 ** 27;
    let next = base;
    for (let step = 0; step < 20_000; step++) {
      const op = rnd.intn(100);
      const what = `step ${step}`;
      if (op < 45) {
        // The next key, sometimes after a gap (keys used by another kind of request).
        const key = next + (rnd.intn(10) === 0 ? rnd.intn(5) : 0);
        next = key + 1;
        m.set(key, `v${key}`);
        model.set(key, `v${key}`);
      } else if (op < 48) {
        // Another replica's key, far off either way, or a key behind the window.
        const key = rnd.intn(3) === 0 ? base - 1 - rnd.intn(1000) : rnd.intn(2) === 0 ? rnd.intn(2 ** 30) : next + 100 + rnd.intn(1000);
        m.set(key, `o${key}`);
        model.set(key, `o${key}`);
      } else if (op < 88 && model.size > 0) {
        // Mostly the oldest (in order), sometimes any.
        const keys = [...model.keys()];
        const key = rnd.intn(4) === 0 ? keys[rnd.intn(keys.length)]! : Math.min(...keys);
        assert.equal(m.delete(key), true, `${what}: delete ${key}`);
        model.delete(key);
        assert.equal(m.delete(key), false, `${what}: delete ${key} again`);
      } else {
        const key = rnd.intn(2) === 0 ? next - 1 - rnd.intn(50) : next + rnd.intn(50);
        assert.equal(m.get(key), model.get(key), `${what}: get ${key}`);
      }
      if (step % 97 === 0) same(m, model, what);
    }
    same(m, model, 'end');
    for (const [k, v] of model) assert.equal(m.get(k), v);
  });
}

test('sequential key map: a value stuck at the front does not make the window keep every later key', () => {
  const m = new SequentialKeyMap<number>();
  const base = 2 ** 49;
  m.set(base, 0);
  for (let k = 1; k <= 100_000; k++) {
    m.set(base + k, k);
    if (k > 8) m.delete(base + k - 8);
  }
  assert.equal(m.size, 9);
  assert.equal(m.get(base), 0, 'the stuck one is still found');
  assert.deepEqual(m.values(), [0, ...Array.from({ length: 8 }, (_, i) => 100_000 - 7 + i)]);
  const slots = (m as unknown as { slots: unknown[]; head: number });
  assert.ok(slots.slots.length - slots.head < 5000, `window of ${slots.slots.length - slots.head} slots for 9 values`);
  assert.equal(m.delete(base), true);
  assert.equal(m.get(base), undefined);
});
