/**
 * A runtime that records what goes through it: every file system call by name and the path it
 * concerned (descriptor calls resolved to the path the descriptor was opened on), the paths
 * created, and the timers made with their delays. It wraps a real runtime (Node itself by
 * default), so what it records really happened.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { realRuntime, type FileSystem, type Runtime, type TimerHandle } from '../../src/runtime/index.js';

/** One recorded file system call. */
export interface FsCall {
  /** `openSync`, `promises.writeFile`, `handle.datasync`, ... */
  readonly name: string;
  /** The path it concerned ('' when none could be told). */
  readonly path: string;
}

/** A recorded timer. */
export interface TimerCall {
  readonly kind: 'setTimeout' | 'setInterval' | 'setImmediate';
  readonly ms: number;
}

/** What a {@link recordingRuntime} saw. */
export interface Recording {
  readonly fs: FsCall[];
  /** Paths created: files opened for writing, files written, directories made, link/copy/rename targets. */
  readonly created: Set<string>;
  readonly timers: TimerCall[];
  /** Calls of `random.*`, by name. */
  readonly random: Map<string, number>;
  /** Clock reads, by name. */
  readonly clock: Map<string, number>;
  /** Calls of `process.isAlive`. */
  isAlive: number;
  /** Renames, in order. */
  readonly renames: Array<readonly [string, string]>;
  /** Recorded calls named `name` (all of them without a path filter; else those whose path includes `pathPart`). */
  calls(name: string, pathPart?: string): FsCall[];
  /**
   * Whether `p` was created through the runtime: created at that path, or created under a
   * directory the runtime then renamed to one of `p`'s ancestors.
   */
  made(p: string): boolean;
}

const CREATING_FLAGS = /[wax]/;

/** A recursive mkdir of `leaf` that created `first` made every directory from `first` down to `leaf`. */
function madeByMkdir(created: Set<string>, leaf: string, first: unknown): void {
  if (typeof first !== 'string') return;
  for (let d = leaf; d.length >= first.length; d = d.slice(0, d.lastIndexOf('/'))) created.add(d);
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** A runtime over `base` that records into the returned `rec`. */
export function recordingRuntime(base: Runtime = realRuntime): { runtime: Runtime; rec: Recording } {
  const rec: Recording = {
    fs: [], created: new Set(), timers: [], random: new Map(), clock: new Map(), isAlive: 0, renames: [],
    calls(name, pathPart) { return this.fs.filter((c) => c.name === name && (pathPart === undefined || c.path.includes(pathPart))); },
    made(p) {
      if (this.created.has(p)) return true;
      for (const [from, to] of this.renames) {
        if (p.startsWith(`${to}/`) && this.made(from + p.slice(to.length))) return true;
      }
      return false;
    },
  };
  const fdPaths = new Map<number, string>();
  const pathOf = (a: unknown): string => (typeof a === 'string' ? a : typeof a === 'number' ? fdPaths.get(a) ?? '' : '');

  const note = (name: string, args: unknown[]): void => {
    const path = pathOf(args[0]);
    rec.fs.push({ name, path });
    const base = name.replace(/^promises\./, '').replace(/Sync$/, '');
    if (base === 'open' && typeof args[1] === 'string' && CREATING_FLAGS.test(args[1])) rec.created.add(path);
    if ((base === 'writeFile' && typeof args[0] === 'string') || base === 'mkdir') rec.created.add(path);
    if (base === 'rename' || base === 'copyFile' || base === 'link') rec.created.add(pathOf(args[1]));
    if (base === 'rename') rec.renames.push([path, pathOf(args[1])]);
  };

  const wrapHandle = (h: Awaited<ReturnType<FileSystem['promises']['open']>>, path: string): typeof h => new Proxy(h, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        rec.fs.push({ name: `handle.${String(prop)}`, path });
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });

  const promises = new Proxy(base.fs.promises, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        note(`promises.${String(prop)}`, args);
        const out = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (prop === 'mkdir') return (out as Promise<unknown>).then((first) => { madeByMkdir(rec.created, args[0] as string, first); return first; });
        if (prop !== 'open') return out;
        return (out as Promise<Awaited<ReturnType<FileSystem['promises']['open']>>>).then((h) => {
          fdPaths.set(h.fd, args[0] as string);
          return wrapHandle(h, args[0] as string);
        });
      };
    },
  });

  const fs = new Proxy(base.fs, {
    get(target, prop, receiver) {
      if (prop === 'promises') return promises;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        note(String(prop), args);
        if (prop === 'open') {
          const cb = args[2] as (err: Error | null, fd: number) => void;
          args[2] = (err: Error | null, fd: number) => { if (err === null) fdPaths.set(fd, args[0] as string); cb(err, fd); };
        }
        const out = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (prop === 'openSync') fdPaths.set(out as number, args[0] as string);
        if (prop === 'mkdirSync') madeByMkdir(rec.created, args[0] as string, out);
        return out;
      };
    },
  }) as FileSystem;

  const runtime: Runtime = {
    clock: {
      now: () => { bump(rec.clock, 'now'); return base.clock.now(); },
      wallNow: () => { bump(rec.clock, 'wallNow'); return base.clock.wallNow(); },
    },
    timers: {
      setTimeout: (fn: () => void, ms: number): TimerHandle => { rec.timers.push({ kind: 'setTimeout', ms }); return base.timers.setTimeout(fn, ms); },
      clearTimeout: (h) => base.timers.clearTimeout(h),
      setInterval: (fn: () => void, ms: number): TimerHandle => { rec.timers.push({ kind: 'setInterval', ms }); return base.timers.setInterval(fn, ms); },
      clearInterval: (h) => base.timers.clearInterval(h),
      setImmediate: (fn: () => void): void => { rec.timers.push({ kind: 'setImmediate', ms: 0 }); base.timers.setImmediate(fn); },
    },
    random: {
      int: (min, max) => { bump(rec.random, 'int'); return base.random.int(min, max); },
      float: () => { bump(rec.random, 'float'); return base.random.float(); },
      bytes: (n) => { bump(rec.random, 'bytes'); return base.random.bytes(n); },
    },
    fs,
    process: { pid: base.process.pid, isAlive: (pid) => { rec.isAlive++; return base.process.isAlive(pid); } },
  };
  return { runtime, rec };
}

/** Every path under `root` (files and directories), as the real file system lists them. */
export function walk(root: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    const p = path.join(root, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...walk(p));
  }
  return out;
}
