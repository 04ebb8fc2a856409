/**
 * Property tests of the log layers against naive models: Unstable (unstable.ts),
 * MemoryLogStorage (log-storage.ts) and RaftLog's §5.3 append (raft-log.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CompactedError, MemoryLogStorage, UnavailableError, emptySnapshot, entry, entrySize, type Entry,
} from '../../src/core/index.js';
import { Unstable } from '../../src/core/unstable.js';
import { RaftLog } from '../../src/core/raft-log.js';

const SEED = 0x10c;

function ent(index: number, term: number, size = 0): Entry {
  return entry({ index, term, cmd: new Uint8Array(size) });
}

function ents(start: number, terms: readonly number[], sizes: readonly number[] = []): Entry[] {
  return terms.map((t, i) => ent(start + i, t, sizes[i] ?? 0));
}

/** The naive limit: a prefix whose total size is within maxBytes, and at least one entry. */
function naiveLimit(list: Entry[], maxBytes: number): Entry[] {
  const out: Entry[] = [];
  let total = 0;
  for (const e of list) {
    total += entrySize(e);
    if (out.length > 0 && total > maxBytes) break;
    out.push(e);
  }
  return out;
}

/** Deletes the keys of `m` that satisfy `pred`. */
function dropKeys<V>(m: Map<number, V>, pred: (i: number) => boolean): void {
  for (const i of [...m.keys()]) if (pred(i)) m.delete(i);
}

// ---- Unstable ------------------------------------------------------------------------------

type UOp =
  | { readonly k: 'append'; readonly at: number; readonly terms: number[] }
  | { readonly k: 'stable'; readonly at: number; readonly right: boolean }
  | { readonly k: 'restore'; readonly ahead: number; readonly term: number }
  | { readonly k: 'stableSnap' };

const uOp: fc.Arbitrary<UOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('append' as const), at: fc.integer({ min: -3, max: 8 }), terms: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('stable' as const), at: fc.integer({ min: -2, max: 8 }), right: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('restore' as const), ahead: fc.integer({ min: 0, max: 6 }), term: fc.integer({ min: 1, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('stableSnap' as const) }) },
);

test('property: Unstable matches a map-of-terms model under append, stableTo and restore', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 20 }), fc.array(uOp, { maxLength: 60 }), (offset0, ops) => {
    const u = new Unstable(offset0);
    let offset = offset0;
    let terms = new Map<number, number>();
    let snap: { index: number; term: number } | null = null;
    const last = (): number => offset + terms.size - 1;
    for (const op of ops) {
      if (op.k === 'append') {
        // Appends never leave a gap and never go below index 1.
        const at = Math.max(1, Math.min(offset + op.at, last() + 1));
        u.truncateAndAppend(ents(at, op.terms));
        if (at <= offset) {
          offset = at;
          terms = new Map();
        } else {
          dropKeys(terms, (i) => i >= at);
        }
        op.terms.forEach((t, i) => terms.set(at + i, t));
      } else if (op.k === 'stable') {
        const at = offset + op.at;
        const t = op.right ? (terms.get(at) ?? 1) : 99;
        u.stableTo(at, t);
        if (at >= offset && terms.get(at) === t) {
          dropKeys(terms, (i) => i <= at);
          offset = at + 1;
        }
      } else if (op.k === 'restore') {
        const index = Math.max(0, last()) + op.ahead;
        u.restore({ ...emptySnapshot(1), index, term: op.term });
        snap = { index, term: op.term };
        offset = index + 1;
        terms = new Map();
      } else {
        if (snap !== null) u.stableSnapTo(snap.index);
        snap = null;
      }
      assert.equal(u.offset, offset);
      assert.equal(u.maybeLastIndex(), terms.size > 0 ? last() : snap?.index);
      assert.equal(u.maybeFirstIndex(), snap === null ? undefined : snap.index + 1);
      for (let i = offset - 2; i <= last() + 2; i++) {
        const want = i < offset ? (snap !== null && snap.index === i ? snap.term : undefined) : terms.get(i);
        assert.equal(u.maybeTerm(i), want, `term of ${i}`);
      }
      assert.deepEqual(u.slice(offset, last() + 1).map((e) => e.term), [...terms.keys()].sort((a, b) => a - b).map((i) => terms.get(i)));
    }
  }), { seed: SEED, numRuns: 400 });
});

// ---- MemoryLogStorage ----------------------------------------------------------------------

type SOp =
  | { readonly k: 'append'; readonly at: number; readonly terms: number[]; readonly sizes: number[] }
  | { readonly k: 'compact'; readonly at: number }
  | { readonly k: 'snapshot'; readonly ahead: number; readonly term: number };

const sOp: fc.Arbitrary<SOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({
    k: fc.constant('append' as const), at: fc.integer({ min: -8, max: 2 }),
    terms: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 6 }),
    sizes: fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 6 }),
  }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('compact' as const), at: fc.integer({ min: -2, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('snapshot' as const), ahead: fc.integer({ min: -2, max: 4 }), term: fc.integer({ min: 1, max: 9 }) }) },
);

test('property: MemoryLogStorage matches a naive log under append, compact and snapshot install', () => {
  fc.assert(fc.property(fc.array(sOp, { maxLength: 50 }), fc.integer({ min: 1, max: 600 }), (ops, maxBytes) => {
    const s = new MemoryLogStorage(1);
    let first = 1;
    // index -> entry, including the dummy at first - 1.
    let log = new Map<number, Entry>([[0, ent(0, 0)]]);
    let snapIndex = 0;
    const last = (): number => first - 1 + log.size - 1;
    for (const op of ops) {
      if (op.k === 'append') {
        const at = Math.max(1, last() + 1 + op.at + 2); // from last-1 to last+3: overwrites, appends, gaps
        const batch = ents(at, op.terms, op.sizes);
        const lastNew = at + batch.length - 1;
        if (lastNew < first) {
          s.append(batch);
        } else if (Math.max(at, first) > last() + 1) {
          assert.throws(() => s.append(batch), UnavailableError);
        } else {
          s.append(batch);
          dropKeys(log, (i) => i >= Math.max(at, first));
          batch.filter((e) => e.index >= first).forEach((e) => log.set(e.index, e));
        }
      } else if (op.k === 'compact') {
        const at = first - 1 + op.at;
        if (at > last()) {
          assert.throws(() => s.compact(at), UnavailableError);
        } else {
          s.compact(at);
          if (at > first - 1) {
            dropKeys(log, (i) => i < at);
            first = at + 1;
          }
        }
      } else {
        const index = last() + op.ahead;
        const meta = { ...emptySnapshot(1), index, term: op.term };
        if (index < snapIndex) {
          assert.throws(() => s.applySnapshot(meta));
        } else {
          s.applySnapshot(meta);
          snapIndex = index;
          first = index + 1;
          log = new Map([[index, ent(index, op.term)]]);
        }
      }
      assert.equal(s.firstIndex(), first);
      assert.equal(s.lastIndex(), last());
      for (let i = first - 1; i <= last(); i++) assert.equal(s.term(i), log.get(i)?.term, `term ${i}`);
      if (first - 2 >= 0) assert.throws(() => s.term(first - 2), CompactedError);
      assert.throws(() => s.term(last() + 1), UnavailableError);
      assert.throws(() => s.entries(first - 1, last() + 1, maxBytes), CompactedError);
      assert.throws(() => s.entries(first, last() + 2, maxBytes), UnavailableError);
      for (let lo = first; lo <= last(); lo++) {
        const all: Entry[] = [];
        for (let i = lo; i <= last(); i++) all.push(log.get(i) as Entry);
        assert.deepEqual(s.entries(lo, last() + 1, maxBytes).map((e) => e.index), naiveLimit(all, maxBytes).map((e) => e.index));
      }
    }
  }), { seed: SEED, numRuns: 300 });
});

// ---- RaftLog: §5.3 append ------------------------------------------------------------------

/** Terms that never decrease, as a real log's do. */
const termsArb = (min: number, max: number): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 0, max: 2 }), { minLength: min, maxLength: max }).map((steps) => {
    let t = 1;
    return steps.map((s) => (t += s));
  });

test('property: RaftLog.maybeAppend and findConflict match the naive §5.3 rule', () => {
  const arb = fc.record({
    leader: termsArb(0, 14),
    shared: fc.nat(14),
    divergent: fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 8 }),
    stableFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    commitFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    prev: fc.nat(14),
    count: fc.nat(14),
    wrongPrevTerm: fc.boolean(),
    msgCommit: fc.nat(20),
  });
  fc.assert(fc.property(arb, (a) => {
    const L = a.leader;
    const p = Math.min(a.shared, L.length);
    const F = [...L.slice(0, p), ...a.divergent.map((t) => t + (L[L.length - 1] ?? 0))];
    const termOf = (log: readonly number[], i: number): number | undefined => (i === 0 ? 0 : log[i - 1]);
    // Follower log: a stable prefix in storage, the rest unstable.
    const storage = new MemoryLogStorage(1);
    const s = Math.floor(a.stableFrac * F.length);
    storage.append(ents(1, F.slice(0, s)));
    const log = new RaftLog(storage, 1 << 20);
    log.append(ents(s + 1, F.slice(s)));
    const committed = Math.floor(a.commitFrac * p); // committed entries are shared with the leader
    log.commitTo(committed);
    // The message.
    const x = Math.min(a.prev, L.length);
    const k = Math.min(a.count, L.length - x);
    const msgEnts = ents(x + 1, L.slice(x, x + k));
    const prevTerm = a.wrongPrevTerm ? 1000 : (termOf(L, x) as number);

    let conflict = 0;
    for (const e of msgEnts) {
      if (termOf(F, e.index) !== e.term) { conflict = e.index; break; }
    }
    assert.equal(log.findConflict(msgEnts), conflict);

    const got = log.maybeAppend(x, prevTerm, a.msgCommit, msgEnts);
    let want = F;
    let wantCommit = committed;
    let wantRet = -1;
    if (termOf(F, x) === prevTerm && x <= F.length) {
      wantRet = x + k;
      if (conflict !== 0) want = [...F.slice(0, conflict - 1), ...L.slice(conflict - 1, x + k)];
      wantCommit = Math.max(committed, Math.min(a.msgCommit, x + k));
    }
    assert.equal(got, wantRet);
    assert.equal(log.lastIndex(), want.length);
    for (let i = 1; i <= want.length; i++) assert.equal(log.term(i), want[i - 1], `term ${i}`);
    assert.equal(log.committed, wantCommit);
  }), { seed: SEED, numRuns: 1500 });
});

test('property: findConflictByTerm is the largest index <= i whose term is <= t', () => {
  const arb = fc.record({ terms: termsArb(0, 20), i: fc.nat(25), t: fc.nat(30), stableFrac: fc.double({ min: 0, max: 1, noNaN: true }) });
  fc.assert(fc.property(arb, ({ terms, i, t, stableFrac }) => {
    const storage = new MemoryLogStorage(1);
    const s = Math.floor(stableFrac * terms.length);
    storage.append(ents(1, terms.slice(0, s)));
    const log = new RaftLog(storage, 1 << 20);
    log.append(ents(s + 1, terms.slice(s)));
    let want = 0;
    for (let j = Math.min(i, terms.length); j > 0; j--) {
      if ((terms[j - 1] as number) <= t) { want = j; break; }
    }
    assert.equal(log.findConflictByTerm(i, t), want);
  }), { seed: SEED, numRuns: 1000 });
});
