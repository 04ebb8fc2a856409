/**
 * Rate limiting by in-memory log size: the bytes of entries appended but not yet applied.
 * A leader refuses proposals while its own size, or a follower's recently reported size,
 * exceeds the limit; so a slow state machine anywhere pushes back on clients instead of
 * growing memory without bound.
 */
import { entrySize, type Entry } from './types.js';

/** Reports older than this many ticks are ignored: the follower stopped reporting. */
const REPORT_TTL_FACTOR = 2;

/** Tracks this replica's unapplied log bytes and the followers' reports. */
export class RateLimiter {
  private readonly idx: number[] = [];
  private readonly sz: number[] = [];
  private head = 0;
  private bytes = 0;
  private readonly reports = new Map<number, { size: number; tick: number }>();
  private tick = 0;

  /** @param maxBytes the limit; 0 disables limiting */
  constructor(readonly maxBytes: number, private readonly ttlTicks: number) {}

  get enabled(): boolean { return this.maxBytes > 0; }

  /** Bytes appended and not yet applied on this replica. */
  get size(): number { return this.bytes; }

  /** Entries were appended; entries at or after the first one's index replace older ones. */
  appended(ents: readonly Entry[]): void {
    if (!this.enabled || ents.length === 0) return;
    const from = (ents[0] as Entry).index;
    while (this.idx.length > this.head && (this.idx[this.idx.length - 1] as number) >= from) {
      this.idx.pop();
      this.bytes -= this.sz.pop() as number;
    }
    for (const e of ents) {
      const s = entrySize(e);
      this.idx.push(e.index);
      this.sz.push(s);
      this.bytes += s;
    }
  }

  /** Entries up to `index` were applied. */
  appliedTo(index: number): void {
    while (this.head < this.idx.length && (this.idx[this.head] as number) <= index) {
      this.bytes -= this.sz[this.head] as number;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.idx.length) {
      this.idx.splice(0, this.head);
      this.sz.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Forgets everything appended (the log was replaced by a snapshot). */
  reset(): void {
    this.idx.length = 0;
    this.sz.length = 0;
    this.head = 0;
    this.bytes = 0;
  }

  /** Advances the limiter's clock by one tick. */
  onTick(): void { this.tick++; }

  /** Records a follower's reported size. */
  setFollowerSize(id: number, size: number): void {
    this.reports.set(id, { size, tick: this.tick });
  }

  /** Forgets followers' reports (leadership changed). */
  clearFollowers(): void { this.reports.clear(); }

  /** True when proposals must be refused. */
  limited(): boolean {
    if (!this.enabled) return false;
    if (this.bytes > this.maxBytes) return true;
    for (const r of this.reports.values()) {
      if (this.tick - r.tick <= this.ttlTicks * REPORT_TTL_FACTOR && r.size > this.maxBytes) return true;
    }
    return false;
  }
}
