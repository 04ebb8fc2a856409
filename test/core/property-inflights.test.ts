/**
 * Property test of the in-flight window (inflights.ts) against a plain array model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Inflights } from '../../src/core/inflights.js';

type Op =
  | { readonly k: 'add'; readonly step: number; readonly size: number }
  | { readonly k: 'freeTo'; readonly back: number }
  | { readonly k: 'freeFirst' }
  | { readonly k: 'reset' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('add' as const), step: fc.integer({ min: 1, max: 4 }), size: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('freeTo' as const), back: fc.integer({ min: -2, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('freeFirst' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reset' as const) }) },
);

test('property: Inflights behaves like an array of (index, size) with a count and a byte limit', () => {
  const arb = fc.record({
    maxCount: fc.integer({ min: 1, max: 8 }),
    maxBytes: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1500 })),
    ops: fc.array(opArb, { maxLength: 200 }),
  });
  fc.assert(fc.property(arb, ({ maxCount, maxBytes, ops }) => {
    const inf = new Inflights(maxCount, maxBytes);
    let model: Array<{ index: number; size: number }> = [];
    let lastIndex = 0;
    for (const op of ops) {
      switch (op.k) {
        case 'add':
          // The leader never adds to a full window.
          if (inf.full()) break;
          lastIndex += op.step;
          inf.add(lastIndex, op.size);
          model.push({ index: lastIndex, size: op.size });
          break;
        case 'freeTo': {
          const to = lastIndex - op.back;
          inf.freeTo(to);
          model = model.filter((x) => x.index > to);
          break;
        }
        case 'freeFirst':
          inf.freeFirstOne();
          model = model.slice(1);
          break;
        case 'reset':
          inf.reset();
          model = [];
          break;
      }
      const bytes = model.reduce((s, x) => s + x.size, 0);
      assert.equal(inf.count, model.length);
      assert.equal(inf.inflightBytes, bytes);
      assert.equal(inf.full(), model.length >= maxCount || (maxBytes > 0 && bytes >= maxBytes));
      assert.ok(inf.count <= maxCount);
    }
  }), { seed: 0x1f1f, numRuns: 500 });
});
