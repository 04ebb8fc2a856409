/**
 * A fault-injecting {@link FileSystem} for tests: it wraps another one (the real `node:fs` in
 * tests of a live host) and passes every call through, except those matching a rule armed at
 * run time. A failure rule makes an operation (fsync, fdatasync, write, open, rename, mkdir,
 * …) on a path matching a predicate fail with an errno (`EIO`, `ENOSPC`, …), once or until
 * disarmed; a corruption rule flips a byte of a file region as it is read (the disk keeps the
 * good bytes: disarm, and reads are clean again).
 *
 * A testing aid, deliberately not exported from the package index: import it from
 * `src/runtime/fault-fs.js`. Descriptor calls are matched by the path the descriptor was
 * opened with. Byte flips apply to positional reads (`readSync`/`FileHandle.read` with a
 * position) and whole-file reads (`readFile`/`readFileSync`); a read from the current position
 * (`position` null) is passed through untouched.
 */
import type { DirEntry, FileHandle, FileStats, FileSystem, FileSystemPromises, FsCallbackError } from './file-system.js';

/** The operations a failure rule can name (Node's call names; descriptor calls by their syscall). */
export type FaultOp =
  | 'open' | 'close' | 'read' | 'write' | 'fsync' | 'fdatasync' | 'ftruncate' | 'stat' | 'readdir' | 'mkdir'
  | 'unlink' | 'rename' | 'rm' | 'link' | 'copyFile' | 'readFile' | 'writeFile';

/** A rule making some operations fail. */
export interface FailRule {
  /** The operations that fail. */
  readonly ops: readonly FaultOp[];
  /** Which paths (absolute or as given to the call; for `rename`/`link`/`copyFile`, either side). Default: every path. */
  readonly path?: (path: string) => boolean;
  /** The errno code the call fails with: `EIO`, `ENOSPC`, … */
  readonly errno: string;
  /** Fail only the first matching call, then disarm (default false: until disarmed). */
  readonly once?: boolean;
}

/** A rule flipping one byte of a file as it is read. */
export interface FlipRule {
  /** Which files. */
  readonly path: (path: string) => boolean;
  /** The byte offset in the file to flip; a function picks it from the file's path and size. */
  readonly offset: number | ((path: string, size: number) => number);
  /** The bits XORed into the byte (default 0xff). */
  readonly mask?: number;
}

/** An armed rule: disarm it, and see how often it fired. */
export interface ArmedFault {
  /** Calls it failed or reads it changed so far. */
  readonly hits: number;
  /** Whether it is still armed. */
  readonly armed: boolean;
  /** Disarms it (idempotent). */
  disarm(): void;
}

class Armed<R> implements ArmedFault {
  hits = 0;
  armed = true;
  constructor(readonly rule: R, private readonly owner: Set<Armed<R>>) { owner.add(this); }
  disarm(): void {
    this.armed = false;
    this.owner.delete(this);
  }
}

/** The error Node would throw for a failed system call. */
function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${syscall} '${path}'`);
  e.code = code;
  e.syscall = syscall;
  e.path = path;
  return e;
}

/** See the file comment. */
export class FaultFileSystem implements FileSystem {
  private readonly failRules = new Set<Armed<FailRule>>();
  private readonly flipRules = new Set<Armed<FlipRule>>();
  /** Open descriptors and the paths they were opened with. */
  private readonly paths = new Map<number, string>();
  readonly promises: FileSystemPromises;

  /** Wraps `inner`; no rule is armed. */
  constructor(private readonly inner: FileSystem) {
    this.promises = this.makePromises();
  }

  /** Arms a failure rule; returns its handle. */
  fail(rule: FailRule): ArmedFault {
    return new Armed(rule, this.failRules);
  }

  /** Arms a byte flip on reads; returns its handle. */
  flip(rule: FlipRule): ArmedFault {
    return new Armed(rule, this.flipRules);
  }

  /** Disarms every rule. */
  disarmAll(): void {
    for (const r of [...this.failRules]) r.disarm();
    for (const r of [...this.flipRules]) r.disarm();
  }

  /** Throws the rule's error if an armed rule matches `op` on any of `paths`. */
  private check(op: FaultOp, ...paths: string[]): void {
    for (const a of this.failRules) {
      const { ops, path, errno, once } = a.rule;
      if (!ops.includes(op)) continue;
      const hit = paths.find((p) => path === undefined || path(p));
      if (hit === undefined) continue;
      a.hits++;
      if (once === true) a.disarm();
      throw errnoError(errno, op, hit);
    }
  }

  private pathOf(fd: number): string {
    return this.paths.get(fd) ?? `<fd ${fd}>`;
  }

  /** Flips bytes of `buf[off, off+len)`, which holds the file `path` from `position`. */
  private corrupt(path: string, buf: Uint8Array, off: number, len: number, position: number, size: () => number): void {
    for (const a of this.flipRules) {
      const { rule } = a;
      if (!rule.path(path)) continue;
      const at = typeof rule.offset === 'number' ? rule.offset : rule.offset(path, size());
      if (at < position || at >= position + len) continue;
      const i = off + (at - position);
      buf[i] = (buf[i] as number) ^ (rule.mask ?? 0xff);
      a.hits++;
    }
  }

  private hasFlips(path: string): boolean {
    for (const a of this.flipRules) if (a.rule.path(path)) return true;
    return false;
  }

  /** Runs `check`; a thrown fault goes to `cb` on a later turn (as the thread pool would), else `run`. */
  private viaCallback(check: () => void, cb: (err: FsCallbackError) => void, run: () => void): void {
    try {
      check();
    } catch (err) {
      setImmediate(() => cb(err as Error));
      return;
    }
    run();
  }

  // ---- callback-style descriptor calls ----------------------------------------------------

  /** As `fs.open`; fails under an `open` rule. */
  open(path: string, flags: string, cb: (err: FsCallbackError, fd: number) => void): void {
    this.viaCallback(() => this.check('open', path), (err) => cb(err, -1), () => this.inner.open(path, flags, (err, fd) => {
      if (err === null) this.paths.set(fd, path);
      cb(err, fd);
    }));
  }

  /** As `fs.close`; fails under a `close` rule (the descriptor is closed anyway). */
  close(fd: number, cb: (err: FsCallbackError) => void): void {
    const path = this.pathOf(fd);
    this.paths.delete(fd);
    this.inner.close(fd, (err) => {
      if (err !== null) { cb(err); return; }
      this.viaCallback(() => this.check('close', path), cb, () => cb(null));
    });
  }

  /** As `fs.write`; fails (writing nothing) under a `write` rule. */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null,
    cb: (err: FsCallbackError, written: number) => void): void {
    this.viaCallback(() => this.check('write', this.pathOf(fd)), (err) => cb(err, 0), () => this.inner.write(fd, buffer, offset, length, position, cb));
  }

  /** As `fs.fsync`; fails under an `fsync` rule. */
  fsync(fd: number, cb: (err: FsCallbackError) => void): void {
    this.viaCallback(() => this.check('fsync', this.pathOf(fd)), cb, () => this.inner.fsync(fd, cb));
  }

  /** As `fs.fdatasync`; fails under an `fdatasync` rule. */
  fdatasync(fd: number, cb: (err: FsCallbackError) => void): void {
    this.viaCallback(() => this.check('fdatasync', this.pathOf(fd)), cb, () => this.inner.fdatasync(fd, cb));
  }

  // ---- synchronous calls ------------------------------------------------------------------

  /** As `fs.openSync`; fails under an `open` rule. */
  openSync(path: string, flags: string, mode?: number): number {
    this.check('open', path);
    const fd = this.inner.openSync(path, flags, mode);
    this.paths.set(fd, path);
    return fd;
  }

  /** As `fs.closeSync`; fails under a `close` rule (the descriptor is closed anyway, as Linux does). */
  closeSync(fd: number): void {
    const path = this.pathOf(fd);
    this.paths.delete(fd);
    this.inner.closeSync(fd);
    this.check('close', path);
  }

  /** As `fs.readSync`; fails under a `read` rule; positional reads see armed flips. */
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    const path = this.pathOf(fd);
    this.check('read', path);
    const n = this.inner.readSync(fd, buffer, offset, length, position);
    if (position !== null && this.hasFlips(path)) this.corrupt(path, buffer, offset, n, position, () => this.inner.statSync(path).size);
    return n;
  }

  /** As `fs.writeSync`; fails (writing nothing) under a `write` rule. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    this.check('write', this.pathOf(fd));
    return this.inner.writeSync(fd, buffer, offset, length, position);
  }

  /** As `fs.fsyncSync`; fails under an `fsync` rule. */
  fsyncSync(fd: number): void {
    this.check('fsync', this.pathOf(fd));
    this.inner.fsyncSync(fd);
  }

  /** As `fs.fdatasyncSync`; fails under an `fdatasync` rule. */
  fdatasyncSync(fd: number): void {
    this.check('fdatasync', this.pathOf(fd));
    this.inner.fdatasyncSync(fd);
  }

  /** As `fs.ftruncateSync`; fails under an `ftruncate` rule. */
  ftruncateSync(fd: number, len: number): void {
    this.check('ftruncate', this.pathOf(fd));
    this.inner.ftruncateSync(fd, len);
  }

  /** As `fs.statSync`; fails under a `stat` rule. */
  statSync(path: string): FileStats {
    this.check('stat', path);
    return this.inner.statSync(path);
  }

  /** As `fs.readdirSync`; fails under a `readdir` rule. */
  readdirSync(path: string): string[] {
    this.check('readdir', path);
    return this.inner.readdirSync(path);
  }

  /** As `fs.mkdirSync`; fails under a `mkdir` rule. */
  mkdirSync(path: string, options?: { recursive?: boolean }): string | undefined {
    this.check('mkdir', path);
    return this.inner.mkdirSync(path, options);
  }

  /** As `fs.existsSync` (never fails). */
  existsSync(path: string): boolean {
    return this.inner.existsSync(path);
  }

  /** As `fs.unlinkSync`; fails under an `unlink` rule. */
  unlinkSync(path: string): void {
    this.check('unlink', path);
    this.inner.unlinkSync(path);
  }

  /** As `fs.rmSync`; fails under an `rm` rule. */
  rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void {
    this.check('rm', path);
    this.inner.rmSync(path, options);
  }

  /** As `fs.rmdirSync`; fails under an `rm` rule. */
  rmdirSync(path: string): void {
    this.check('rm', path);
    this.inner.rmdirSync(path);
  }

  /** As `fs.renameSync`; fails under a `rename` rule matching either path. */
  renameSync(from: string, to: string): void {
    this.check('rename', from, to);
    this.inner.renameSync(from, to);
  }

  /** As `fs.readFileSync`; fails under a `readFile` rule; armed flips apply. */
  readFileSync(path: string): Buffer;
  readFileSync(path: string, encoding: 'utf8'): string;
  readFileSync(path: string, encoding?: 'utf8'): Buffer | string {
    this.check('readFile', path);
    const b = this.inner.readFileSync(path);
    if (this.hasFlips(path)) this.corrupt(path, b, 0, b.length, 0, () => b.length);
    return encoding === 'utf8' ? b.toString('utf8') : b;
  }

  /** As `fs.writeFileSync`; fails under a `writeFile` rule (a descriptor: under a `write` rule). */
  writeFileSync(pathOrFd: string | number, data: Uint8Array | string): void {
    if (typeof pathOrFd === 'number') this.check('write', this.pathOf(pathOrFd));
    else this.check('writeFile', pathOrFd);
    this.inner.writeFileSync(pathOrFd, data);
  }

  // ---- promise calls ----------------------------------------------------------------------

  private handle(h: FileHandle, path: string): FileHandle {
    const fault = { check: (op: FaultOp, p: string) => this.check(op, p), hasFlips: (p: string) => this.hasFlips(p),
      corrupt: this.corrupt.bind(this), forget: (fd: number) => this.paths.delete(fd) };
    this.paths.set(h.fd, path);
    return {
      fd: h.fd,
      async read(buffer, offset, length, position) {
        fault.check('read', path);
        const r = await h.read(buffer, offset, length, position);
        if (position !== null && fault.hasFlips(path)) {
          const size = (await h.stat()).size;
          fault.corrupt(path, buffer, offset, r.bytesRead, position, () => size);
        }
        return r;
      },
      async write(buffer, offset, length, position) { fault.check('write', path); return await h.write(buffer, offset, length, position); },
      async writev(buffers, position) { fault.check('write', path); return await h.writev(buffers, position); },
      async writeFile(data) { fault.check('write', path); await h.writeFile(data); },
      async stat() { fault.check('stat', path); return await h.stat(); },
      async truncate(len) { fault.check('ftruncate', path); await h.truncate(len); },
      async sync() { fault.check('fsync', path); await h.sync(); },
      async datasync() { fault.check('fdatasync', path); await h.datasync(); },
      async close() {
        fault.forget(h.fd);
        await h.close();
        fault.check('close', path);
      },
    };
  }

  private makePromises(): FileSystemPromises {
    const p = this.inner.promises;
    const fault = { check: (op: FaultOp, ...ps: string[]) => this.check(op, ...ps), hasFlips: (x: string) => this.hasFlips(x),
      corrupt: this.corrupt.bind(this), handle: this.handle.bind(this) };
    async function readFile(path: string): Promise<Buffer>;
    async function readFile(path: string, encoding: 'utf8'): Promise<string>;
    async function readFile(path: string, encoding?: 'utf8'): Promise<Buffer | string> {
      fault.check('readFile', path);
      const b = await p.readFile(path);
      if (fault.hasFlips(path)) fault.corrupt(path, b, 0, b.length, 0, () => b.length);
      return encoding === 'utf8' ? b.toString('utf8') : b;
    }
    async function readdir(path: string): Promise<string[]>;
    async function readdir(path: string, options: { withFileTypes: true }): Promise<DirEntry[]>;
    async function readdir(path: string, options?: { withFileTypes: true }): Promise<string[] | DirEntry[]> {
      fault.check('readdir', path);
      return options === undefined ? await p.readdir(path) : await p.readdir(path, options);
    }
    return {
      async open(path, flags, mode) { fault.check('open', path); return fault.handle(await p.open(path, flags, mode), path); },
      readFile,
      async writeFile(path, data) { fault.check('writeFile', path); await p.writeFile(path, data); },
      async stat(path) { fault.check('stat', path); return await p.stat(path); },
      readdir,
      async mkdir(path, options) { fault.check('mkdir', path); return await p.mkdir(path, options); },
      async rename(from, to) { fault.check('rename', from, to); await p.rename(from, to); },
      async rm(path, options) { fault.check('rm', path); await p.rm(path, options); },
      async unlink(path) { fault.check('unlink', path); await p.unlink(path); },
      async link(existing, newPath) { fault.check('link', existing, newPath); await p.link(existing, newPath); },
      async copyFile(from, to, mode) { fault.check('copyFile', from, to); await p.copyFile(from, to, mode); },
    };
  }
}
