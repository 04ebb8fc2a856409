/**
 * Where each stored entry of one replica lives on disk: a deque of (segment, offset, length)
 * for indexes `first..last`, in typed arrays so a million entries cost 12 MB and no
 * garbage-collected objects. Appends go at the back, removals at the front.
 *
 * The triples sit in blocks. A small log has one block that doubles as it grows, up to
 * `blockEntries`; past that, blocks of that size are added and dropped whole, so a long log
 * (a shard that never takes a snapshot) never copies its locations: doubling one array held
 * the thread for a copy of up to 48 MB at four million entries (issue 19).
 */

/** A segment id meaning "known to exist, location not seen yet" (only during recovery). */
export const UNKNOWN_SEGMENT = 0xffffffff;

/** Entries per full block by default (96 KiB of locations). */
export const DEFAULT_BLOCK_ENTRIES = 8192;

/** The location deque. Invariant: entries are `first .. first + count - 1`. */
export class EntryLocations {
  /** Index of the first entry; meaningful only when `count > 0`. */
  first = 0;
  count = 0;
  /** Position of entry `first` in the blocks (`position >> shift` is the block). */
  private head = 0;
  /** The blocks: (segment, offset, length) per position, three u32 each. */
  private blocks: Uint32Array[] = [new Uint32Array(8 * 3)];
  private readonly shift: number;
  private readonly mask: number;

  /** @param blockEntries entries per full block, a power of two (tests use small ones). */
  constructor(private readonly blockEntries = DEFAULT_BLOCK_ENTRIES) {
    if (!(blockEntries >= 8 && (blockEntries & (blockEntries - 1)) === 0)) throw new RangeError(`blockEntries must be a power of two >= 8, got ${blockEntries}`);
    this.shift = Math.log2(blockEntries);
    this.mask = blockEntries - 1;
  }

  /** Index of the last entry (`first - 1` when empty). */
  get last(): number { return this.first + this.count - 1; }

  /** The block holding entry `i`'s triple, and the triple's offset in it. */
  private blockOf(i: number): Uint32Array {
    return this.blocks[(this.head + i - this.first) >>> this.shift] as Uint32Array;
  }
  private slotOf(i: number): number {
    return ((this.head + i - this.first) & this.mask) * 3;
  }

  /** Segment of entry `i` (must be stored). */
  segAt(i: number): number { return this.blockOf(i)[this.slotOf(i)] as number; }
  offAt(i: number): number { return this.blockOf(i)[this.slotOf(i) + 1] as number; }
  lenAt(i: number): number { return this.blockOf(i)[this.slotOf(i) + 2] as number; }

  /** Repoints entry `i` (must be stored). */
  set(i: number, seg: number, off: number, len: number): void {
    const b = this.blockOf(i), k = this.slotOf(i);
    b[k] = seg; b[k + 1] = off; b[k + 2] = len;
  }

  /** Appends entry `last + 1` (or the first entry, at index `index`, when empty). */
  push(index: number, seg: number, off: number, len: number): void {
    if (this.count === 0) {
      this.first = index;
      this.head = 0;
      if (this.blocks.length > 1) this.blocks.length = 1;
    }
    if (this.head + this.count === this.capacity()) this.makeRoom();
    const p = this.head + this.count++;
    const b = this.blocks[p >>> this.shift] as Uint32Array, k = (p & this.mask) * 3;
    b[k] = seg; b[k + 1] = off; b[k + 2] = len;
  }

  /** Positions the blocks hold. */
  private capacity(): number {
    const n = this.blocks.length;
    return n === 1 ? (this.blocks[0] as Uint32Array).length / 3 : n * this.blockEntries;
  }

  private makeRoom(): void {
    const b0 = this.blocks[0] as Uint32Array;
    const cap = b0.length / 3;
    if (this.blocks.length > 1 || cap === this.blockEntries) {
      // Full-size blocks: one more, nothing copied.
      this.blocks.push(new Uint32Array(this.blockEntries * 3));
      return;
    }
    // One small block: reuse its front when at least half of it is free; otherwise double it.
    const size = this.head >= cap / 2 ? cap : cap * 2;
    const b = size === cap ? b0 : new Uint32Array(size * 3);
    // set() copies correctly even when source and target share a buffer.
    b.set(b0.subarray(this.head * 3, (this.head + this.count) * 3), 0);
    this.blocks[0] = b;
    this.head = 0;
  }

  /**
   * Drops entries from `index` on, calling `each` for every dropped one that is stored
   * (used to keep per-segment live byte counts).
   */
  truncateFrom(index: number, each: (seg: number, len: number) => void): void {
    const from = Math.max(index, this.first);
    for (let i = from; i <= this.last; i++) each(this.segAt(i), this.lenAt(i));
    if (from > this.last) return;
    this.count = from - this.first;
    // Blocks wholly past the end go (the first always stays).
    const used = this.count === 0 ? 1 : ((this.head + this.count - 1) >>> this.shift) + 1;
    if (this.blocks.length > used) this.blocks.length = used;
  }

  /** Drops entries at or below `index`, calling `each` for every dropped one. */
  dropTo(index: number, each: (seg: number, len: number) => void): void {
    if (this.count === 0 || index < this.first) return;
    const to = Math.min(index, this.last);
    for (let i = this.first; i <= to; i++) each(this.segAt(i), this.lenAt(i));
    const n = to - this.first + 1;
    this.head += n; this.count -= n; this.first = to + 1;
    // Whole blocks before the head go.
    const gone = Math.min(this.head >>> this.shift, this.blocks.length - 1);
    if (gone > 0 && this.blocks.length > 1) {
      this.blocks.splice(0, gone);
      this.head -= gone * this.blockEntries;
    }
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
