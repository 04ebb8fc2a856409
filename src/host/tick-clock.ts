/**
 * How many ticks a replica takes when the host's tick timer fires, so that a lease-mode
 * leader's logical clock never runs slower than real time.
 *
 * The protocol core measures time in ticks only. A follower's lease (the election timeout it
 * waits before voting for another) is safe when its ticks come late: `setInterval` fires late
 * under load, never catching up, so such a follower waits longer, never shorter. A leader's
 * read lease is the opposite: ticks that come late (a busy or paused event loop, a stopped
 * process) would stretch it in real time past the followers'. So a lease-mode leader takes
 * one tick per whole tick period elapsed since its last tick, counted on the monotonic
 * clock — after a stall, all the ticks it missed — and takes them also before its reads are
 * served. Every other replica takes one tick per timer firing, as before.
 */
import { realRuntime } from '../runtime/index.js';

/** The tick clock of one replica. */
export class TickClock {
  /** Monotonic milliseconds its last tick stands for. */
  private last: number;

  /**
   * @param tickMs milliseconds per tick (the host's `rttMillisecond`).
   * @param now the monotonic clock (the host runtime's; tests give their own).
   */
  constructor(private readonly tickMs: number, private readonly now: () => number = realRuntime.clock.now) {
    this.last = now();
  }

  /**
   * Ticks to take at a timer firing: for a lease-mode leader the whole periods elapsed since
   * its last tick (0 when the timer fired early, many after a stall); otherwise 1, and the
   * clock restarts from now (so that becoming leader starts without a backlog).
   */
  atTimer(leaseLeader: boolean): number {
    if (!leaseLeader) {
      this.last = this.now();
      return 1;
    }
    return this.owed();
  }

  /**
   * Ticks a lease-mode leader owes now (taken before it serves reads, so that a read after a
   * stall never finds a stale lease valid); counted as taken.
   */
  owed(): number {
    const n = Math.max(0, Math.floor((this.now() - this.last) / this.tickMs));
    this.last += n * this.tickMs;
    return n;
  }
}
