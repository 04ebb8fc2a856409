/**
 * How long the process's event loop keeps work waiting, and how long garbage collection stops
 * it: what every shard of every host in the process feels as tail latency (issue 19). One
 * monitor per process, shared by its NodeHosts: the first host to start turns it on
 * (`perf_hooks.monitorEventLoopDelay` and a `PerformanceObserver` of `gc` entries), the last
 * to close turns it off.
 *
 * Event-loop delay: a timer due every {@link LOOP_RESOLUTION_MS} ms notes how late it ran, so
 * a turn that held the thread T ms shows as one delay of about T ms (the resolution is taken
 * off the figures Node reports). The figures are over a rolling window: two histograms, reset
 * in turn every {@link LOOP_WINDOW_MS} ms, and the one reset longer ago is read — so they
 * cover the last 30 to 60 seconds whoever reads them and however often (a scrape never resets
 * what `/status` shows). GC pauses: counts and total time per kind since the monitor started
 * (monotonic), and the longest pause per kind over the same window.
 */
import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { realRuntime, type Timers, type TimerHandle } from '../runtime/index.js';

/** The delay sampler's period in milliseconds (Node's default). */
export const LOOP_RESOLUTION_MS = 10;
/** Each window histogram is reset this often: figures cover the last one to two windows. */
export const LOOP_WINDOW_MS = 30_000;

/** Event-loop delay over the window, in milliseconds (see the module comment). */
export interface EventLoopStats {
  /** How far back the figures reach, in ms: 30 to 60 s (less in the monitor's first 30 s: since it started). */
  readonly windowMs: number;
  /** Delay samples in the window (about one per 10 ms, fewer when turns are long). */
  readonly samples: number;
  /** Median delay. */
  readonly p50Ms: number;
  /** 99th percentile delay. */
  readonly p99Ms: number;
  /** 99.9th percentile delay. */
  readonly p999Ms: number;
  /** Longest delay: about the longest turn of the event loop in the window. */
  readonly maxMs: number;
  /** Mean delay. */
  readonly meanMs: number;
}

/** One kind of GC pause. */
export interface GcKindStats {
  /** Pauses since the monitor started (monotonic). */
  readonly count: number;
  /** Milliseconds paused since the monitor started (monotonic). */
  readonly totalMs: number;
  /** The longest pause in the event-loop window ({@link EventLoopStats.windowMs}); 0 for none. */
  readonly maxMs: number;
}

/** GC pauses by V8's kinds: scavenges (minor), mark-compacts (major), incremental marking steps, weak callbacks. */
export interface GcStats {
  /** Scavenges of the young generation (short, frequent). */
  readonly minor: GcKindStats;
  /** Mark-compacts of the whole heap. */
  readonly major: GcKindStats;
  /** Incremental marking steps. */
  readonly incremental: GcKindStats;
  /** Weak callback processing. */
  readonly weakcb: GcKindStats;
}

/** What {@link LoopMonitorHandle.read} reports: shared by every host of the process. */
export interface ProcessLoopStats {
  readonly eventLoop: EventLoopStats;
  readonly gc: GcStats;
}

/** One host's hold on the process monitor. */
export interface LoopMonitorHandle {
  /** The current figures. Cheap (no I/O); after release, zeros. */
  read(): ProcessLoopStats;
  /** Lets go of the monitor (the last release stops it). Idempotent. */
  release(): void;
}

const KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;
type Kind = (typeof KINDS)[number];
const KIND_OF: ReadonlyMap<number, Kind> = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'], [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'], [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

interface KindAcc { count: number; totalMs: number; max: [number, number] }

/** The running monitor (one per process while any host holds it). */
class LoopMonitor {
  /** Two delay histograms; `older` was reset longer ago and is the one read. */
  private readonly h: [IntervalHistogram, IntervalHistogram];
  private older = 0;
  private readonly resetAt: [number, number];
  private readonly gc = new Map<Kind, KindAcc>(KINDS.map((k) => [k, { count: 0, totalMs: 0, max: [0, 0] }]));
  private readonly observer: PerformanceObserver;
  private readonly rotation: TimerHandle;

  constructor(private readonly timers: Timers, private readonly now: () => number) {
    this.h = [monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS }), monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })];
    for (const h of this.h) h.enable();
    const t = now();
    this.resetAt = [t, t];
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.noteGc(e.duration, (e as unknown as { detail?: { kind?: number } }).detail?.kind);
    });
    this.observer.observe({ entryTypes: ['gc'] });
    this.rotation = timers.setInterval(() => this.rotate(), LOOP_WINDOW_MS).unref();
  }

  private noteGc(ms: number, kind: number | undefined): void {
    const acc = this.gc.get(KIND_OF.get(kind ?? -1) ?? 'minor') as KindAcc;
    acc.count++;
    acc.totalMs += ms;
    for (const i of [0, 1]) acc.max[i] = Math.max(acc.max[i] as number, ms);
  }

  /** Resets the older histogram (and the GC maxima of its window): the other becomes the older. */
  private rotate(): void {
    const i = this.older;
    (this.h[i] as IntervalHistogram).reset();
    this.resetAt[i] = this.now();
    for (const acc of this.gc.values()) acc.max[i] = 0;
    this.older = 1 - i;
  }

  read(): ProcessLoopStats {
    const i = this.older;
    const h = this.h[i] as IntervalHistogram;
    const ms = (ns: number): number => (h.count === 0 ? 0 : Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS));
    const gcOf = (k: Kind): GcKindStats => {
      const acc = this.gc.get(k) as KindAcc;
      return { count: acc.count, totalMs: acc.totalMs, maxMs: acc.max[i] as number };
    };
    return {
      eventLoop: {
        windowMs: this.now() - (this.resetAt[i] as number), samples: h.count,
        p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), p999Ms: ms(h.percentile(99.9)),
        maxMs: ms(h.max), meanMs: ms(h.mean),
      },
      gc: { minor: gcOf('minor'), major: gcOf('major'), incremental: gcOf('incremental'), weakcb: gcOf('weakcb') },
    };
  }

  stop(): void {
    this.timers.clearInterval(this.rotation);
    this.observer.disconnect();
    for (const h of this.h) h.disable();
  }
}

let shared: LoopMonitor | null = null;
let holders = 0;

const ZERO_KIND: GcKindStats = { count: 0, totalMs: 0, maxMs: 0 };
const ZERO: ProcessLoopStats = {
  eventLoop: { windowMs: 0, samples: 0, p50Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, meanMs: 0 },
  gc: { minor: ZERO_KIND, major: ZERO_KIND, incremental: ZERO_KIND, weakcb: ZERO_KIND },
};

/**
 * Takes a hold on the process's loop monitor, starting it if no host holds it. The first
 * holder's runtime supplies the window timer and the clock. Never throws.
 */
export function acquireLoopMonitor(runtime: { readonly timers: Timers; readonly clock: { now(): number } } = realRuntime): LoopMonitorHandle {
  shared ??= new LoopMonitor(runtime.timers, () => runtime.clock.now());
  holders++;
  let held = true;
  return {
    read: () => (held && shared !== null ? shared.read() : ZERO),
    release: () => {
      if (!held) return;
      held = false;
      if (--holders === 0) {
        shared?.stop();
        shared = null;
      }
    },
  };
}

/** Whether the process monitor is running (some host holds it): for tests. */
export function loopMonitorRunning(): boolean {
  return shared !== null;
}
