/**
 * Where each stored entry of one replica lives on disk: a deque of (segment, offset, length)
 * for indexes `first..last`, in three typed arrays so a million entries cost 12 MB and no
 * garbage-collected objects. Appends go at the back, removals at the front.
 */

/** A segment id meaning "known to exist, location not seen yet" (only during recovery). */
export const UNKNOWN_SEGMENT = 0xffffffff;

/** The location deque. Invariant: entries are `first .. first + count - 1`. */
export class EntryLocations {
  /** Index of the first entry; meaningful only when `count > 0`. */
  first = 0;
  count = 0;
  private head = 0;
  private seg: Uint32Array = new Uint32Array(8);
  private off: Uint32Array = new Uint32Array(8);
  private len: Uint32Array = new Uint32Array(8);

  /** Index of the last entry (`first - 1` when empty). */
  get last(): number { return this.first + this.count - 1; }

  /** Segment of entry `i` (must be stored). */
  segAt(i: number): number { return this.seg[this.head + i - this.first] as number; }
  offAt(i: number): number { return this.off[this.head + i - this.first] as number; }
  lenAt(i: number): number { return this.len[this.head + i - this.first] as number; }

  /** Repoints entry `i` (must be stored). */
  set(i: number, seg: number, off: number, len: number): void {
    const k = this.head + i - this.first;
    this.seg[k] = seg; this.off[k] = off; this.len[k] = len;
  }

  /** Appends entry `last + 1` (or the first entry, at index `index`, when empty). */
  push(index: number, seg: number, off: number, len: number): void {
    if (this.count === 0) { this.first = index; this.head = 0; }
    if (this.head + this.count === this.seg.length) this.makeRoom();
    const k = this.head + this.count++;
    this.seg[k] = seg; this.off[k] = off; this.len[k] = len;
  }

  private makeRoom(): void {
    const cap = this.seg.length;
    // Reuse the front when at least half of it is free; otherwise double.
    const size = this.head >= cap / 2 ? cap : cap * 2;
    const move = (a: Uint32Array): Uint32Array => {
      const b = size === cap ? a : new Uint32Array(size);
      // set() copies correctly even when source and target share a buffer.
      b.set(a.subarray(this.head, this.head + this.count), 0);
      return b;
    };
    this.seg = move(this.seg); this.off = move(this.off); this.len = move(this.len);
    this.head = 0;
  }

  /**
   * Drops entries from `index` on, calling `each` for every dropped one that is stored
   * (used to keep per-segment live byte counts).
   */
  truncateFrom(index: number, each: (seg: number, len: number) => void): void {
    const from = Math.max(index, this.first);
    for (let i = from; i <= this.last; i++) each(this.segAt(i), this.lenAt(i));
    if (from <= this.last) this.count = from - this.first;
  }

  /** Drops entries at or below `index`, calling `each` for every dropped one. */
  dropTo(index: number, each: (seg: number, len: number) => void): void {
    if (this.count === 0 || index < this.first) return;
    const to = Math.min(index, this.last);
    for (let i = this.first; i <= to; i++) each(this.segAt(i), this.lenAt(i));
    const n = to - this.first + 1;
    this.head += n; this.count -= n; this.first = to + 1;
  }

  /** Grows the window to `[first, last]` with unknown locations at either end. */
  widen(first: number, last: number): void {
    if (this.count === 0) {
      for (let i = first; i <= last; i++) this.push(i, UNKNOWN_SEGMENT, 0, 0);
      return;
    }
    if (first < this.first) {
      const old = { first: this.first, last: this.last };
      const rows: [number, number, number][] = [];
      for (let i = old.first; i <= old.last; i++) rows.push([this.segAt(i), this.offAt(i), this.lenAt(i)]);
      this.count = 0;
      for (let i = first; i < old.first; i++) this.push(i, UNKNOWN_SEGMENT, 0, 0);
      for (const [s, o, l] of rows) this.push(this.last + 1, s, o, l);
    }
    for (let i = this.last + 1; i <= last; i++) this.push(i, UNKNOWN_SEGMENT, 0, 0);
  }
}
