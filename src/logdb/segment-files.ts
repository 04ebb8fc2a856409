/**
 * The WAL's segment files on disk: naming, listing, creating (with a directory fsync so the
 * new name survives a crash), positioned reads for the index, and deletion (again with a
 * directory fsync). Segment ids only grow, so name order is log order.
 */
import * as path from 'node:path';
import { CorruptionError } from '../errors.js';
import { closeFd, fsyncFd, openFd, realFileSystem, type FileSystem } from '../runtime/index.js';

const SUFFIX = '.wal';

/** Segment file name for an id: 16 hex digits, so lexical order is numeric order. */
export function segmentName(id: number): string {
  return id.toString(16).padStart(16, '0') + SUFFIX;
}

/** Ids of the segment files in `dir` (read through `fs`), ascending. Other files are ignored. */
export function listSegments(dir: string, fs: FileSystem = realFileSystem): number[] {
  const ids: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith(SUFFIX) || name.length !== 16 + SUFFIX.length) continue;
    const id = Number.parseInt(name.slice(0, 16), 16);
    if (Number.isSafeInteger(id)) ids.push(id);
  }
  return ids.sort((a, b) => a - b);
}

/** Fsyncs a directory (through `fs`) so entries created, renamed or deleted in it are durable. */
export async function syncDir(fs: FileSystem, dir: string): Promise<void> {
  const fd = await openFd(fs, dir, 'r');
  try { await fsyncFd(fs, fd); } finally { await closeFd(fs, fd); }
}

/** Synchronous {@link syncDir}, for recovery. */
export function syncDirSync(fs: FileSystem, dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

interface Segment { readonly id: number; readonly file: string; fd: number; size: number }

/** The open segments of one WAL directory. */
export class SegmentFiles {
  private readonly segs = new Map<number, Segment>();

  /**
   * @param dir the WAL directory
   * @param durable fsync files and the directory (the WAL's `fsync` option)
   * @param fs the file system every call goes through
   */
  constructor(readonly dir: string, readonly durable: boolean, readonly fs: FileSystem) {}

  /** Path of a segment. */
  file(id: number): string { return path.join(this.dir, segmentName(id)); }

  /** Opens an existing segment for reading (and writing, for truncation at recovery). */
  openExisting(id: number, size: number): void {
    const file = this.file(id);
    this.segs.set(id, { id, file, fd: this.fs.openSync(file, 'r+'), size });
  }

  /** Creates a new, empty segment; durable (file and name) before it resolves. */
  async create(id: number): Promise<void> {
    const file = this.file(id);
    const fd = await openFd(this.fs, file, 'wx+');
    this.segs.set(id, { id, file, fd, size: 0 });
    if (this.durable) await syncDir(this.fs, this.dir);
  }

  /** Descriptor of a segment. @throws CorruptionError when the segment is not open. */
  fd(id: number): number {
    const s = this.segs.get(id);
    if (s === undefined) throw new CorruptionError(`segment ${segmentName(id)} is needed but not open`, { file: this.file(id) });
    return s.fd;
  }

  size(id: number): number { return this.segs.get(id)?.size ?? 0; }
  setSize(id: number, size: number): void { const s = this.segs.get(id); if (s !== undefined) s.size = size; }
  ids(): number[] { return [...this.segs.keys()].sort((a, b) => a - b); }
  totalBytes(): number { let n = 0; for (const s of this.segs.values()) n += s.size; return n; }

  /**
   * Reads `len` bytes at `off` of a segment, synchronously (the Raft core reads the log
   * synchronously).
   * @throws CorruptionError when the file is shorter than the index says.
   */
  read(id: number, off: number, len: number): Buffer {
    const buf = Buffer.allocUnsafe(len);
    const fd = this.fd(id);
    let got = 0;
    while (got < len) {
      const n = this.fs.readSync(fd, buf, got, len - got, off + got);
      if (n === 0) {
        throw new CorruptionError(`segment ${segmentName(id)} ends at ${off + got}, expected ${len - got} more bytes`,
          { file: this.file(id), offset: off + got });
      }
      got += n;
    }
    return buf;
  }

  /** Truncates a segment (torn tail) and makes the new length durable. */
  truncate(id: number, size: number): void {
    const s = this.segs.get(id);
    if (s === undefined) return;
    this.fs.ftruncateSync(s.fd, size);
    if (this.durable) this.fs.fsyncSync(s.fd);
    s.size = size;
  }

  /** Closes and deletes a segment; the deletion is durable before it resolves. */
  async delete(id: number): Promise<void> {
    const s = this.segs.get(id);
    if (s === undefined) return;
    this.segs.delete(id);
    await closeFd(this.fs, s.fd);
    await this.fs.promises.unlink(s.file);
    if (this.durable) await syncDir(this.fs, this.dir);
  }

  /** Closes every descriptor. */
  closeAll(): void {
    for (const s of this.segs.values()) this.fs.closeSync(s.fd);
    this.segs.clear();
  }
}
