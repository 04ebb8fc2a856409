/**
 * Property tests of the majority arithmetic (quorum.ts) against deliberately naive references.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VoteResult, majority, quorumIndex, voteResult } from '../../src/core/index.js';

const SEED = 0x5a3b;

/** Tries every candidate index and keeps the highest that at least a strict majority matched. */
function naiveQuorumIndex(matches: readonly number[]): number {
  let best = 0;
  for (const candidate of [0, ...matches]) {
    const have = matches.filter((m) => m >= candidate).length;
    if (have * 2 > matches.length && candidate > best) best = candidate;
  }
  return best;
}

/** Counts by hand: won with a strict majority granted; lost once the rest cannot make one. */
function naiveVoteResult(voters: readonly number[], votes: ReadonlyMap<number, boolean>): VoteResult {
  const n = voters.length;
  let yes = 0;
  let no = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) yes++;
    if (v === false) no++;
  }
  if (yes * 2 > n) return VoteResult.Won;
  if ((n - no) * 2 <= n) return VoteResult.Lost;
  return VoteResult.Pending;
}

test('property: majority(n) is the smallest count that is more than half', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 1000 }), (n) => {
    const q = majority(n);
    assert.ok(q * 2 > n);
    assert.ok((q - 1) * 2 <= n);
  }), { seed: SEED, numRuns: 300 });
});

test('property: quorumIndex equals the naive "highest index a majority has matched"', () => {
  const arb = fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 0, maxLength: 9 });
  fc.assert(fc.property(arb, (matches) => {
    const ids = matches.map((_, i) => i + 1);
    const got = quorumIndex(ids, (id) => matches[id - 1] ?? -1);
    assert.equal(got, naiveQuorumIndex(matches));
  }), { seed: SEED, numRuns: 2000 });
});

test('property: quorumIndex does not depend on the voters\' order and never exceeds a majority\'s match', () => {
  const arb = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 9 }).chain((m) =>
    fc.tuple(fc.constant(m), fc.shuffledSubarray(m.map((_, i) => i + 1), { minLength: m.length, maxLength: m.length })));
  fc.assert(fc.property(arb, ([matches, order]) => {
    const of = (id: number): number => matches[id - 1] ?? -1;
    const a = quorumIndex(matches.map((_, i) => i + 1), of);
    assert.equal(quorumIndex(order, of), a);
    assert.ok(matches.filter((m) => m >= a).length >= majority(matches.length));
  }), { seed: SEED, numRuns: 1000 });
});

test('property: voteResult equals a hand count; votes from non-voters are ignored', () => {
  const arb = fc.record({
    voters: fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 0, maxLength: 7 }),
    votes: fc.array(fc.tuple(fc.integer({ min: 1, max: 15 }), fc.boolean()), { maxLength: 15 }),
  });
  fc.assert(fc.property(arb, ({ voters, votes }) => {
    const map = new Map(votes);
    assert.equal(voteResult(new Set(voters), map), naiveVoteResult(voters, map));
  }), { seed: SEED, numRuns: 2000 });
});

test('property: a won election stays won as more votes arrive; a lost one stays lost', () => {
  const arb = fc.record({
    n: fc.integer({ min: 1, max: 7 }),
    order: fc.array(fc.tuple(fc.integer({ min: 1, max: 7 }), fc.boolean()), { maxLength: 14 }),
  });
  fc.assert(fc.property(arb, ({ n, order }) => {
    const voters = new Set(Array.from({ length: n }, (_, i) => i + 1));
    const votes = new Map<number, boolean>();
    let settled: VoteResult | undefined;
    for (const [id, v] of order) {
      if (votes.has(id)) continue; // a voter votes once per term
      votes.set(id, v);
      const r = voteResult(voters, votes);
      if (settled !== undefined) assert.equal(r, settled);
      if (r !== VoteResult.Pending) settled = r;
    }
  }), { seed: SEED, numRuns: 1000 });
});
