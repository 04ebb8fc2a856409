/**
 * The few filesystem steps the snapshot layer needs to be durable, each followed by the fsync
 * that makes it so. POSIX makes a new name, a rename or an unlink durable only once the
 * directory holding it is synced; a file's contents only once the file is. Every failure is a
 * {@link StorageError} carrying the system error as `cause`. Each takes the file system to
 * use (the runtime's) as its first argument.
 */
import * as path from 'node:path';
import { SampanError, StorageError } from '../errors.js';
import type { FileHandle, FileSystem } from '../runtime/index.js';

/** Wraps a system error from step `what` in a StorageError (SampanErrors pass through). */
export function storageError(what: string, err: unknown): Error {
  if (err instanceof SampanError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new StorageError(`${what}: ${msg}`, { cause: err });
}

/** True when `err` is a system error with the given code (ENOENT, EEXIST, ...). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/**
 * Fsyncs a file or a directory by path.
 * @throws StorageError when it cannot be opened or synced.
 */
export async function fsyncPath(fs: FileSystem, p: string): Promise<void> {
  let h: FileHandle | undefined;
  try {
    h = await fs.promises.open(p, 'r');
    await h.sync();
  } catch (err) {
    throw storageError(`fsync ${p}`, err);
  } finally {
    await h?.close().catch(() => undefined);
  }
}

/**
 * Creates `dir` and any missing parents, then fsyncs each directory whose entry was added,
 * so the new path survives a crash.
 * @throws StorageError
 */
export async function mkdirDurable(fs: FileSystem, dir: string): Promise<void> {
  const abs = path.resolve(dir);
  let first: string | undefined;
  try {
    first = await fs.promises.mkdir(abs, { recursive: true });
  } catch (err) {
    throw storageError(`mkdir ${abs}`, err);
  }
  if (first === undefined) return;
  // Sync from the first created directory's parent down to the new leaf's parent.
  for (let d = abs; ; d = path.dirname(d)) {
    await fsyncPath(fs, path.dirname(d));
    if (d === first || path.dirname(d) === d) break;
  }
}

/**
 * Renames `from` to `to` (atomic on one filesystem) and fsyncs the parent directories.
 * @throws StorageError (with the errno in `cause`; ENOTEMPTY/EEXIST when `to` exists)
 */
export async function renameDurable(fs: FileSystem, from: string, to: string): Promise<void> {
  try {
    await fs.promises.rename(from, to);
  } catch (err) {
    throw storageError(`rename ${from} -> ${to}`, err);
  }
  await fsyncPath(fs, path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) await fsyncPath(fs, path.dirname(from));
}

/**
 * Removes a directory tree (absent is fine) and fsyncs its parent so the removal is durable.
 * @throws StorageError
 */
export async function removeDirDurable(fs: FileSystem, dir: string): Promise<void> {
  try {
    await fs.promises.rm(dir, { recursive: true, force: true });
  } catch (err) {
    throw storageError(`remove ${dir}`, err);
  }
  await fsyncPath(fs, path.dirname(dir));
}

/**
 * Fsyncs every regular file directly inside `dir`, then `dir` itself.
 * @throws StorageError
 */
export async function fsyncDirTree(fs: FileSystem, dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (err) {
    throw storageError(`list ${dir}`, err);
  }
  for (const n of names) await fsyncPath(fs, path.join(dir, n));
  await fsyncPath(fs, dir);
}
