/**
 * Virtual time for the host simulator: a queue of (time, seq) events, each tagged with the
 * host incarnation it belongs to (or `sim` for the simulator itself). {@link Scheduler.step}
 * runs the next event and then lets every microtask it caused drain, so what runs between two
 * events is exactly the promise continuations of the first and the order is deterministic.
 * Killing a tag cancels its pending events and refuses new ones: nothing of a crashed host
 * runs again.
 *
 * The drain is a `process.nextTick` queued from a microtask: V8 runs the whole microtask queue
 * (continuations of continuations included) before Node runs the next tick, so the tick fires
 * once the event's promise chains are done. That is as exact as a real `setImmediate` (a full
 * event-loop turn, with an `epoll_wait`) and several times cheaper; a third of a seed's time
 * went to those turns. Ticks queued by the event's own code (none from the library; Node's
 * streams do) would run after that tick, so a step during which any other `process.nextTick`
 * was queued (counted by {@link countTicks}) still ends with a real `setImmediate`, and one every
 * {@link yieldEvery} events lets the process's real I/O (stdout, a parent's pipe) through.
 *
 * Every event run is folded into a trace digest (time, tag, label), so two runs of one seed
 * can be compared by one string.
 */
import { createHash, type Hash } from 'node:crypto';
// node:timers, not the global: the simulator replaces the globals with virtual timers.
import { setImmediate as realSetImmediate } from 'node:timers';

/** Characters of trace collected before they are hashed. */
const TRACE_CHUNK = 1 << 16;

let ticksQueued = 0;
let realNextTick: typeof process.nextTick | undefined;

/**
 * Counts every `process.nextTick` queued in this process from now on (idempotent), so that
 * {@link Scheduler.step} can tell when an event queued one.
 */
export function countTicks(): void {
  if (realNextTick !== undefined) return;
  const real = process.nextTick.bind(process);
  realNextTick = real;
  process.nextTick = ((fn: (...a: unknown[]) => void, ...args: unknown[]) => {
    ticksQueued++;
    real(fn, ...args);
  }) as typeof process.nextTick;
}

/** Resolves once every microtask queued before it (and every one those queue) has run. */
async function drainMicrotasks(): Promise<void> {
  // The `await` puts what follows in a microtask: a tick queued from a microtask runs only
  // after V8 has emptied the microtask queue.
  await null;
  await new Promise<void>((r) => realNextTick!(r));
}

/** A scheduled event; `cancelled` is set by a timer clear or by killing its tag. */
export interface SimEvent {
  readonly time: number;
  readonly seq: number;
  readonly tag: string;
  readonly label: string;
  fn: () => void;
  cancelled: boolean;
}

/** The virtual clock and its event queue. */
export class Scheduler {
  /** Virtual milliseconds since the start of the run. */
  now = 0;
  /** The tag of the event that ran last: the host whose code is running (microtasks included). */
  currentTag = 'sim';
  /** Events run so far. */
  eventsRun = 0;
  /**
   * Set when more than {@link maxEventsAtOneTime} events ran without virtual time passing (a
   * busy loop of immediates): the scheduler then runs nothing more.
   */
  stalledAt: number | undefined;
  /** The bound of {@link stalledAt}. */
  maxEventsAtOneTime = 20_000;
  /**
   * Events one run may take in all (a seed takes about 50,000): past it the run is stalled too,
   * so that a livelock that lets virtual time crawl ends the seed instead of hanging it.
   */
  maxEvents = 5_000_000;
  /** Events between two real event-loop turns (the process's own I/O runs there). */
  yieldEvery = 2000;
  private sinceYield = 0;
  private sameTime = 0;
  private seq = 0;
  private readonly heap: SimEvent[] = [];
  private readonly dead = new Set<string>();
  private readonly hash: Hash = createHash('sha256');
  /**
   * Trace lines not yet hashed: they go to the hash in chunks (one native call per chunk, not
   * per event). SHA-256 of the concatenation does not depend on the chunking: same digests.
   */
  private unhashed = '';

  constructor() {
    countTicks();
  }

  /**
   * Schedules `fn` at `now + delayMs` for `tag` (default: the current tag). Events at the same
   * time run in scheduling order. A dead tag's event is returned already cancelled.
   */
  schedule(delayMs: number, fn: () => void, label = 'timer', tag = this.currentTag): SimEvent {
    const ev: SimEvent = { time: this.now + Math.max(0, delayMs), seq: this.seq++, tag, label, fn, cancelled: this.dead.has(tag) };
    if (!ev.cancelled) this.push(ev);
    return ev;
  }

  /** Cancels every pending event of `tag` and every event it would schedule from now on. */
  kill(tag: string): void {
    this.dead.add(tag);
    for (const ev of this.heap) if (ev.tag === tag) ev.cancelled = true;
  }

  /** Whether `tag` was killed. */
  isDead(tag: string): boolean {
    return this.dead.has(tag);
  }

  /** Folds a line into the trace digest (messages delivered, faults injected, client results). */
  trace(line: string): void {
    this.unhashed += `${line}\n`;
    if (this.unhashed.length > TRACE_CHUNK) this.hashPending();
  }

  /** The digest of the trace so far (hex, 16 characters). */
  digest(): string {
    this.hashPending();
    return this.hash.copy().digest('hex').slice(0, 16);
  }

  private hashPending(): void {
    this.hash.update(this.unhashed);
    this.unhashed = '';
  }

  /** The time of the next live event, or undefined when the queue is empty. */
  peekTime(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.time;
  }

  /**
   * Runs the next live event (advancing the clock to it) and drains its microtasks.
   * @returns false when no event is left.
   */
  async step(): Promise<boolean> {
    if (this.stalledAt !== undefined) return false;
    this.dropCancelled();
    const ev = this.pop();
    if (ev === undefined) return false;
    this.sameTime = ev.time === this.now ? this.sameTime + 1 : 0;
    if (this.sameTime > this.maxEventsAtOneTime || this.eventsRun >= this.maxEvents) {
      this.stalledAt = this.now;
      return false;
    }
    this.now = ev.time;
    this.currentTag = ev.tag;
    this.eventsRun++;
    this.unhashed += `${ev.time}|${ev.tag}|${ev.label}\n`;
    if (this.unhashed.length > TRACE_CHUNK) this.hashPending();
    const ticks = ticksQueued;
    ev.fn();
    await drainMicrotasks();
    if (ticksQueued !== ticks || ++this.sinceYield >= this.yieldEvery) {
      this.sinceYield = 0;
      await new Promise<void>((r) => realSetImmediate(r));
    }
    return true;
  }

  /**
   * Runs events until virtual time passes `untilMs`, `stop()` returns true (checked after every
   * event), or the queue empties. @returns whether `stop` ended it.
   */
  async runUntil(untilMs: number, stop: () => boolean = () => false): Promise<boolean> {
    for (;;) {
      if (stop()) return true;
      if (this.stalledAt !== undefined) return false;
      const t = this.peekTime();
      if (t === undefined || t > untilMs) {
        this.now = Math.max(this.now, untilMs);
        return false;
      }
      await this.step();
    }
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
