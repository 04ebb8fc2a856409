/**
 * A token bucket of bytes per second, shared by every snapshot stream of one direction on a
 * host (dragonboat's `MaxSnapshotSendBytesPerSecond` / `MaxSnapshotRecvBytesPerSecond`).
 * A rate of 0 means unlimited: every call answers at once.
 *
 * The bucket may go into debt: a chunk larger than what is saved passes after a wait that pays
 * for it in full, so chunks of any size pass and the long-run rate is the configured one. The
 * bucket holds at most a tenth of a second of tokens (and starts full), so an idle host
 * bursts at most that much.
 */
import { realRuntime, type Clock, type Timers } from '../runtime/index.js';

/** Bytes per second through one direction of snapshot streams. */
export class ByteRateLimiter {
  private tokens: number;
  private last: number;
  private readonly capacity: number;

  /**
   * @param bytesPerSecond the rate; 0 for unlimited
   * @param clock where time comes from (default: the real clock)
   * @param timers where waits are scheduled (default: the real timers)
   */
  constructor(
    readonly bytesPerSecond: number,
    private readonly clock: Clock = realRuntime.clock,
    private readonly timers: Timers = realRuntime.timers,
  ) {
    this.capacity = bytesPerSecond / 10;
    this.tokens = this.capacity;
    this.last = clock.now();
  }

  /** Whether a rate is set. */
  get limited(): boolean {
    return this.bytesPerSecond > 0;
  }

  /**
   * Takes `n` bytes' worth of tokens now and returns how many milliseconds the caller must
   * wait before moving them (0: at once). Never throws.
   */
  reserve(n: number): number {
    if (this.bytesPerSecond <= 0) return 0;
    const now = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = now;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.bytesPerSecond;
  }

  /** Reserves `n` bytes and resolves once they may move. Never rejects. */
  take(n: number): Promise<void> {
    const ms = this.reserve(n);
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.timers.setTimeout(resolve, Math.ceil(ms));
    });
  }

  /** Schedules `fn` after `ms` milliseconds on this limiter's timers (for a paused receiver). */
  after(ms: number, fn: () => void): void {
    this.timers.setTimeout(fn, Math.ceil(ms));
  }
}
