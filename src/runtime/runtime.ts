/**
 * The runtime a NodeHost runs on: its clocks, its timers and event-loop hand-offs, its source
 * of randomness, its file system and its process identity. The real one
 * ({@link realRuntime}) is Node itself; the deterministic simulator supplies virtual time, a
 * seeded random source and a simulated disk, so that the real host runs many seeds a minute
 * and a failing seed replays exactly. Library code outside `src/runtime` reaches none of these
 * directly (a lint fence checks it); it takes them from the runtime it was given.
 */
import type { FileSystem } from './file-system.js';

/** A timer that can be let go of so it does not keep a process alive. */
export interface TimerHandle {
  /** Lets the process exit while this timer is pending (no-op in a simulator). Returns itself. */
  unref(): TimerHandle;
}

/** Clocks, in milliseconds. */
export interface Clock {
  /** Monotonic time (`performance.now()`): for durations, deadlines and ticks. */
  now(): number;
  /** Wall-clock time since the epoch (`Date.now()`): for timestamps shown to people only. */
  wallNow(): number;
}

/** Timers and event-loop hand-offs (Node's globals of the same names). */
export interface Timers {
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timeout (null or undefined: nothing). */
  clearTimeout(handle: TimerHandle | null | undefined): void;
  /** Runs `fn` every `ms` milliseconds. */
  setInterval(fn: () => void, ms: number): TimerHandle;
  /** Cancels an interval (null or undefined: nothing). */
  clearInterval(handle: TimerHandle | null | undefined): void;
  /** Runs `fn` after pending I/O callbacks (the check phase). */
  setImmediate(fn: () => void): void;
}

/** A source of random numbers. */
export interface RandomSource {
  /** An integer in [min, max). */
  int(min: number, max: number): number;
  /** A float in [0, 1). */
  float(): number;
  /** `n` random bytes. */
  bytes(n: number): Buffer;
}

/** The process a host runs in, as the directory lock sees it. */
export interface ProcessInfo {
  /** This process's id, written into a directory's lock file. */
  readonly pid: number;
  /** Whether the process `pid` is alive (it holds a lock that must be respected). */
  isAlive(pid: number): boolean;
}

/** Everything a NodeHost takes from its environment. */
export interface Runtime {
  /** Clocks. */
  readonly clock: Clock;
  /** Timers and event-loop hand-offs. */
  readonly timers: Timers;
  /** Randomness: host ids, jitter, leader balancing. */
  readonly random: RandomSource;
  /** The file system every storage layer uses. */
  readonly fs: FileSystem;
  /** This process's id and other processes' liveness (the directory lock). */
  readonly process: ProcessInfo;
}
