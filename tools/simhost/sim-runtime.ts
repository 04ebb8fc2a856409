/**
 * The simulated runtime: one {@link SimRuntime} per host incarnation (its own scheduler tag and
 * fake pid) over the shared virtual clock, seeded random source and simulated disk.
 *
 * Each simulated NodeHost is given its SimRuntime as `NodeHostConfig.runtime`. What the library
 * does not take from a runtime (the simulator's own state machine, clients and network, and
 * Node's internals), {@link installSimGlobals} routes to the simulator through Node's globals:
 * timers, `setImmediate`, `performance.now`, `Date.now`, `Math.random`, `crypto.randomInt` and
 * `randomBytes`, `process.pid` and `process.kill(pid, 0)`, and every `node:fs` call on a path
 * under `/sim` or on a simulated descriptor (ESM live bindings updated with
 * `syncBuiltinESMExports`). It must run before the library is imported (the WAL captures
 * `promisify(fs.write)` at load). Which host a timer or fs call belongs to is the scheduler's
 * current tag: the host whose event (and its microtasks) is running.
 */
import type * as crypto from 'node:crypto';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { promisify } from 'node:util';
import type { Runtime, TimerHandle, Timers, Clock, ProcessInfo } from '../../src/runtime/runtime.js';
import type { Scheduler, SimEvent } from './scheduler.js';
import { SIM_FD_BASE, type SimFs } from './sim-fs.js';
import type { SimRandom } from './sim-random.js';

/** Fake pids of simulated host incarnations start here (no real process has one this high). */
export const SIM_PID_BASE = 50_000_000;
/** The wall clock of virtual time 0 (a fixed date, so wall-clock strings replay too). */
export const SIM_EPOCH_MS = Date.UTC(2030, 0, 1);
/** Every simulated host's directory is under this path. */
export const SIM_ROOT = '/sim';

/** The shared pieces of one simulated world. */
export interface SimWorld {
  readonly sched: Scheduler;
  readonly fs: SimFs;
  readonly random: SimRandom;
  /** Fake pid of each live incarnation tag. */
  readonly pids: Map<string, number>;
}

/** A timer of the simulator: cancels its event. */
class SimTimer implements TimerHandle {
  ev: SimEvent | undefined;
  unref(): this { return this; }
  ref(): this { return this; }
  hasRef(): boolean { return false; }
  refresh(): this { return this; }
  [Symbol.toPrimitive](): number { return this.ev?.seq ?? -1; }
}

/** Timers over the scheduler; `tag()` says whose timer it is. */
export function simTimers(sched: Scheduler, tag: () => string): Timers {
  const clear = (h: TimerHandle | null | undefined): void => {
    if (h instanceof SimTimer && h.ev !== undefined) h.ev.cancelled = true;
  };
  return {
    setTimeout(fn: () => void, ms: number): TimerHandle {
      const t = new SimTimer();
      t.ev = sched.schedule(Math.max(1, ms || 0), fn, 'timeout', tag());
      return t;
    },
    clearTimeout: clear,
    setInterval(fn: () => void, ms: number): TimerHandle {
      const t = new SimTimer();
      const owner = tag();
      const period = Math.max(1, ms || 0);
      const arm = (): void => {
        t.ev = sched.schedule(period, () => { arm(); fn(); }, 'interval', owner);
      };
      arm();
      return t;
    },
    clearInterval: clear,
    setImmediate(fn: () => void): void {
      sched.schedule(0, fn, 'immediate', tag());
    },
  };
}

/** The runtime of one simulated host incarnation. */
export class SimRuntime implements Runtime {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly process: ProcessInfo;

  constructor(private readonly world: SimWorld, readonly tag: string) {
    this.clock = { now: () => world.sched.now, wallNow: () => SIM_EPOCH_MS + world.sched.now };
    this.timers = simTimers(world.sched, () => tag);
    const pid = world.pids.get(tag) ?? 0;
    this.process = { pid, isAlive: (p: number) => [...world.pids.values()].includes(p) };
  }

  get random(): SimRandom { return this.world.random; }
  get fs(): SimFs { return this.world.fs; }
}

const isSimPath = (p: unknown): boolean => typeof p === 'string' && (p === SIM_ROOT || p.startsWith(SIM_ROOT + '/'));
const isSimFd = (fd: unknown): boolean => typeof fd === 'number' && fd >= SIM_FD_BASE;

/** The world the globals are routed to (one seed at a time per process). */
let current: SimWorld | undefined;

/** Makes `world` the one the installed globals route to. */
export function setSimWorld(world: SimWorld): void {
  current = world;
}

const cur = (): SimWorld => {
  if (current === undefined) throw new Error('no simulated world is current');
  return current;
};

/** A scheduler facade that always reaches the current world's scheduler. */
const schedProxy = {
  get now(): number { return cur().sched.now; },
  get currentTag(): string { return cur().sched.currentTag; },
  schedule: (d: number, fn: () => void, label?: string, tag?: string) => cur().sched.schedule(d, fn, label, tag),
} as unknown as Scheduler;

let installed = false;

/** Routes Node's globals, `node:fs` and `node:crypto` randomness to the current world (see the module doc). Idempotent. */
export function installSimGlobals(): void {
  if (installed) return;
  installed = true;
  const timers = simTimers(schedProxy, () => cur().sched.currentTag);
  const g = globalThis as unknown as Record<string, unknown>;
  g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => timers.setTimeout(() => fn(...args), ms ?? 0);
  g.clearTimeout = timers.clearTimeout;
  g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => timers.setInterval(() => fn(...args), ms ?? 0);
  g.clearInterval = timers.clearInterval;
  g.setImmediate = (fn: (...a: unknown[]) => void, ...args: unknown[]) => { timers.setImmediate(() => fn(...args)); return new SimTimer(); };
  g.clearImmediate = timers.clearTimeout;
  performance.now = () => cur().sched.now;
  Date.now = () => SIM_EPOCH_MS + cur().sched.now;
  Math.random = () => cur().random.float();

  const require = createRequire(import.meta.url);
  const c = require('node:crypto') as typeof crypto & Record<string, unknown>;
  c.randomInt = ((a: number, b?: number) => (b === undefined ? cur().random.int(0, a) : cur().random.int(a, b))) as typeof crypto.randomInt;
  c.randomBytes = ((n: number) => cur().random.bytes(n)) as typeof crypto.randomBytes;

  const realPid = process.pid;
  Object.defineProperty(process, 'pid', { configurable: true, enumerable: true, get: () => (current === undefined ? realPid : current.pids.get(current.sched.currentTag) ?? realPid) });
  const realKill = process.kill.bind(process);
  process.kill = ((pid: number, sig?: string | number) => {
    if (pid >= SIM_PID_BASE) {
      if ([...cur().pids.values()].includes(pid)) return true;
      const e = new Error('kill ESRCH') as NodeJS.ErrnoException;
      e.code = 'ESRCH';
      throw e;
    }
    return realKill(pid, sig);
  }) as typeof process.kill;

  const fs = require('node:fs') as Record<string, unknown> & { promises: Record<string, unknown> };
  const sfsCall = (name: string) => (...a: unknown[]): unknown => (cur().fs as unknown as Record<string, (...x: unknown[]) => unknown>)[name]!.apply(cur().fs, a);
  const byPath = (name: string): void => {
    const real = fs[name] as (...a: unknown[]) => unknown;
    const sim = sfsCall(name);
    fs[name] = (...a: unknown[]) => (isSimPath(a[0]) ? sim(...a) : real(...a));
  };
  const byFd = (name: string): void => {
    const real = fs[name] as (...a: unknown[]) => unknown;
    const sim = sfsCall(name);
    fs[name] = (...a: unknown[]) => (isSimFd(a[0]) ? sim(...a) : real(...a));
  };
  for (const n of ['openSync', 'statSync', 'readdirSync', 'mkdirSync', 'existsSync', 'unlinkSync', 'renameSync', 'readFileSync', 'rmSync', 'rmdirSync', 'linkSync', 'copyFileSync']) byPath(n);
  for (const n of ['closeSync', 'readSync', 'writeSync', 'fsyncSync', 'fdatasyncSync', 'ftruncateSync']) byFd(n);
  const realWriteFileSync = fs.writeFileSync as (...a: unknown[]) => unknown;
  fs.writeFileSync = (p: unknown, d: unknown, ...rest: unknown[]) => (isSimPath(p) || isSimFd(p) ? cur().fs.writeFileSync(p as string, d as string) : realWriteFileSync(p, d, ...rest));

  // Callback-style calls (the WAL promisifies fs.write, fs.fdatasync, fs.fsync, fs.open, fs.close, fs.unlink).
  type Cb = (err: unknown, ...r: unknown[]) => void;
  const callback = (name: string, isSim: (x: unknown) => boolean, run: (...a: unknown[]) => unknown[], resultNames?: string[]): void => {
    const real = fs[name] as (...a: unknown[]) => unknown;
    const patched = (...a: unknown[]): unknown => {
      if (!isSim(a[0])) return real(...a);
      const cb = a.pop() as Cb;
      cur().fs.later(name, () => run(...a)).then((r) => cb(null, ...r), (e: unknown) => cb(e));
      return undefined;
    };
    const realP = promisify(real) as (...x: unknown[]) => Promise<unknown>;
    (patched as unknown as Record<symbol, unknown>)[promisify.custom] = (...a: unknown[]) => {
      if (!isSim(a[0])) return realP(...a);
      return cur().fs.later(name, () => {
        const r = run(...a);
        return resultNames === undefined ? r[0] : Object.fromEntries(resultNames.map((k, i) => [k, r[i]]));
      });
    };
    fs[name] = patched;
  };
  const sfs = (): SimFs => cur().fs;
  callback('write', isSimFd, (fd, buf, off, len, pos) => [sfs().writeSync(fd as number, buf as Uint8Array, (off as number | undefined) ?? 0, (len as number | undefined) ?? (buf as Uint8Array).length, (pos as number | null | undefined) ?? null), buf], ['bytesWritten', 'buffer']);
  callback('fdatasync', isSimFd, (fd) => [sfs().fdatasyncSync(fd as number)]);
  callback('fsync', isSimFd, (fd) => [sfs().fsyncSync(fd as number)]);
  callback('close', isSimFd, (fd) => [sfs().closeSync(fd as number)]);
  callback('open', isSimPath, (p, flags) => [sfs().openSync(p as string, typeof flags === 'string' ? flags : 'r')]);
  callback('unlink', isSimPath, (p) => [sfs().unlinkSync(p as string)]);

  const fsp = require('node:fs/promises') as Record<string, unknown>;
  for (const n of ['open', 'readFile', 'writeFile', 'stat', 'readdir', 'mkdir', 'rename', 'rm', 'rmdir', 'unlink', 'link', 'copyFile', 'access', 'truncate']) {
    const real = fsp[n] as (...a: unknown[]) => unknown;
    const f = (...a: unknown[]): unknown => (isSimPath(a[0]) ? (cur().fs.promises as unknown as Record<string, (...x: unknown[]) => unknown>)[n]!(...a) : real(...a));
    fsp[n] = f;
    fs.promises[n] = f;
  }
  syncBuiltinESMExports();
}
