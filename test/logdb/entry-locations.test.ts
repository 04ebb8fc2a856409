/**
 * The WAL's location deque against a plain array model: random appends, front drops,
 * truncations, repoints and widenings, with small blocks so that every boundary (a small
 * block doubling or compacting, full blocks added and dropped) is crossed many times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryLocations, UNKNOWN_SEGMENT } from '../../src/logdb/entry-locations.js';
import { SeededRandom } from '../../src/core/random.js';

/** An integer in [lo, hi]. */
class Rng {
  private readonly r: SeededRandom;
  constructor(seed: number) { this.r = new SeededRandom(seed); }
  int(lo: number, hi: number): number { return lo + (hi - lo + 1 > 2 ** 31 ? this.r.next() % (hi - lo + 1) : this.r.intn(hi - lo + 1)); }
}

type Row = [seg: number, off: number, len: number];

/** The model: index of the first row, and the rows. */
class Model {
  first = 0;
  rows: Row[] = [];
  get last(): number { return this.first + this.rows.length - 1; }
}

function check(d: EntryLocations, m: Model, what: string): void {
  assert.equal(d.count, m.rows.length, `${what}: count`);
  if (m.rows.length === 0) return;
  assert.equal(d.first, m.first, `${what}: first`);
  assert.equal(d.last, m.last, `${what}: last`);
  for (let k = 0; k < m.rows.length; k++) {
    const i = m.first + k, [s, o, l] = m.rows[k] as Row;
    assert.deepEqual([d.segAt(i), d.offAt(i), d.lenAt(i)], [s, o, l], `${what}: entry ${i}`);
  }
}

for (const blockEntries of [8, 16, 64]) {
  test(`entry locations (blocks of ${blockEntries}): every operation matches a plain array over 3,000 random steps`, () => {
    const rng = new Rng(blockEntries);
    const d = new EntryLocations(blockEntries);
    const m = new Model();
    let next = 1;
    for (let step = 0; step < 3000; step++) {
      const op = rng.int(0, 99);
      const what = `step ${step}`;
      if (op < 55) {
        // A run of appends, sometimes long enough to add several blocks.
        const n = rng.int(1, op < 5 ? 5 * blockEntries : 12);
        for (let k = 0; k < n; k++) {
          const row: Row = [rng.int(1, 9), rng.int(0, 2 ** 32 - 1), rng.int(0, 1000)];
          if (m.rows.length === 0) m.first = next;
          d.push(next, ...row);
          m.rows.push(row);
          next++;
        }
      } else if (op < 75 && m.rows.length > 0) {
        const to = m.first + rng.int(0, m.rows.length);
        const dropped: number[] = [];
        d.dropTo(to, (seg, len) => dropped.push(seg, len));
        const n = Math.min(to, m.last) - m.first + 1;
        assert.deepEqual(dropped, m.rows.slice(0, n).flatMap(([s, , l]) => [s, l]), `${what}: dropped rows`);
        m.rows.splice(0, n);
        m.first += n;
        if (m.rows.length === 0) next = m.first;
      } else if (op < 85 && m.rows.length > 0) {
        const from = m.first + rng.int(0, m.rows.length);
        const dropped: number[] = [];
        d.truncateFrom(from, (seg, len) => dropped.push(seg, len));
        assert.deepEqual(dropped, m.rows.slice(from - m.first).flatMap(([s, , l]) => [s, l]), `${what}: truncated rows`);
        m.rows.length = from - m.first;
        next = from;
      } else if (op < 95 && m.rows.length > 0) {
        const i = m.first + rng.int(0, m.rows.length - 1);
        const row: Row = [rng.int(1, 9), rng.int(0, 99), rng.int(0, 99)];
        d.set(i, ...row);
        m.rows[i - m.first] = row;
      } else if (m.rows.length > 0 && m.first > 3) {
        // Widen at both ends with unknown locations (recovery).
        const first = m.first - rng.int(1, 3), last = m.last + rng.int(0, 3);
        d.widen(first, last);
        const unknown = (): Row => [UNKNOWN_SEGMENT, 0, 0];
        m.rows = [...Array.from({ length: m.first - first }, unknown), ...m.rows, ...Array.from({ length: last - m.last }, unknown)];
        m.first = first;
        next = last + 1;
      }
      check(d, m, what);
    }
  });
}

test('entry locations: a log past one block never moves the entries it already holds', () => {
  const d = new EntryLocations(8);
  for (let i = 1; i <= 8; i++) d.push(i, 1, i, 1);
  // Reaching the full block size, the first block stops growing; later entries go to new blocks.
  const blocks = (d as unknown as { blocks: Uint32Array[] }).blocks;
  const firstBlock = blocks[0];
  for (let i = 9; i <= 40; i++) d.push(i, 1, i, 1);
  assert.equal(blocks.length, 5);
  assert.equal(blocks[0], firstBlock, 'the first full block is the same array');
  d.dropTo(20, () => {});
  assert.equal((d as unknown as { blocks: Uint32Array[] }).blocks.length, 3, 'two whole blocks before the head went');
  assert.equal(d.offAt(21), 21);
  assert.equal(d.offAt(40), 40);
});

test('entry locations: the block size must be a power of two of at least 8', () => {
  assert.throws(() => new EntryLocations(12), RangeError);
  assert.throws(() => new EntryLocations(4), RangeError);
});
