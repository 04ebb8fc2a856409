/**
 * Property tests of the config-change codec (membership.ts) and the seeded random source
 * (random.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ConfigChangeType, SeededRandom, decodeConfigChange, encodeConfigChange, type ConfigChange,
} from '../../src/core/index.js';
import { CodecError } from '../../src/errors.js';

const SEED = 0xc0dec;

const addressArb = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary', maxLength: 300 }));

const simpleArb: fc.Arbitrary<ConfigChange> = fc.record({
  configChangeId: fc.maxSafeNat(),
  type: fc.constantFrom(ConfigChangeType.AddVoter, ConfigChangeType.RemoveReplica, ConfigChangeType.AddNonVoting, ConfigChangeType.AddWitness),
  replicaId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  address: addressArb,
  initialize: fc.boolean(),
});

/** Joint changes (payload version 2): ops, auto-leave, the order flags. */
const jointArb: fc.Arbitrary<ConfigChange> = fc.record({
  configChangeId: fc.maxSafeNat(),
  type: fc.constantFrom(ConfigChangeType.EnterJoint, ConfigChangeType.LeaveJoint),
  replicaId: fc.constant(0),
  address: fc.constant(''),
  initialize: fc.constant(false),
  ops: fc.array(fc.record({
    type: fc.constantFrom(ConfigChangeType.AddVoter, ConfigChangeType.AddNonVoting, ConfigChangeType.RemoveReplica),
    replicaId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    address: addressArb,
  }).map((o) => ({ ...o })), { maxLength: 5 }),
  autoLeave: fc.boolean(),
  ordered: fc.boolean(),
});

const ccArb: fc.Arbitrary<ConfigChange> = fc.oneof(simpleArb, jointArb);

test('property: decodeConfigChange(encodeConfigChange(cc)) equals cc', () => {
  fc.assert(fc.property(ccArb, (cc) => {
    assert.deepEqual(decodeConfigChange(encodeConfigChange(cc)), { ...cc });
  }), { seed: SEED, numRuns: 1000 });
});

test('property: decoding from a view into a larger buffer works (byteOffset honoured)', () => {
  fc.assert(fc.property(ccArb, fc.uint8Array({ maxLength: 9 }), fc.uint8Array({ maxLength: 9 }), (cc, pre, post) => {
    const enc = encodeConfigChange(cc);
    const buf = new Uint8Array(pre.length + enc.length + post.length);
    buf.set(pre, 0);
    buf.set(enc, pre.length);
    buf.set(post, pre.length + enc.length);
    assert.deepEqual(decodeConfigChange(buf.subarray(pre.length, pre.length + enc.length)), { ...cc });
  }), { seed: SEED, numRuns: 300 });
});

function decodesOrCodecError(b: Uint8Array): void {
  try {
    const cc = decodeConfigChange(b);
    assert.ok(Number.isSafeInteger(cc.replicaId) && Number.isSafeInteger(cc.configChangeId));
    assert.ok(Object.values(ConfigChangeType).includes(cc.type));
    assert.equal(typeof cc.address, 'string');
  } catch (e) {
    assert.ok(e instanceof CodecError, `threw ${String(e)}`);
  }
}

test('property: decoding random bytes yields a well-formed change or a CodecError, nothing else', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), decodesOrCodecError), { seed: SEED, numRuns: 2000 });
});

test('property: decoding a corrupted encoding yields a well-formed change or a CodecError', () => {
  const arb = fc.record({
    cc: ccArb,
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
    cut: fc.option(fc.nat()),
  });
  fc.assert(fc.property(arb, ({ cc, flips, cut }) => {
    const b = encodeConfigChange(cc).slice();
    for (const [at, x] of flips) b[at % b.length] = (b[at % b.length] as number) ^ x;
    decodesOrCodecError(cut === null ? b : b.subarray(0, cut % (b.length + 1)));
  }), { seed: SEED, numRuns: 2000 });
});

test('property: SeededRandom.intn(n) is an integer in [0, n)', () => {
  const arb = fc.record({
    seed: fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
    ns: fc.array(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })), { minLength: 1, maxLength: 50 }),
  });
  fc.assert(fc.property(arb, ({ seed, ns }) => {
    const r = new SeededRandom(seed);
    for (const n of ns) {
      const v = r.intn(n);
      assert.ok(Number.isInteger(v) && v >= 0 && v < n, `intn(${n}) = ${v}`);
    }
  }), { seed: SEED, numRuns: 1000 });
});

test('property: SeededRandom is deterministic per seed', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 40 }), (seed, ns) => {
    const a = new SeededRandom(seed);
    const b = new SeededRandom(seed);
    assert.deepEqual(ns.map((n) => a.intn(n)), ns.map((n) => b.intn(n)));
  }), { seed: SEED, numRuns: 500 });
});

test('SeededRandom: different seeds give different streams, and intn covers its range', () => {
  const streams = new Set<string>();
  for (let seed = 0; seed < 50; seed++) {
    const r = new SeededRandom(seed);
    streams.add(Array.from({ length: 8 }, () => r.intn(1000)).join(','));
  }
  assert.equal(streams.size, 50);
  const r = new SeededRandom(12345);
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 10000; i++) {
    const k = r.intn(10);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  for (const n of counts) assert.ok(n > 800 && n < 1200, `bucket count ${n}`);
});
