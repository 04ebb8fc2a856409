/** The typed error of a failed WAL write, sync or segment creation. */
import { StorageError } from '../errors.js';

/**
 * The StorageError for a failed WAL call: the call, the errno and the file (the system error's
 * path, else `file`, the segment written), e.g. `WAL fdatasync failed with EIO on …/0000…2.wal`.
 */
export function walError(err: unknown, file: string): StorageError {
  if (err instanceof StorageError) return err;
  const sys = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; syscall?: unknown; path?: unknown };
  if (typeof sys.code !== 'string') return new StorageError(`WAL write failed on ${file}: ${String(err)}`, { cause: err, path: file });
  const at = typeof sys.path === 'string' ? sys.path : file;
  const call = typeof sys.syscall === 'string' ? sys.syscall : 'write';
  return new StorageError(`WAL ${call} failed with ${sys.code} on ${at}`, { cause: err, path: at, errno: sys.code });
}
