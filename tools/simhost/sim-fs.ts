/**
 * An in-memory file system for the host simulator that loses data the way a crashed machine
 * does. Every file has volatile (page-cache) content and durable content: a write changes the
 * volatile one, fsync/fdatasync makes it durable. Directory entries (create, rename, unlink,
 * mkdir, link) are volatile until the directory holding them is fsynced. `crash(prefix)`
 * reverts everything under a host's directory to its durable state, keeping (with probability
 * 1/2) a random torn prefix of the first unsynced write of each file.
 *
 * So that crashes land while writes are unsynced (and tear), {@link crashDuringNextSync} makes
 * the power fail inside a host's next fsync/fdatasync: the call never returns to the host.
 * The dead host's code still runs to the end of its current turn (JavaScript cannot stop it),
 * so the call throws, and every later change to the disk it attempts fails with EIO: nothing
 * it does after the power failed reaches the disk.
 *
 * Faults a disk really has: EIO from the next fsync under a prefix (the unsynced data is
 * dropped, as Linux drops the dirty pages), ENOSPC past a byte quota, a flipped byte at rest.
 * Asynchronous calls complete through the {@link Scheduler} after a small random virtual delay
 * (in issue order per host), synchronous ones at once; a crashed host's completions never run.
 */
import * as path from 'node:path';
import type { DirEntry, FileHandle, FileStats, FileSystem, FileSystemPromises, FsCallbackError } from '../../src/runtime/file-system.js';
import type { Scheduler } from './scheduler.js';
import type { SimRandom } from './sim-random.js';

/** Descriptors of the simulated disk start here (lower ones belong to the real process). */
export const SIM_FD_BASE = 1_000_000;

/** A growable byte array. */
class Blob {
  buf = Buffer.alloc(0);
  len = 0;
  clone(): Blob {
    const b = new Blob();
    b.buf = Buffer.from(this.buf.subarray(0, this.len));
    b.len = this.len;
    return b;
  }
  private reserve(n: number): void {
    if (n <= this.buf.length) return;
    const nb = Buffer.alloc(Math.max(n, this.buf.length * 2, 64));
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }
  write(pos: number, src: Uint8Array): void {
    this.reserve(pos + src.length);
    if (pos > this.len) this.buf.fill(0, this.len, pos);
    this.buf.set(src, pos);
    this.len = Math.max(this.len, pos + src.length);
  }
  truncate(n: number): void {
    if (n > this.len) {
      this.reserve(n);
      this.buf.fill(0, this.len, n);
    }
    this.len = n;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

type Op = { readonly kind: 'write'; readonly pos: number; readonly data: Buffer } | { readonly kind: 'truncate'; readonly len: number };

/** A file or a directory; a directory's entries are volatile until it is fsynced. */
export interface Inode {
  readonly id: number;
  readonly dir: boolean;
  entries: Map<string, Inode>;
  durableEntries: Map<string, Inode>;
  data: Blob;
  durable: Blob;
  /** Unsynced changes in order (for fsync and tearing). */
  pending: Op[];
}

interface OpenFile {
  readonly ino: Inode;
  readonly path: string;
  readonly append: boolean;
  pos: number;
}

/** An errno error as Node makes them. */
export function errno(code: string, syscall: string, p?: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: simulated, ${syscall}${p === undefined ? '' : ` '${p}'`}`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = syscall;
  if (p !== undefined) e.path = p;
  return e;
}

const under = (p: string, prefix: string): boolean => p === prefix || p.startsWith(prefix + '/');

/** The simulated disk shared by every simulated host (each under its own directory). */
export class SimFs implements FileSystem {
  readonly promises: FileSystemPromises;
  /** Counters of faults actually injected. */
  readonly faults = { eio: 0, enospc: 0, flips: 0, torn: 0, lostEntries: 0 };
  /** Calls made (for statistics). */
  readonly calls = { writes: 0, syncs: 0 };
  private readonly root: Inode;
  private readonly fds = new Map<number, OpenFile>();
  private nextIno = 1;
  private nextFd = SIM_FD_BASE;
  private readonly eioNext = new Map<string, (path: string) => void>();
  private readonly quotas = new Map<string, number>();
  private readonly syncCrashes = new Map<string, () => boolean>();
  /** Crashes made by {@link crashDuringNextSync} so far (the ghost check is skipped before the first). */
  private syncCrashed = 0;
  private readonly lastDone = new Map<string, number>();

  constructor(private readonly sched: Scheduler, private readonly random: SimRandom, readonly maxDelayMs = 2) {
    this.root = this.newInode(true);
    this.promises = this.makePromises();
  }

  // ---- faults ---------------------------------------------------------------------------

  /** Creates `dir` (and parents) durably: the simulator's setup, not a host's write. */
  mkdirDurable(dir: string): void {
    this.mkdirSync(dir, { recursive: true });
    let d = this.root;
    for (const part of path.resolve(dir).split('/').filter((x) => x !== '')) {
      d.durableEntries.set(part, d.entries.get(part)!);
      d = d.entries.get(part)!;
    }
  }

  /**
   * The next fsync of a file under `prefix` fails with EIO and drops that file's unsynced
   * data; `hit` hears which file it was.
   */
  failNextFsync(prefix: string, hit: (path: string) => void = () => undefined): void {
    this.eioNext.set(prefix, hit);
  }

  /**
   * The power fails during the next fsync or fdatasync of a file or directory under `prefix`:
   * `crash` runs inside the call, before anything it would sync is durable; when it crashed the
   * host (killed its tag, then {@link crash}ed its directory: it returns true) the call throws
   * EIO to the dead host's code, else the sync goes on. A crash of `prefix` drops the hook.
   */
  crashDuringNextSync(prefix: string, crash: () => boolean): void {
    this.syncCrashes.set(path.resolve(prefix), crash);
  }

  /** Writes that grow files under `prefix` past `bytes` in total fail with ENOSPC (undefined: no quota). */
  setQuota(prefix: string, bytes: number | undefined): void {
    if (bytes === undefined) this.quotas.delete(prefix);
    else this.quotas.set(prefix, bytes);
  }

  /** The files under `prefix` (volatile names), sorted by path. */
  filesUnder(prefix: string): Array<[string, Inode]> {
    const out: Array<[string, Inode]> = [];
    const walk = (p: string, ino: Inode): void => {
      if (!ino.dir) { out.push([p, ino]); return; }
      for (const [n, c] of [...ino.entries].sort(([a], [b]) => (a < b ? -1 : 1))) walk(p === '/' ? `/${n}` : `${p}/${n}`, c);
    };
    const top = this.resolve(path.resolve(prefix));
    if (top !== undefined) walk(path.resolve(prefix), top);
    return out;
  }

  /** Bytes of the files under `prefix` (volatile sizes). */
  usedBytes(prefix: string): number {
    let n = 0;
    const seen = new Set<number>();
    for (const [, ino] of this.filesUnder(prefix)) if (!seen.has(ino.id)) { seen.add(ino.id); n += ino.data.len; }
    return n;
  }

  /**
   * Flips one byte of a durable file under `prefix` whose path matches `match`, at rest
   * (both contents). @returns the file and offset, or undefined when there is no such file.
   */
  flipByte(prefix: string, match: (p: string) => boolean): { path: string; offset: number } | undefined {
    const files = this.filesUnder(prefix).filter(([p, i]) => i.durable.len > 0 && match(p));
    if (files.length === 0) return undefined;
    const [p, ino] = files[this.random.int(0, files.length)]!;
    const offset = this.random.int(0, ino.durable.len);
    ino.durable.buf[offset]! ^= 0x5a;
    if (offset < ino.data.len) ino.data.buf[offset]! ^= 0x5a;
    this.faults.flips++;
    return { path: p, offset };
  }

  /**
   * A power loss under `prefix` (a directory made with {@link mkdirDurable}): every entry and
   * every byte not made durable is lost; of each file's first unsynced write a random prefix
   * may survive (a torn write). Descriptors under `prefix` are closed.
   */
  crash(prefix: string): void {
    const abs = path.resolve(prefix);
    // A fault armed for the lost incarnation is not carried over to the next (the operator
    // replaced the failing disk or freed space before restarting).
    for (const p of [...this.eioNext.keys()]) if (under(p, abs)) this.eioNext.delete(p);
    for (const p of [...this.quotas.keys()]) if (under(p, abs)) this.quotas.delete(p);
    for (const p of [...this.syncCrashes.keys()]) if (under(p, abs)) this.syncCrashes.delete(p);
    for (const [fd, f] of this.fds) if (under(f.path, abs)) this.fds.delete(fd);
    const top = this.resolve(abs);
    if (top === undefined) return;
    const seen = new Set<Inode>();
    const restore = (ino: Inode): void => {
      if (seen.has(ino)) return;
      seen.add(ino);
      if (ino.dir) {
        for (const [n, c] of ino.entries) if (ino.durableEntries.get(n) !== c) this.faults.lostEntries++;
        ino.entries = new Map(ino.durableEntries);
        for (const c of ino.entries.values()) restore(c);
        return;
      }
      const first = ino.pending[0];
      ino.data = ino.durable.clone();
      if (first?.kind === 'write' && first.data.length > 1 && this.random.int(0, 2) === 0) {
        ino.data.write(first.pos, first.data.subarray(0, this.random.int(1, first.data.length)));
        ino.durable = ino.data.clone();
        this.faults.torn++;
      }
      ino.pending = [];
    };
    restore(top);
  }

  // ---- sync calls -----------------------------------------------------------------------

  openSync(p: string, flags: string = 'r'): number {
    const abs = path.resolve(p);
    let ino = this.resolve(abs);
    const create = /[wa]/.test(flags);
    if (ino === undefined) {
      if (!create) throw errno('ENOENT', 'open', abs);
      const parent = this.resolve(path.dirname(abs));
      if (parent === undefined || !parent.dir) throw errno('ENOENT', 'open', abs);
      this.ghost('open', abs);
      ino = this.newInode(false);
      parent.entries.set(path.basename(abs), ino);
    } else if (flags.includes('x')) {
      throw errno('EEXIST', 'open', abs);
    } else if (ino.dir && flags !== 'r') {
      throw errno('EISDIR', 'open', abs);
    } else if (flags.startsWith('w')) {
      this.truncateIno(ino, 0);
    }
    const fd = this.nextFd++;
    this.fds.set(fd, { ino, path: abs, append: flags.startsWith('a'), pos: 0 });
    return fd;
  }

  closeSync(fd: number): void {
    if (!this.fds.delete(fd)) throw errno('EBADF', 'close');
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    const f = this.file(fd, 'read');
    const at = position ?? f.pos;
    const src = f.ino.data.bytes();
    const n = Math.max(0, Math.min(length, src.length - at));
    if (n > 0) buffer.set(src.subarray(at, at + n), offset);
    if (position === null) f.pos += n;
    return n;
  }

  writeSync(fd: number, buffer: Uint8Array, offset = 0, length = buffer.length - offset, position: number | null = null): number {
    const f = this.file(fd, 'write');
    const at = f.append ? f.ino.data.len : (position ?? f.pos);
    this.writeIno(f.ino, f.path, at, Buffer.from(buffer.subarray(offset, offset + length)));
    if (position === null) f.pos = at + length;
    return length;
  }

  fsyncSync(fd: number): void {
    this.syncIno(this.file(fd, 'fsync'));
  }

  fdatasyncSync(fd: number): void {
    this.syncIno(this.file(fd, 'fdatasync'));
  }

  ftruncateSync(fd: number, len = 0): void {
    const f = this.file(fd, 'ftruncate');
    this.truncateIno(f.ino, len);
  }

  statSync(p: string): FileStats {
    const ino = this.lookup(p, 'stat');
    return stats(ino);
  }

  readdirSync(p: string): string[] {
    return this.list(p).map((e) => e.name);
  }

  mkdirSync(p: string, options?: { recursive?: boolean }): string | undefined {
    const abs = path.resolve(p);
    const existing = this.resolve(abs);
    if (existing !== undefined) {
      if (options?.recursive === true && existing.dir) return undefined;
      throw errno('EEXIST', 'mkdir', abs);
    }
    const parent = path.dirname(abs);
    let first: string | undefined;
    if (this.resolve(parent) === undefined) {
      if (options?.recursive !== true) throw errno('ENOENT', 'mkdir', abs);
      first = this.mkdirSync(parent, options);
    }
    const pi = this.resolve(parent)!;
    if (!pi.dir) throw errno('ENOTDIR', 'mkdir', abs);
    this.ghost('mkdir', abs);
    pi.entries.set(path.basename(abs), this.newInode(true));
    return options?.recursive === true ? (first ?? abs) : undefined;
  }

  existsSync(p: string): boolean {
    return this.resolve(path.resolve(p)) !== undefined;
  }

  unlinkSync(p: string): void {
    const abs = path.resolve(p);
    const ino = this.lookup(abs, 'unlink');
    if (ino.dir) throw errno('EISDIR', 'unlink', abs);
    this.detach(abs);
  }

  /** `rmdir`: removes an empty directory. */
  rmdirSync(p: string): void {
    const abs = path.resolve(p);
    const ino = this.lookup(abs, 'rmdir');
    if (!ino.dir) throw errno('ENOTDIR', 'rmdir', abs);
    if (ino.entries.size > 0) throw errno('ENOTEMPTY', 'rmdir', abs);
    this.detach(abs);
  }

  /** `rm`: removes a file or (recursive) a tree; `force` ignores a missing path. */
  rmSync(p: string, options?: { recursive?: boolean; force?: boolean }): void {
    const abs = path.resolve(p);
    const ino = this.resolve(abs);
    if (ino === undefined) {
      if (options?.force === true) return;
      throw errno('ENOENT', 'rm', abs);
    }
    if (ino.dir && options?.recursive !== true) throw errno('EISDIR', 'rm', abs);
    this.detach(abs);
  }

  renameSync(from: string, to: string): void {
    const a = path.resolve(from);
    const b = path.resolve(to);
    const ino = this.lookup(a, 'rename');
    const pb = this.resolve(path.dirname(b));
    if (pb === undefined || !pb.dir) throw errno('ENOENT', 'rename', b);
    const target = pb.entries.get(path.basename(b));
    if (target?.dir === true && target.entries.size > 0) throw errno('ENOTEMPTY', 'rename', b);
    this.detach(a);
    pb.entries.set(path.basename(b), ino);
  }

  /** `link`: a second name for a file. */
  linkSync(existing: string, newPath: string): void {
    const ino = this.lookup(existing, 'link');
    const b = path.resolve(newPath);
    const pb = this.resolve(path.dirname(b));
    if (pb === undefined) throw errno('ENOENT', 'link', b);
    if (pb.entries.has(path.basename(b))) throw errno('EEXIST', 'link', b);
    this.ghost('link', b);
    pb.entries.set(path.basename(b), ino);
  }

  /** `copyFile`; `mode` 1 is COPYFILE_EXCL. */
  copyFileSync(from: string, to: string, mode = 0): void {
    const src = this.lookup(from, 'copyfile');
    const b = path.resolve(to);
    if ((mode & 1) !== 0 && this.resolve(b) !== undefined) throw errno('EEXIST', 'copyfile', b);
    const fd = this.openSync(b, 'w');
    try { this.writeSync(fd, src.data.bytes(), 0, src.data.len, 0); } finally { this.closeSync(fd); }
  }

  readFileSync(p: string): Buffer;
  readFileSync(p: string, encoding: 'utf8'): string;
  readFileSync(p: string, encoding?: 'utf8'): Buffer | string {
    const ino = this.lookup(p, 'open');
    if (ino.dir) throw errno('EISDIR', 'read', p);
    const b = Buffer.from(ino.data.bytes());
    return encoding === undefined ? b : b.toString('utf8');
  }

  writeFileSync(pathOrFd: string | number, data: Uint8Array | string): void {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (typeof pathOrFd === 'number') {
      this.writeSync(pathOrFd, buf, 0, buf.length, null);
      return;
    }
    const fd = this.openSync(pathOrFd, 'w');
    try { this.writeSync(fd, buf, 0, buf.length, 0); } finally { this.closeSync(fd); }
  }

  // ---- asynchronous completion ----------------------------------------------------------

  /** Completes `fn` through the scheduler after a small random delay, in issue order per host. */
  later<T>(what: string, fn: () => T): Promise<T> {
    const tag = this.sched.currentTag;
    const at = Math.max(this.lastDone.get(tag) ?? 0, this.sched.now + this.random.int(0, this.maxDelayMs + 1));
    this.lastDone.set(tag, at);
    return new Promise<T>((resolve, reject) => {
      this.sched.schedule(at - this.sched.now, () => {
        try { resolve(fn()); } catch (err) { reject(err); }
      }, `fs:${what}`, tag);
    });
  }

  private makePromises(): FileSystemPromises {
    const later = this.later.bind(this);
    const api = {
      open: (p: string, flags = 'r') => later('open', () => this.handle(this.openSync(p, flags))),
      readFile: ((p: string, enc?: 'utf8') => later('readFile', () => (enc === undefined ? this.readFileSync(p) : this.readFileSync(p, enc)))) as FileSystemPromises['readFile'],
      writeFile: (p: string, d: Uint8Array | string) => later('writeFile', () => this.writeFileSync(p, d)),
      stat: (p: string) => later('stat', () => this.statSync(p)),
      readdir: ((p: string, o?: { withFileTypes: true }) => later('readdir', () => (o?.withFileTypes === true ? this.list(p) : this.readdirSync(p)))) as FileSystemPromises['readdir'],
      mkdir: (p: string, o?: { recursive?: boolean }) => later('mkdir', () => this.mkdirSync(p, o)),
      rename: (a: string, b: string) => later('rename', () => this.renameSync(a, b)),
      rm: (p: string, o?: { recursive?: boolean; force?: boolean }) => later('rm', () => this.rmSync(p, o)),
      rmdir: (p: string) => later('rmdir', () => this.rmdirSync(p)),
      unlink: (p: string) => later('unlink', () => this.unlinkSync(p)),
      link: (a: string, b: string) => later('link', () => this.linkSync(a, b)),
      copyFile: (a: string, b: string, mode?: number) => later('copyFile', () => this.copyFileSync(a, b, mode)),
      access: (p: string) => later('access', () => { this.lookup(p, 'access'); }),
      truncate: (p: string, len = 0) => later('truncate', () => this.truncateIno(this.lookup(p, 'truncate'), len)),
    };
    return api as unknown as FileSystemPromises;
  }

  // ---- callback-style descriptor calls (the runtime's FileSystem; completed through the scheduler) ----

  /** Settles `cb` with `run`'s value (or its error) after the simulated thread-pool delay. */
  private callback<T>(what: string, run: () => T, cb: (err: FsCallbackError, value: T) => void): void {
    this.later(what, run).then((v) => cb(null, v), (e: unknown) => cb(e as NodeJS.ErrnoException, undefined as T));
  }

  /** See {@link FileSystem.open}. */
  open(path: string, flags: string, cb: (err: FsCallbackError, fd: number) => void): void {
    this.callback('open', () => this.openSync(path, flags), cb);
  }

  /** See {@link FileSystem.close}. */
  close(fd: number, cb: (err: FsCallbackError) => void): void {
    this.callback('close', () => this.closeSync(fd), cb);
  }

  /** See {@link FileSystem.write}. */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null, cb: (err: FsCallbackError, written: number) => void): void {
    this.callback('write', () => this.writeSync(fd, buffer, offset, length, position), cb);
  }

  /** See {@link FileSystem.fsync}. */
  fsync(fd: number, cb: (err: FsCallbackError) => void): void {
    this.callback('fsync', () => this.fsyncSync(fd), cb);
  }

  /** See {@link FileSystem.fdatasync}. */
  fdatasync(fd: number, cb: (err: FsCallbackError) => void): void {
    this.callback('fdatasync', () => this.fdatasyncSync(fd), cb);
  }

  /** A promise-style handle on descriptor `fd`. */
  handle(fd: number): FileHandle {
    const later = this.later.bind(this);
    return {
      fd,
      read: (buffer, offset, length, position) => later('read', () => ({ bytesRead: this.readSync(fd, buffer, offset, length, position), buffer })),
      write: (buffer, offset = 0, length = buffer.length - offset, position = null) => later('write', () => ({ bytesWritten: this.writeSync(fd, buffer, offset, length, position), buffer })),
      writev: (buffers, position) => later('writev', () => {
        let n = 0;
        for (const b of buffers) n += this.writeSync(fd, b, 0, b.length, position === undefined ? null : position + n);
        return { bytesWritten: n, buffers };
      }),
      writeFile: (data) => later('write', () => { this.writeFileSync(fd, data); }),
      stat: () => later('fstat', () => stats(this.file(fd, 'fstat').ino)),
      truncate: (len = 0) => later('ftruncate', () => this.ftruncateSync(fd, len)),
      sync: () => later('fsync', () => this.fsyncSync(fd)),
      datasync: () => later('fdatasync', () => this.fdatasyncSync(fd)),
      close: () => later('close', () => this.closeSync(fd)),
    } as FileHandle;
  }

  // ---- internals ------------------------------------------------------------------------

  private newInode(dir: boolean): Inode {
    return { id: this.nextIno++, dir, entries: new Map(), durableEntries: new Map(), data: new Blob(), durable: new Blob(), pending: [] };
  }

  /** The inode at absolute path `abs` (volatile names). */
  private resolve(abs: string): Inode | undefined {
    let d: Inode | undefined = this.root;
    for (const part of abs.split('/')) {
      if (part === '') continue;
      if (d === undefined || !d.dir) return undefined;
      d = d.entries.get(part);
    }
    return d;
  }

  /** Removes the entry `abs` from its parent directory. */
  private detach(abs: string): void {
    this.ghost('unlink', abs);
    this.resolve(path.dirname(abs))?.entries.delete(path.basename(abs));
  }

  private file(fd: number, syscall: string): OpenFile {
    const f = this.fds.get(fd);
    if (f === undefined) throw errno('EBADF', syscall);
    return f;
  }

  private lookup(p: string, syscall: string): Inode {
    const abs = path.resolve(p);
    const ino = this.resolve(abs);
    if (ino === undefined) throw errno('ENOENT', syscall, abs);
    return ino;
  }

  private list(p: string): DirEntry[] {
    const abs = path.resolve(p);
    const ino = this.lookup(abs, 'scandir');
    if (!ino.dir) throw errno('ENOTDIR', 'scandir', abs);
    return [...ino.entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, c]) => {
      const d = c.dir;
      return { name, parentPath: abs, path: abs, isDirectory: () => d, isFile: () => !d, isSymbolicLink: () => false };
    });
  }

  private quotaFor(p: string): [string, number] | undefined {
    for (const [prefix, q] of this.quotas) if (under(p, prefix)) return [prefix, q];
    return undefined;
  }

  /**
   * A crashed host's code finishing its turn after the power failed mid-sync: its changes
   * never reach the disk. @throws EIO then.
   */
  private ghost(syscall: string, p?: string): void {
    if (this.syncCrashed > 0 && this.sched.isDead(this.sched.currentTag)) throw errno('EIO', syscall, p);
  }

  private writeIno(ino: Inode, p: string, pos: number, data: Buffer): void {
    this.ghost('write', p);
    const grow = Math.max(0, pos + data.length - ino.data.len);
    const q = grow > 0 ? this.quotaFor(p) : undefined;
    if (q !== undefined && this.usedBytes(q[0]) + grow > q[1]) {
      this.faults.enospc++;
      throw errno('ENOSPC', 'write', p);
    }
    this.calls.writes++;
    ino.data.write(pos, data);
    ino.pending.push({ kind: 'write', pos, data });
  }

  private truncateIno(ino: Inode, len: number): void {
    this.ghost('ftruncate');
    ino.data.truncate(len);
    ino.pending.push({ kind: 'truncate', len });
  }

  private syncIno(f: OpenFile): void {
    this.ghost('fsync', f.path);
    this.calls.syncs++;
    for (const [prefix, crash] of this.syncCrashes) {
      if (!under(f.path, prefix)) continue;
      this.syncCrashes.delete(prefix);
      if (!crash()) break;
      this.syncCrashed++;
      throw errno('EIO', 'fsync', f.path);
    }
    for (const [prefix, hit] of this.eioNext) {
      if (!under(f.path, prefix)) continue;
      this.eioNext.delete(prefix);
      this.faults.eio++;
      hit(f.path);
      // Linux marks the failed pages clean: the data is gone, a retried fsync "succeeds".
      f.ino.data = f.ino.durable.clone();
      f.ino.pending = [];
      throw errno('EIO', 'fsync', f.path);
    }
    const ino = f.ino;
    if (ino.dir) {
      ino.durableEntries = new Map(ino.entries);
      return;
    }
    for (const op of ino.pending) {
      if (op.kind === 'write') ino.durable.write(op.pos, op.data);
      else ino.durable.truncate(op.len);
    }
    ino.pending = [];
  }
}

function stats(ino: Inode): FileStats & { mtimeMs: number } {
  const d = ino.dir;
  return { size: d ? 4096 : ino.data.len, isDirectory: () => d, isFile: () => !d, mtimeMs: 0 };
}
