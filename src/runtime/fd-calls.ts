/**
 * Promises over the callback-style descriptor calls of a {@link FileSystem} (what
 * `util.promisify` gives for `node:fs`, for any implementation of the interface). Each call
 * costs one promise and one callback, as promisify's do.
 */
import type { FileSystem } from './file-system.js';

/** Opens `path` with `flags` on the thread pool; resolves with the descriptor. */
export function openFd(fs: FileSystem, path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, flags, (err, fd) => { if (err) reject(err); else resolve(fd); }));
}

/** Closes `fd` on the thread pool. */
export function closeFd(fs: FileSystem, fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => { if (err) reject(err); else resolve(); }));
}

/** Writes `length` bytes of `buf` from `offset` at `position`; resolves with the count written. */
export function writeFd(fs: FileSystem, fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, offset, length, position, (err, n) => { if (err) reject(err); else resolve(n); }));
}

/** fsync of `fd` on the thread pool. */
export function fsyncFd(fs: FileSystem, fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => { if (err) reject(err); else resolve(); }));
}

/** fdatasync of `fd` on the thread pool. */
export function fdatasyncFd(fs: FileSystem, fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => { if (err) reject(err); else resolve(); }));
}
