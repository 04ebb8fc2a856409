/** Waiting on a runtime's timers. */
import type { Timers } from './runtime.js';

/** Resolves after `ms` milliseconds of `timers`' time (a simulator's virtual time, or Node's). Never rejects. */
export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => { timers.setTimeout(resolve, ms); });
}
