/**
 * A runtime whose clock and timers are virtual: time stands still until the test advances it,
 * and timeouts and intervals fire only then, in time order. The event-loop hand-off
 * (`setImmediate`), the file system, randomness and the process are the real runtime's.
 */
import { realRuntime, type Runtime, type TimerHandle } from '../../src/runtime/index.js';

interface FakeTimer extends TimerHandle {
  at: number;
  readonly fn: () => void;
  readonly every: number | null;
  readonly ms: number;
}

/** The controls of a {@link fakeTimersRuntime}. */
export interface FakeTime {
  /** Virtual milliseconds since the start. */
  readonly now: number;
  /** Timers pending (intervals included), with their period or delay. */
  pending(): Array<{ readonly kind: 'timeout' | 'interval'; readonly ms: number }>;
  /** Moves time on by `ms`, firing every timer due on the way, in order. Returns how many fired. */
  advance(ms: number): number;
}

/** A runtime on virtual time over `base`, and its controls. */
export function fakeTimersRuntime(base: Runtime = realRuntime): { runtime: Runtime; time: FakeTime } {
  let now = 0;
  const timers = new Set<FakeTimer>();
  const add = (fn: () => void, ms: number, every: boolean): TimerHandle => {
    const t: FakeTimer = { at: now + Math.max(1, ms), fn, every: every ? Math.max(1, ms) : null, ms, unref: () => t };
    timers.add(t);
    return t;
  };
  const clear = (h: TimerHandle | null | undefined): void => { if (h != null) timers.delete(h as FakeTimer); };
  const time: FakeTime = {
    get now() { return now; },
    pending: () => [...timers].map((t) => ({ kind: t.every === null ? 'timeout' as const : 'interval' as const, ms: t.ms })),
    advance(ms) {
      const end = now + ms;
      let fired = 0;
      for (;;) {
        let next: FakeTimer | undefined;
        for (const t of timers) if (t.at <= end && (next === undefined || t.at < next.at)) next = t;
        if (next === undefined) break;
        now = next.at;
        if (next.every === null) timers.delete(next);
        else next.at += next.every;
        fired++;
        next.fn();
      }
      now = end;
      return fired;
    },
  };
  const runtime: Runtime = {
    ...base,
    clock: { now: () => now, wallNow: () => base.clock.wallNow() },
    timers: {
      setTimeout: (fn, ms) => add(fn, ms, false),
      clearTimeout: clear,
      setInterval: (fn, ms) => add(fn, ms, true),
      clearInterval: clear,
      setImmediate: (fn) => base.timers.setImmediate(fn),
    },
  };
  return { runtime, time };
}
