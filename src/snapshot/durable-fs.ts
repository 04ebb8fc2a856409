/**
 * The few filesystem steps the snapshot layer needs to be durable, each followed by the fsync
 * that makes it so. POSIX makes a new name, a rename or an unlink durable only once the
 * directory holding it is synced; a file's contents only once the file is. Every failure is a
 * {@link StorageError} carrying the system error as `cause`.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { SampanError, StorageError } from '../errors.js';

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
export async function fsyncPath(p: string): Promise<void> {
  let h: fsp.FileHandle | undefined;
  try {
    h = await fsp.open(p, 'r');
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
export async function mkdirDurable(dir: string): Promise<void> {
  const abs = path.resolve(dir);
  let first: string | undefined;
  try {
    first = await fsp.mkdir(abs, { recursive: true });
  } catch (err) {
    throw storageError(`mkdir ${abs}`, err);
  }
  if (first === undefined) return;
  // Sync from the first created directory's parent down to the new leaf's parent.
  for (let d = abs; ; d = path.dirname(d)) {
    await fsyncPath(path.dirname(d));
    if (d === first || path.dirname(d) === d) break;
  }
}

/**
 * Renames `from` to `to` (atomic on one filesystem) and fsyncs the parent directories.
 * @throws StorageError (with the errno in `cause`; ENOTEMPTY/EEXIST when `to` exists)
 */
export async function renameDurable(from: string, to: string): Promise<void> {
  try {
    await fsp.rename(from, to);
  } catch (err) {
    throw storageError(`rename ${from} -> ${to}`, err);
  }
  await fsyncPath(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) await fsyncPath(path.dirname(from));
}

/**
 * Removes a directory tree (absent is fine) and fsyncs its parent so the removal is durable.
 * @throws StorageError
 */
export async function removeDirDurable(dir: string): Promise<void> {
  try {
    await fsp.rm(dir, { recursive: true, force: true });
  } catch (err) {
    throw storageError(`remove ${dir}`, err);
  }
  await fsyncPath(path.dirname(dir));
}

/**
 * Fsyncs every regular file directly inside `dir`, then `dir` itself.
 * @throws StorageError
 */
export async function fsyncDirTree(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    throw storageError(`list ${dir}`, err);
  }
  for (const n of names) await fsyncPath(path.join(dir, n));
  await fsyncPath(dir);
}
