/**
 * The window of Replicate messages sent to one remote and not yet acknowledged, bounded in
 * count and in bytes. A full window pauses the remote, so a slow follower costs the leader a
 * bounded amount of memory and bandwidth.
 */
export class Inflights {
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private start = 0;
  private bytes = 0;

  /**
   * @param maxCount most messages in flight (> 0)
   * @param maxBytes most entry bytes in flight; 0 means no byte limit
   */
  constructor(private readonly maxCount: number, private readonly maxBytes: number) {}

  /** Messages in flight. */
  get count(): number { return this.indexes.length - this.start; }

  /** Entry bytes in flight. */
  get inflightBytes(): number { return this.bytes; }

  /** True when no further message may be sent. */
  full(): boolean {
    return this.count >= this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  /** Records a message whose last entry is `index`, carrying `size` bytes. Indexes must grow. */
  add(index: number, size: number): void {
    this.indexes.push(index);
    this.sizes.push(size);
    this.bytes += size;
  }

  /** Frees every message whose last index is <= `index` (they were acknowledged). */
  freeTo(index: number): void {
    while (this.start < this.indexes.length && (this.indexes[this.start] ?? Infinity) <= index) {
      this.bytes -= this.sizes[this.start] ?? 0;
      this.start++;
    }
    if (this.start > 64 && this.start * 2 > this.indexes.length) {
      this.indexes.splice(0, this.start);
      this.sizes.splice(0, this.start);
      this.start = 0;
    }
  }

  /** Frees the oldest message (a heartbeat response proves the remote is alive). */
  freeFirstOne(): void {
    const first = this.indexes[this.start];
    if (first !== undefined) this.freeTo(first);
  }

  /** Forgets everything in flight. */
  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.start = 0;
    this.bytes = 0;
  }
}
