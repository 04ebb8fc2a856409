/**
 * Clock drift for the host simulator: a host incarnation's runtime whose clock and timers run
 * at the host's own rate (a quartz that runs fast or slow), so that its ticker, its lease-mode
 * tick catch-up (`src/host/tick-clock.ts`) and its deadlines all see the same drifting time.
 * Random source, disk and process identity are the wrapped {@link SimRuntime}'s.
 *
 * Local time is `rate × virtual time`. A timer of `ms` local milliseconds fires at the first
 * whole virtual millisecond at which the local clock has passed it (never early in local time,
 * as real timers never fire early); an interval keeps its fire times on the local grid, so
 * rounding never accumulates.
 *
 * Lease reads call for a bound on drift: {@link driftTicksFor}.
 */
import type { Clock, ProcessInfo, RandomSource, Runtime, TimerHandle, Timers } from '../../src/runtime/runtime.js';
import type { FileSystem } from '../../src/runtime/file-system.js';
import type { Scheduler, SimEvent } from './scheduler.js';
import { SIM_EPOCH_MS, type SimRuntime } from './sim-runtime.js';

/**
 * The `leaseDriftTicks` a clock drift of ±`drift` (a rate ratio, e.g. 0.1) calls for with
 * `electionTicks` (as the core simulator's `driftTicksFor`): a leader's lease of L ticks must
 * not outlast a follower's `electionTicks − 1` ticks when the leader runs slowest and the
 * follower fastest, L·(1+drift) ≤ (electionTicks − 1)·(1−drift); plus one tick of margin for
 * timers that fire up to a virtual millisecond late.
 */
export function driftTicksFor(electionTicks: number, drift: number): number {
  const lease = Math.floor(((electionTicks - 1) * (1 - drift)) / (1 + drift));
  return electionTicks - 1 - lease + 1;
}

/** A drifting timer: cancels its pending event. */
class DriftTimer implements TimerHandle {
  ev: SimEvent | undefined;
  unref(): this { return this; }
}

/** A host incarnation's runtime with its clock and timers at `rate` (1 = no drift). */
export class DriftingRuntime implements Runtime {
  readonly clock: Clock;
  readonly timers: Timers;

  /**
   * @param base the incarnation's runtime (random source, disk, process).
   * @param sched the world's scheduler (virtual time).
   * @param rate local milliseconds per virtual millisecond (> 0).
   */
  constructor(private readonly base: SimRuntime, sched: Scheduler, readonly rate: number) {
    const tag = base.tag;
    const local = (): number => sched.now * rate;
    this.clock = { now: local, wallNow: () => SIM_EPOCH_MS + local() };
    // The virtual delay until local time `at` has passed (a whole millisecond, at least 1).
    const until = (at: number): number => Math.max(1, Math.ceil(at / rate) - sched.now);
    const clear = (h: TimerHandle | null | undefined): void => {
      if (h instanceof DriftTimer && h.ev !== undefined) h.ev.cancelled = true;
    };
    this.timers = {
      setTimeout(fn: () => void, ms: number): TimerHandle {
        const t = new DriftTimer();
        t.ev = sched.schedule(until(local() + Math.max(1, ms || 0)), fn, 'timeout', tag);
        return t;
      },
      clearTimeout: clear,
      setInterval(fn: () => void, ms: number): TimerHandle {
        const t = new DriftTimer();
        const period = Math.max(1, ms || 0);
        let next = local() + period;
        const arm = (): void => {
          t.ev = sched.schedule(until(next), () => { next += period; arm(); fn(); }, 'interval', tag);
        };
        arm();
        return t;
      },
      clearInterval: clear,
      setImmediate(fn: () => void): void {
        sched.schedule(0, fn, 'immediate', tag);
      },
    };
  }

  get random(): RandomSource { return this.base.random; }
  get fs(): FileSystem { return this.base.fs; }
  get process(): ProcessInfo { return this.base.process; }
}
