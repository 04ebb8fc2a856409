/** The real {@link Runtime}: Node's clocks, timers, crypto randomness, `node:fs` and process. */
import * as fs from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import type { FileSystem } from './file-system.js';
import type { Runtime, TimerHandle } from './runtime.js';

/** `node:fs` as a {@link FileSystem} (checked by the compiler: no wrapper). */
export const realFileSystem: FileSystem = fs;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** The runtime every NodeHost uses unless given another. */
export const realRuntime: Runtime = Object.freeze({
  clock: { now: () => performance.now(), wallNow: () => Date.now() },
  timers: {
    setTimeout: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms),
    clearTimeout: (h: TimerHandle | null | undefined): void => { if (h != null) clearTimeout(h as NodeJS.Timeout); },
    setInterval: (fn: () => void, ms: number): TimerHandle => setInterval(fn, ms),
    clearInterval: (h: TimerHandle | null | undefined): void => { if (h != null) clearInterval(h as NodeJS.Timeout); },
    setImmediate: (fn: () => void): void => { setImmediate(fn); },
  },
  random: {
    int: (min: number, max: number): number => randomInt(min, max),
    float: (): number => Math.random(),
    bytes: (n: number): Buffer => randomBytes(n),
  },
  fs: realFileSystem,
  process: { pid: process.pid, isAlive },
});
