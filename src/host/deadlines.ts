/**
 * Request timeouts with one timer per host instead of one per request: deadlines are
 * rounded up to a tick of `granularityMs` and kept in per-tick sets; a single interval runs
 * while any deadline is pending and expires the due ones. A request that settles first
 * removes itself in O(1). Timeouts fire up to one tick late, never early. Time and the
 * interval come from a runtime (a NodeHost's; default Node's).
 */
import { realRuntime, type Clock, type Runtime, type TimerHandle, type Timers } from '../runtime/index.js';

/**
 * Something that can time out. The two links are the deadlines' own (each tick's requests are
 * a list threaded through them, so adding and removing one allocates nothing and hashes
 * nothing: at 150,000 requests a second the per-tick sets cost the collector more than any
 * other part of a request's deadline, issue 19); start them at null and never touch them.
 */
export interface Expirable {
  expire(): void;
  deadlinePrev: Expirable | null;
  deadlineNext: Expirable | null;
}

/** The requests of one tick, in the order they were added. */
class TickList {
  first: Expirable | null = null;
  last: Expirable | null = null;
}

/** The deadlines of every pending request of a host (one per NodeHost, on its runtime). */
export class Deadlines {
  private readonly ticks = new Map<number, TickList>();
  private size = 0;
  private timer: TimerHandle | null = null;
  /** The last tick whose deadlines were expired. */
  private done = 0;
  private readonly clock: Clock;
  private readonly timers: Timers;

  /**
   * @param granularityMs the tick deadlines are rounded up to.
   * @param runtime where the clock and the interval come from.
   */
  constructor(private readonly granularityMs = 10, runtime: Pick<Runtime, 'clock' | 'timers'> = realRuntime) {
    this.clock = runtime.clock;
    this.timers = runtime.timers;
  }

  /** Expires `x` after at least `ms` milliseconds; returns the tick to pass to {@link remove}. */
  add(x: Expirable, ms: number): number {
    const now = this.clock.now();
    if (this.size === 0) {
      this.done = Math.floor(now / this.granularityMs);
      // Not unref'd: a caller awaiting a request keeps the process alive until it settles.
      this.timer = this.timers.setInterval(() => this.expireDue(), this.granularityMs);
    }
    this.size++;
    const tick = Math.max(this.done + 1, Math.ceil((now + Math.max(0, ms)) / this.granularityMs));
    let list = this.ticks.get(tick);
    if (list === undefined) this.ticks.set(tick, (list = new TickList()));
    x.deadlinePrev = list.last;
    x.deadlineNext = null;
    if (list.last === null) list.first = x;
    else list.last.deadlineNext = x;
    list.last = x;
    return tick;
  }

  /** Deadlines pending. */
  get pending(): number {
    return this.size;
  }

  /** Forgets `x` (it settled). */
  remove(x: Expirable, tick: number): void {
    const list = this.ticks.get(tick);
    // Not in the list (removed before, or expired): nothing to do.
    if (list === undefined || (x.deadlinePrev === null && list.first !== x)) return;
    const { deadlinePrev: prev, deadlineNext: next } = x;
    if (prev === null) list.first = next;
    else prev.deadlineNext = next;
    if (next === null) list.last = prev;
    else next.deadlinePrev = prev;
    x.deadlinePrev = x.deadlineNext = null;
    if (list.first === null) this.ticks.delete(tick);
    this.settled();
  }

  private settled(): void {
    if (--this.size === 0 && this.timer !== null) {
      this.timers.clearInterval(this.timer);
      this.timer = null;
    }
  }

  private expireDue(): void {
    const now = Math.floor(this.clock.now() / this.granularityMs);
    const due: number[] = [];
    if (now - this.done <= this.ticks.size) {
      for (let t = this.done + 1; t <= now; t++) if (this.ticks.has(t)) due.push(t);
    } else {
      for (const t of this.ticks.keys()) if (t <= now) due.push(t);
    }
    this.done = now;
    for (const t of due) {
      const list = this.ticks.get(t);
      this.ticks.delete(t);
      // Unlinked before it expires: a request that `expire` settles finds itself in no list.
      for (let x = list?.first ?? null; x !== null;) {
        const next = x.deadlineNext;
        x.deadlinePrev = x.deadlineNext = null;
        this.settled();
        x.expire();
        x = next;
      }
    }
  }
}
