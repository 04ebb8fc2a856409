/**
 * Fail-stop on storage failures, as dragonboat and etcd panic on a failed WAL write: a failed
 * write, fdatasync or segment creation of the shared WAL stops the whole host (every replica
 * writes through it; after a failed fsync the file's state is unknown, so nothing may be
 * acknowledged afterwards and the sync is never retried). A failed snapshot save of one
 * replica (ENOSPC, EIO in its snapshot directory) stops that replica only: its log still holds
 * everything the snapshot would have covered, the failed files are a temporary directory that
 * is never read, and the other replicas' storage is unaffected. Each stop logs ONE line (what
 * failed, the errno, the path, what to do) and emits a typed event.
 */
import type { LogDB } from '../contracts/log-db.js';
import { WalLogDB } from '../logdb/wal-log-db.js';
import { SampanError, StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { TypedEmitter } from './events.js';
import type { Replica } from './replica.js';

/** Why a host stopped by itself, as `getNodeHostInfo().failure` and `getStats().failure` show it. */
export interface HostFailure {
  /** The stable code of the error (`STORAGE` for a disk failure). */
  readonly code: string;
  /** The line logged when it stopped (what failed, errno, path, what to do). */
  readonly message: string;
  /** The file or directory of a storage failure, when known. */
  readonly path: string | null;
  /** The system error code of a storage failure (`EIO`, `ENOSPC`, …), when known. */
  readonly errno: string | null;
}

/** What {@link FailStop} acts on. */
export interface FailStopDeps {
  readonly logger: Logger;
  readonly events: TypedEmitter;
  readonly logdb: LogDB;
  /** Fails every pending request with `err` and closes the host. */
  stopHost(err: Error): void;
}

/** The one line logged when a host stops because of `err`. */
export function hostFailureLine(err: Error): string {
  if (err instanceof StorageError) return `storage failure: ${err.message}; host stopped: restart on a healthy disk`;
  return `host stopped: ${err.message}`;
}

/** Records and carries out fail-stops of a host and of its replicas (see the file comment). */
export class FailStop {
  private stopped: Error | null = null;
  /** Why the host stopped by itself, or null. */
  info: HostFailure | null = null;

  constructor(private readonly d: FailStopDeps) {}

  /** Throws the error that stopped the host, if one did (calls after a fail-stop fail with it). */
  throwIfFailed(): void {
    if (this.stopped !== null) throw this.stopped;
  }

  /**
   * The host cannot go on (the shared WAL failed, or an engine pass threw): logs one line, emits
   * `host:storage-failed` (storage errors) and `host:failed`, then stops the host. Once only.
   */
  host(err: Error): void {
    if (this.stopped !== null) return;
    this.stopped = err;
    const message = hostFailureLine(err);
    const storage = err instanceof StorageError ? err : null;
    this.info = {
      code: err instanceof SampanError ? err.code : 'INTERNAL', message, path: storage?.path ?? null, errno: storage?.errno ?? null,
    };
    this.d.logger.error(message, { code: this.info.code, path: this.info.path ?? undefined, errno: this.info.errno ?? undefined });
    if (storage !== null) this.d.events.emit('host:storage-failed', { error: storage, path: storage.path ?? null, errno: storage.errno ?? null });
    this.d.events.emit('host:failed', { error: err });
    this.d.stopHost(err);
  }

  /**
   * Replica `r`'s own storage failed (a snapshot save): when the shared WAL failed too, the host
   * stops; otherwise `r` alone stops (pending and later requests fail with `err`), with one
   * line and a `replica:storage-failed` event.
   */
  replica(r: Replica, err: StorageError): void {
    const wal = this.d.logdb instanceof WalLogDB ? this.d.logdb.storageFailure() : null;
    if (wal !== null) {
      this.host(wal);
      return;
    }
    if (this.stopped !== null || r.failure !== null || r.stopped) return;
    r.failStorage(err);
    const { shardId, replicaId } = r;
    this.d.logger.error(`storage failure: ${err.message}; replica ${replicaId} of shard ${shardId} stopped: free space or replace the disk, then restart it`,
      { shardId, replicaId, path: err.path, errno: err.errno });
    this.d.events.emit('replica:storage-failed', { shardId, replicaId, error: err, path: err.path ?? null, errno: err.errno ?? null });
  }
}
