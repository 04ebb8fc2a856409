/**
 * The time a host's apply loops may hold the event loop in one turn. Every replica of a
 * host applies on the same thread that ticks, sends heartbeats and runs the engine; a state
 * machine whose `update` blocks (a regular one computing, or any kind doing synchronous work
 * before its first await) would otherwise delay all of that for every shard. Each call to
 * `update` is charged the time it held the thread (its synchronous part); once a turn's
 * charges reach the slice, the next `update` of any replica of the host waits for a later turn
 * of the event loop (`setImmediate`), so network and disk I/O and ticks run between slices. One `update` call is never split: a single call longer than the slice still blocks
 * for its whole duration, and the replicas waiting resume in arrival order.
 *
 * A replica whose `update` call held the thread longer than the slice then rests as long as
 * that call took before its next one ({@link ApplyBudget.forReplica}): a shard whose state
 * machine is slow gets at most about half the thread, the other shards at least the other half
 * (dragonboat runs applies on worker goroutines the OS shares out; one thread shares it so).
 */
import type { ApplyPacer } from '../rsm/managed.js';
import { realRuntime, sleep, type Runtime, type Timers } from '../runtime/index.js';

/** The default slice: milliseconds of `update` time per event-loop turn, over all replicas of a host. */
export const DEFAULT_APPLY_SLICE_MS = 5;

/** A host's shared apply budget. */
export class ApplyBudget {
  private spent = 0;
  private resetScheduled = false;
  private waiters: Array<() => void> = [];
  /** Times an update waited for a later turn (for tests and metrics). */
  yields = 0;
  /** Times a replica rested after a call longer than the slice. */
  rests = 0;

  /** The monotonic clock, in milliseconds (the runtime's). */
  readonly now: () => number;
  private readonly timers: Timers;

  /**
   * @param sliceMs milliseconds of `update` time per turn before the next waits.
   * @param runtime the clock, the event-loop hand-off (`setImmediate`) and the rest timer.
   */
  constructor(readonly sliceMs: number = DEFAULT_APPLY_SLICE_MS, runtime: Pick<Runtime, 'clock' | 'timers'> = realRuntime) {
    const { clock } = runtime;
    this.now = () => clock.now();
    this.timers = runtime.timers;
  }

  /** Whether this turn's slice is used up. */
  get exhausted(): boolean { return this.spent >= this.sliceMs; }

  /**
   * Resolves when an `update` may run: at once while the turn's slice lasts, else at a later
   * turn (re-checked, so replicas resumed together do not all run in one turn). Never rejects.
   */
  async admit(): Promise<void> {
    while (this.exhausted) {
      this.yields++;
      await new Promise<void>((res) => this.waiters.push(res));
    }
  }

  /** Charges `ms` of thread time to this turn; the account is reset once I/O has had a turn. */
  charge(ms: number): void {
    this.spent += ms;
    if (this.resetScheduled) return;
    this.resetScheduled = true;
    // The reset runs in the event loop's next check phase: the poll for I/O (messages, log
    // writes) runs before it, and so do due timers (ticks) when the charge was made in a check
    // phase, as an engine pass's applies are. (A timer first would guarantee the timers too,
    // but cost every busy host a millisecond per turn.)
    this.timers.setImmediate(() => this.reset());
  }

  private reset(): void {
    this.resetScheduled = false;
    this.spent = 0;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * The pacer of one replica: admitted by this budget, and after an `update` call longer than
   * the slice, resting as long as the call took before the next.
   */
  forReplica(): ApplyPacer {
    let readyAt = 0;
    return {
      now: this.now,
      admit: () => {
        // The common case — no rest due, slice not used up — costs no promise and no turn.
        const rest = readyAt - this.now();
        if (rest <= 0 && !this.exhausted) return undefined;
        return (async (): Promise<void> => {
          if (rest > 0) {
            this.rests++;
            await sleep(this.timers, rest);
          }
          await this.admit();
        })();
      },
      charge: (ms) => {
        this.charge(ms);
        if (ms > this.sliceMs) readyAt = this.now() + ms;
      },
    };
  }
}
