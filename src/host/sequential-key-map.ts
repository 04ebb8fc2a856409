/**
 * A map from number keys to values, for keys that mostly arrive in increasing order, one
 * apart, and leave in about the same order: a replica's waiting proposals by entry key (the
 * replica numbers its proposals `k, k + 1, …` from a random 50-bit start). Those keys live in a
 * window, an array indexed by `key - lo`, so adding, finding and removing one hashes nothing
 * and allocates nothing per key. A `Map` keyed by such keys (doubles, not small integers) cost
 * a proposal a boxed key and a share of the table's rebuilds, and the table, kept in the old
 * generation while it held young waiters, made every scavenge longer: with it the write path
 * cost 8.0 µs of CPU per proposal, with this window 5.2 (issue 19, BENCHMARKS.md). Any other key (another replica's, far ahead, behind the window) goes to a
 * plain `Map` beside it, as does a value left alone at the window's front for long, so the
 * window stays dense: its length is at most about four times the values it holds.
 */

/** Keys at most this far past the window's end still extend it (the gap is filled with holes). */
const MAX_GAP = 64;
/** A window longer than this and more than four times its values gives up its front to the `Map`. */
const SPARSE_MIN = 4096;

/** See the module comment. Iteration order is by key. */
export class SequentialKeyMap<V> {
  /** The key of `slots[head]`. */
  private lo = 0;
  private head = 0;
  private slots: Array<V | undefined> = [];
  /** Values in `slots`. */
  private inWindow = 0;
  private readonly others = new Map<number, V>();

  /** Values held. */
  get size(): number {
    return this.inWindow + this.others.size;
  }

  /** The value of `key`, if any. */
  get(key: number): V | undefined {
    const i = key - this.lo;
    if (i >= 0 && i < this.slots.length - this.head) {
      const v = this.slots[this.head + i];
      if (v !== undefined || this.others.size === 0) return v;
    }
    return this.others.size === 0 ? undefined : this.others.get(key);
  }

  /** Sets the value of `key` (`value` is never undefined). */
  set(key: number, value: V): void {
    let n = this.slots.length - this.head;
    if (this.inWindow === 0 && n > 0) {
      this.slots = [];
      this.head = 0;
      n = 0;
    }
    // A key already in the map stays there.
    if (this.others.size > 0 && this.others.has(key)) {
      this.others.set(key, value);
      return;
    }
    if (n === 0 && Number.isSafeInteger(key)) this.lo = key;
    const i = key - this.lo;
    if (i >= 0 && i < n) {
      if (this.slots[this.head + i] === undefined) this.inWindow++;
      this.slots[this.head + i] = value;
      return;
    }
    if (i >= n && i <= n + MAX_GAP && Number.isSafeInteger(key)) {
      for (let k = n; k < i; k++) this.slots.push(undefined);
      this.slots.push(value);
      this.inWindow++;
      return;
    }
    this.others.set(key, value);
  }

  /** Removes `key`; true if it was there. */
  delete(key: number): boolean {
    const i = key - this.lo;
    if (i >= 0 && i < this.slots.length - this.head) {
      const at = this.head + i;
      if (this.slots[at] !== undefined) {
        this.slots[at] = undefined;
        this.inWindow--;
        if (i === 0) this.trimFront();
        this.keepDense();
        return true;
      }
    }
    return this.others.size > 0 && this.others.delete(key);
  }

  /** Moves the window's start past empty slots. */
  private trimFront(): void {
    const { slots } = this;
    while (this.head < slots.length && slots[this.head] === undefined) {
      this.head++;
      this.lo++;
    }
    if (this.head === slots.length) {
      this.slots = [];
      this.head = 0;
    }
  }

  /**
   * A value stuck at the front (a request that waits while later ones complete) would keep
   * every later slot: once the window is mostly holes, its front values move to the map.
   * And the array's dead front is cut off once it is most of the array.
   */
  private keepDense(): void {
    const { slots } = this;
    if (slots.length - this.head > SPARSE_MIN && slots.length - this.head > 4 * this.inWindow) {
      while (this.head < slots.length && (slots.length - this.head > 2 * this.inWindow || slots[this.head] === undefined)) {
        const v = slots[this.head];
        if (v !== undefined) {
          this.others.set(this.lo, v);
          this.inWindow--;
        }
        this.head++;
        this.lo++;
      }
    }
    if (this.head === slots.length) {
      this.slots = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > slots.length) {
      this.slots = slots.slice(this.head);
      this.head = 0;
    }
  }

  /** Every value, by key. */
  values(): V[] {
    const rows: Array<[number, V]> = [];
    for (let k = this.head; k < this.slots.length; k++) {
      const v = this.slots[k];
      if (v !== undefined) rows.push([this.lo + k - this.head, v]);
    }
    for (const row of this.others) rows.push(row);
    if (this.others.size > 0) rows.sort((a, b) => a[0] - b[0]);
    return rows.map((r) => r[1]);
  }
}
