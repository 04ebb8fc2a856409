/**
 * The linearizability checker on small histories whose verdict is known: stale reads, lost
 * writes, CAS races, timed-out writes that may or may not take effect; and, as a property,
 * histories produced by a real atomic register are always accepted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkHistory, checkKey, lostWrites, type KvOp, type OpKind, type OpStatus } from '../../tools/chaos/linearizability.js';

let nextId = 1;
interface OpSpec {
  f: OpKind;
  call: number;
  ret?: number;
  status?: OpStatus;
  key?: string;
  value?: string;
  expected?: string | null;
  read?: string | null;
  ok?: boolean;
  current?: string | null;
  client?: number;
}
function op(s: OpSpec): KvOp {
  return { id: nextId++, client: s.client ?? 0, key: s.key ?? 'k', status: s.status ?? 'ok', ...s };
}
const put = (value: string, call: number, ret?: number, status?: OpStatus): KvOp => op({ f: 'put', value, call, ret, status: status ?? (ret === undefined ? 'info' : 'ok') });
const get = (read: string | null, call: number, ret: number): KvOp => op({ f: 'get', read, call, ret });
const del = (call: number, ret?: number): KvOp => op({ f: 'delete', call, ret, status: ret === undefined ? 'info' : 'ok' });
const cas = (expected: string | null, value: string, call: number, ret: number | undefined, ok?: boolean, current?: string | null): KvOp =>
  op({ f: 'cas', expected, value, call, ret, ok, current, status: ret === undefined ? 'info' : 'ok' });

const verdict = (ops: KvOp[]): string => checkHistory(ops).verdict;

test('sequential put, get, delete is linearizable; reading the initial absent value is fine', () => {
  assert.equal(verdict([get(null, 0, 1), put('a', 2, 3), get('a', 4, 5), del(6, 7), get(null, 8, 9)]), 'linearizable');
  assert.equal(verdict([]), 'linearizable');
});

test('stale read: an old value read after a newer write completed is not linearizable', () => {
  assert.equal(verdict([put('a', 0, 1), put('b', 2, 3), get('a', 4, 5)]), 'not-linearizable');
  // Concurrent with the newer write, either value is fine.
  assert.equal(verdict([put('a', 0, 1), put('b', 2, 6), get('a', 4, 5)]), 'linearizable');
  assert.equal(verdict([put('a', 0, 1), put('b', 2, 6), get('b', 4, 5)]), 'linearizable');
  // But once a read saw the new value, a later read may not go back.
  assert.equal(verdict([put('a', 0, 1), put('b', 2, 10), get('b', 3, 4), get('a', 5, 6)]), 'not-linearizable');
  // A stale read after a delete completed.
  assert.equal(verdict([put('a', 0, 1), del(2, 3), get('a', 4, 5)]), 'not-linearizable');
});

test('lost write: an acknowledged write never visible is not linearizable', () => {
  assert.equal(verdict([put('a', 0, 1), get(null, 2, 3)]), 'not-linearizable');
  assert.equal(verdict([put('a', 0, 1), put('b', 2, 3), get('a', 10, 11), get('a', 12, 13)]), 'not-linearizable');
  const h = [put('a', 0, 1), put('b', 2, 3)];
  assert.deepEqual(lostWrites(h, new Map([['k', 'b']])), []);
  assert.equal(lostWrites(h, new Map([['k', 'a']])).length, 1, 'an overwritten value as the final state');
  assert.equal(lostWrites(h, new Map([['k', null]])).length, 1, 'the key gone');
  assert.equal(lostWrites([put('a', 0, 5), put('b', 2, 3)], new Map([['k', 'a']])).length, 0, 'concurrent writes: either may be last');
  assert.equal(lostWrites([put('a', 0, 1), put('b', 2)], new Map([['k', 'a']])).length, 0, 'an unknown write may never apply');
  assert.equal(lostWrites([], new Map([['k', null]])).length, 0);
  assert.equal(lostWrites([], new Map([['k', 'zz']])).length, 1, 'a value nobody wrote');
});

test('a read of a value before its write was invoked, or of a failed write, is not linearizable', () => {
  assert.equal(verdict([get('a', 0, 1), put('a', 2, 3)]), 'not-linearizable');
  assert.equal(verdict([put('a', 0, 1, 'fail'), get('a', 2, 3)]), 'not-linearizable');
  assert.equal(verdict([put('a', 0, 1, 'fail'), get(null, 2, 3)]), 'linearizable');
});

test('compare-and-set: one winner per expected value; a loser reports the current value', () => {
  // Two concurrent CAS from absent: exactly one may win.
  assert.equal(verdict([cas(null, 'x', 0, 5, true), cas(null, 'y', 1, 4, true)]), 'not-linearizable');
  assert.equal(verdict([cas(null, 'x', 0, 5, true), cas(null, 'y', 1, 4, false, 'x')]), 'linearizable');
  assert.equal(verdict([cas(null, 'x', 0, 5, true), cas(null, 'y', 1, 4, false, 'z')]), 'not-linearizable');
  // A CAS that fails although the expected value is there.
  assert.equal(verdict([put('a', 0, 1), cas('a', 'b', 2, 3, false, 'a')]), 'not-linearizable');
  // A chain of CAS, then reads.
  assert.equal(verdict([put('a', 0, 1), cas('a', 'b', 2, 3, true), cas('b', 'c', 4, 5, true), get('c', 6, 7)]), 'linearizable');
  assert.equal(verdict([put('a', 0, 1), cas('a', 'b', 2, 3, true), cas('a', 'c', 4, 5, true)]), 'not-linearizable');
  // A CAS that wins against a value only an unknown write could have put there.
  assert.equal(verdict([put('a', 0), cas('a', 'b', 2, 3, true)]), 'linearizable');
  assert.equal(verdict([put('a', 4), cas('a', 'b', 0, 3, true)]), 'not-linearizable');
});

test('timed-out writes may take effect at any later time, or never, but only once', () => {
  // Unknown outcome, never seen: fine.
  assert.equal(verdict([put('a', 0), get(null, 5, 6)]), 'linearizable');
  // Seen much later: fine (it took effect late).
  assert.equal(verdict([put('a', 0), get(null, 5, 6), get('a', 100, 101)]), 'linearizable');
  // Seen, then gone without any other write: not linearizable.
  assert.equal(verdict([put('a', 0), get('a', 5, 6), get(null, 7, 8)]), 'not-linearizable');
  // It may land after a later acknowledged write and overwrite it.
  assert.equal(verdict([put('a', 0), put('b', 2, 3), get('b', 4, 5), get('a', 6, 7)]), 'linearizable');
  // … but it cannot land twice.
  assert.equal(verdict([put('a', 0), get('a', 2, 3), put('b', 4, 5), get('a', 6, 7)]), 'not-linearizable');
  // Unknown delete.
  assert.equal(verdict([put('a', 0, 1), del(2), get('a', 3, 4), get(null, 5, 6)]), 'linearizable');
  // Unknown CAS applies only if its expected value is there when it lands.
  assert.equal(verdict([put('a', 0, 1), cas('a', 'b', 2, undefined), get('b', 3, 4)]), 'linearizable');
  assert.equal(verdict([put('a', 0, 1), cas('z', 'b', 2, undefined), get('b', 3, 4)]), 'not-linearizable');
  // Unknown reads tell nothing.
  assert.equal(verdict([put('a', 0, 1), op({ f: 'get', call: 2, status: 'info' })]), 'linearizable');
});

test('keys are checked independently', () => {
  const h = [put('a', 0, 1), op({ f: 'put', key: 'j', value: 'x', call: 0, ret: 1 }), get('a', 2, 3), op({ f: 'get', key: 'j', read: null, call: 2, ret: 3 })];
  const r = checkHistory(h);
  assert.equal(r.verdict, 'not-linearizable');
  assert.deepEqual(r.keys.map((k) => [k.key, k.verdict]), [['j', 'not-linearizable'], ['k', 'linearizable']]);
  const bad = r.keys[0];
  assert.ok(bad !== undefined && bad.stuckAt !== undefined && bad.stuckAt.length === 1, 'the failure names the operation it stuck at');
});

test('the step budget turns a hopeless search into unknown instead of a hang', () => {
  // Many concurrent unknown writes all observed, and a read that no order can explain.
  const h: KvOp[] = [];
  for (let i = 0; i < 14; i++) h.push(put(`v${i}`, i));
  for (let i = 0; i < 14; i++) h.push(get(`v${i}`, 100 + 2 * i, 101 + 2 * i));
  h.push(get('never', 200, 201));
  assert.equal(checkKey('k', h, { stepBudget: 1000 }).verdict, 'unknown');
});

/** A history produced by an atomic register: each op takes effect at a point inside its interval. */
function registerHistory(seed: number, n: number): KvOp[] {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  interface Pending { spec: OpSpec; point: number; applied: boolean }
  const ps: Pending[] = [];
  const seenValues: Array<string | null> = [null];
  for (let i = 0; i < n; i++) {
    const call = Math.floor(rnd() * 100);
    const ret = call + 1 + Math.floor(rnd() * 20);
    const point = call + rnd() * (ret - call);
    const unknown = rnd() < 0.15;
    const f = pick(['put', 'get', 'delete', 'cas', 'cas'] as const);
    const spec: OpSpec = { f, call, ret: unknown ? undefined : ret, status: unknown ? 'info' : 'ok', value: `v${i}` };
    if (f === 'cas') spec.expected = pick(seenValues);
    seenValues.push(`v${i}`);
    ps.push({ spec, point: unknown && rnd() < 0.5 ? Number.POSITIVE_INFINITY : point, applied: false });
  }
  let state: string | null = null;
  for (const p of [...ps].sort((a, b) => a.point - b.point)) {
    if (p.point === Number.POSITIVE_INFINITY) break;
    const sp = p.spec;
    if (sp.f === 'put') state = sp.value ?? null;
    else if (sp.f === 'delete') state = null;
    else if (sp.f === 'get') sp.read = state;
    else if (state === sp.expected) {
      state = sp.value ?? null;
      sp.ok = true;
    } else {
      sp.ok = false;
      sp.current = state;
    }
  }
  return ps.map((p) => {
    const sp = p.spec;
    if (sp.f !== 'get') delete sp.read;
    if (sp.f !== 'cas') delete sp.expected;
    if (sp.f === 'delete' || sp.f === 'get') delete sp.value;
    return op(sp);
  });
}

test('property: histories of an atomic register are linearizable; pruning never changes a verdict', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 18 }), (seed, n) => {
    const h = registerHistory(seed, n);
    const a = checkKey('k', h, { pruneUnobserved: true });
    const b = checkKey('k', h, { pruneUnobserved: false });
    assert.equal(a.verdict, 'linearizable', JSON.stringify(h));
    assert.equal(b.verdict, 'linearizable', JSON.stringify(h));
    // Corrupt one completed read to a value from the future of nobody: never linearizable.
    const readIdx = h.findIndex((o) => o.f === 'get' && o.status === 'ok');
    if (readIdx >= 0) {
      const bad = h.map((o, i) => (i === readIdx ? { ...o, read: 'nobody-wrote-this' } : o));
      assert.equal(checkKey('k', bad).verdict, 'not-linearizable');
    }
  }), { numRuns: 300, seed: 42 });
});

test('property: pruning unobserved unknown writes agrees with the full search on arbitrary histories', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
    const h = registerHistory(seed, 12);
    // Scramble some results so that both verdicts occur.
    let s = seed;
    const scrambled = h.map((o) => {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      if (o.f === 'get' && o.status === 'ok' && s % 4 === 0) return { ...o, read: h[s % h.length]?.value ?? null };
      return o;
    });
    assert.equal(checkKey('k', scrambled, { pruneUnobserved: true }).verdict, checkKey('k', scrambled, { pruneUnobserved: false }).verdict);
  }), { numRuns: 300, seed: 7 });
});
