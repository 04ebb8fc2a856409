/**
 * sampan's error classes. Callers branch on the class (`instanceof`) or on the stable `code`,
 * never on message text. Caller mistakes extend {@link CallerError}; conditions of the running
 * system extend {@link RuntimeConditionError}.
 */

/** Base class of every error sampan throws or rejects with. */
export class SampanError extends Error {
  /** A stable, machine-readable code such as `SHARD_NOT_FOUND`. */
  readonly code: string;
  /** Creates an error with the stable `code`, a human-readable `message` and an optional `cause`. */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The caller asked for something that can never succeed as asked. */
export class CallerError extends SampanError {}

/** The system could not do it now; the same call may succeed later. */
export class RuntimeConditionError extends SampanError {}

/** A configuration or option value is invalid. */
export class InvalidOptionError extends CallerError {
  /** Creates the error (code `INVALID_OPTION`) with a message saying what happened. */
  constructor(message: string, options?: { cause?: unknown }) { super('INVALID_OPTION', message, options); }
}

/** An operation is not valid in the current state (e.g. removing data of a running replica). */
export class InvalidOperationError extends CallerError {
  /** Creates the error (code `INVALID_OPERATION`) with a message saying what happened. */
  constructor(message: string, options?: { cause?: unknown }) { super('INVALID_OPERATION', message, options); }
}

/** A payload is larger than the configured limit. */
export class PayloadTooBigError extends CallerError {
  /** Creates the error (code `PAYLOAD_TOO_BIG`) with a message saying what happened. */
  constructor(message: string) { super('PAYLOAD_TOO_BIG', message); }
}

/** Persistent data is damaged: a checksum failed, a record is malformed, a file is missing. */
export class CorruptionError extends SampanError {
  /** The file in which the corruption was found, when known. */
  readonly file: string | undefined;
  /** The byte offset in `file` at which the corruption was found, when known. */
  readonly offset: number | undefined;
  /** Creates the error (code `CORRUPTION`); `where` names the file and offset, when known, and the cause. */
  constructor(message: string, where?: { file?: string; offset?: number; cause?: unknown }) {
    super('CORRUPTION', message, { cause: where?.cause });
    this.file = where?.file;
    this.offset = where?.offset;
  }
}

/** Bytes from the network or disk do not decode: the codec's only error. */
export class CodecError extends SampanError {
  /** Creates the error (code `CODEC`) with a message saying what happened. */
  constructor(message: string) { super('CODEC', message); }
}

/** The component was closed; the operation cannot run. */
export class ClosedError extends RuntimeConditionError {
  /** Creates the error (code `CLOSED`); the message defaults to "closed". */
  constructor(message = 'closed') { super('CLOSED', message); }
}

/** Log entries below the first one a LogDB still holds were asked for (they were removed). */
export class EntriesCompactedError extends RuntimeConditionError {
  /** Creates the error (code `ENTRIES_COMPACTED`) with a message saying what happened. */
  constructor(message: string) { super('ENTRIES_COMPACTED', message); }
}

/** A log query reached past the last committed entry (`queryRaftLog`): those entries may still change or not exist. */
export class LogUnavailableError extends RuntimeConditionError {
  /** Creates the error (code `LOG_UNAVAILABLE`). */
  constructor(message: string) { super('LOG_UNAVAILABLE', message); }
}

/**
 * A storage write or sync failed. The store stops accepting work: after a failed fsync the
 * state of the file is unknown, so retrying could acknowledge data that is not durable.
 */
export class StorageError extends SampanError {
  /** The file or directory the failed call was on, when known (from `where` or the system error). */
  readonly path: string | undefined;
  /** The system error code (`EIO`, `ENOSPC`, …), when known (from `where` or the system error). */
  readonly errno: string | undefined;
  /**
   * Creates the error (code `STORAGE`) with a message saying what happened; `path` and `errno`
   * default to those of the system error in `cause`.
   */
  constructor(message: string, where?: { cause?: unknown; path?: string; errno?: string }) {
    super('STORAGE', message, { cause: where?.cause });
    const sys = typeof where?.cause === 'object' && where.cause !== null ? where.cause as { code?: unknown; path?: unknown } : {};
    this.path = where?.path ?? (typeof sys.path === 'string' ? sys.path : undefined);
    this.errno = where?.errno ?? (typeof sys.code === 'string' ? sys.code : undefined);
  }
}

/** A snapshot that was asked for by index is not (or no longer) on disk. */
export class SnapshotNotFoundError extends RuntimeConditionError {
  /** Creates the error (code `SNAPSHOT_NOT_FOUND`) with a message saying what happened. */
  constructor(message: string) { super('SNAPSHOT_NOT_FOUND', message); }
}

/** No shard with that id runs on this host. */
export class ShardNotFoundError extends CallerError {
  /** Creates the error (code `SHARD_NOT_FOUND`) for shard `shardId`. */
  constructor(shardId: number) { super('SHARD_NOT_FOUND', `shard ${shardId} not found on this host`); }
}

/**
 * The replica named is not a member of the shard (in any role): removing it would change
 * nothing, so nothing is proposed or recorded (etcd answers such a removal `ErrIDNotFound`).
 */
export class ReplicaNotFoundError extends CallerError {
  /** Creates the error (code `REPLICA_NOT_FOUND`) for replica `replicaId` of shard `shardId`. */
  constructor(shardId: number, replicaId: number) { super('REPLICA_NOT_FOUND', `replica ${replicaId} is not a member of shard ${shardId}`); }
}

/**
 * An optional package that a feature needs is not installed (for example `better-sqlite3`
 * for the SQLite state machine). The message says what to install.
 */
export class MissingDependencyError extends CallerError {
  /** The npm package to install. */
  readonly packageName: string;
  /** Creates the error (code `MISSING_DEPENDENCY`): `feature` needs `packageName`; the message says how to install it. */
  constructor(packageName: string, feature: string, options?: { cause?: unknown }) {
    super('MISSING_DEPENDENCY', `${feature} needs the optional package ${packageName}, which is not installed: run \`npm install ${packageName}\``, options);
    this.packageName = packageName;
  }
}

/** A replica of that shard already runs on this host. */
export class ShardAlreadyExistsError extends CallerError {
  /** Creates the error (code `SHARD_ALREADY_EXISTS`) for shard `shardId`. */
  constructor(shardId: number) { super('SHARD_ALREADY_EXISTS', `shard ${shardId} already runs on this host`); }
}

/** The shard has no leader yet, or is still starting; retry shortly. */
export class ShardNotReadyError extends RuntimeConditionError {
  /** Creates the error (code `SHARD_NOT_READY`) with a message saying what happened. */
  constructor(message: string) { super('SHARD_NOT_READY', message); }
}

/**
 * The request did not complete in time, or its AbortSignal fired. It may still take effect:
 * aborting stops the wait, not the commit.
 */
export class TimeoutError extends RuntimeConditionError {
  /** Creates the error (code `TIMEOUT`); the message defaults to "request timed out". */
  constructor(message = 'request timed out', options?: { cause?: unknown }) { super('TIMEOUT', message, options); }
}

/** Too many requests are pending, or the in-memory log is over its limit; back off. */
export class SystemBusyError extends RuntimeConditionError {
  /** Creates the error (code `SYSTEM_BUSY`); the message defaults to "system busy". */
  constructor(message = 'system busy') { super('SYSTEM_BUSY', message); }
}

/** The request was refused by the state of the shard (nothing to snapshot, a stale membership, …). */
export class RejectedError extends RuntimeConditionError {
  /** Creates the error (code `REJECTED`, or a subclass's own `code`) with a message saying what happened. */
  constructor(message: string, code = 'REJECTED') { super(code, message); }
}

/**
 * The shard's leader refused a membership change that would leave the new configuration
 * without a quorum of live voting members (etcd's strict reconfiguration check): adding a
 * voter that has not caught up or cannot be heard from, or removing a live voter while others
 * are down. Nothing was appended. The message says what to do: add the replica as non-voting
 * first and promote it once caught up (`catchUpFirst`), start the stopped voters, or pass
 * `force`. A RejectedError (code `NOT_ENOUGH_LIVE_VOTERS`).
 */
export class NotEnoughLiveVotersError extends RejectedError {
  /** Creates the error (code `NOT_ENOUGH_LIVE_VOTERS`) for shard `shardId`: `live` of `voters` voting members would be live, below `quorum`. */
  constructor(
    /** The shard. */
    readonly shardId: number,
    /** Live voting members of the new configuration (of its half that falls short, when joint). */
    readonly live: number,
    /** Voting members of that configuration. */
    readonly voters: number,
    /** Its quorum. */
    readonly quorum: number,
    message: string,
  ) {
    super(message, 'NOT_ENOUGH_LIVE_VOTERS');
  }
}

/** The request was dropped (no leader, leadership changed, a transfer in progress); retry. */
export class DroppedError extends RuntimeConditionError {
  /** Creates the error (code `DROPPED`); the message defaults to "request dropped". */
  constructor(message = 'request dropped') { super('DROPPED', message); }
}

/**
 * The operation needs this host to lead the shard, and it does not. `leaderId` names the
 * leader this host knows (0 for none): run the operation on that replica's host.
 */
export class NotLeaderError extends RuntimeConditionError {
  /** The shard. */
  readonly shardId: number;
  /** The leader's replica id as this host knows it; 0 for none. */
  readonly leaderId: number;

  /** Creates the error (code `NOT_LEADER`) for shard `shardId`, whose known leader is `leaderId` (0 for none); `what` names the operation. */
  constructor(shardId: number, leaderId: number, what: string) {
    super('NOT_LEADER', `${what} must run on the leader of shard ${shardId}${leaderId === 0 ? ' (no leader is known)' : ` (replica ${leaderId})`}`);
    this.shardId = shardId;
    this.leaderId = leaderId;
  }
}

/** A directory that must exist does not. */
export class DirNotExistError extends CallerError {
  /** Creates the error (code `DIR_NOT_EXIST`) for the directory `path`. */
  constructor(path: string) { super('DIR_NOT_EXIST', `directory ${path} does not exist`); }
}

/** The replica was removed from its shard. */
export class ReplicaRemovedError extends RuntimeConditionError {
  /** Creates the error (code `REPLICA_REMOVED`) for replica `replicaId` of shard `shardId`. */
  constructor(shardId: number, replicaId: number) { super('REPLICA_REMOVED', `replica ${replicaId} was removed from shard ${shardId}`); }
}

/**
 * The shard's replica on this host stopped serving: a member of a cluster with another
 * identity lists it as a member, so two clusters claim it (a misconfigured bootstrap). It
 * takes no part in Raft until an operator fixes the configuration and restarts it.
 */
export class ClusterIdentityMismatchError extends RuntimeConditionError {
  /** Creates the error (code `CLUSTER_IDENTITY_MISMATCH`) with a message saying what happened. */
  constructor(message: string) { super('CLUSTER_IDENTITY_MISMATCH', message); }
}

/** The replica's state machine failed; the replica stopped. */
export class StateMachineError extends RuntimeConditionError {
  /** Creates the error (code `STATE_MACHINE`) with a message saying what happened. */
  constructor(message: string, options?: { cause?: unknown }) { super('STATE_MACHINE', message, options); }
}

/**
 * An import would roll a replica back: its data directory already holds a newer index than the
 * snapshot (every entry committed after the snapshot would be lost). Nothing was changed;
 * `force` imports anyway.
 */
export class ImportRollbackError extends CallerError {
  /** Creates the error (code `IMPORT_ROLLBACK`): the replica holds index `held`, newer than the snapshot's `index`. */
  constructor(
    /** The shard of the replica. */
    readonly shardId: number,
    /** The replica that would be rolled back. */
    readonly replicaId: number,
    /** The newest index the replica's data already holds. */
    readonly held: number,
    /** The index of the snapshot being imported. */
    readonly index: number,
  ) {
    super('IMPORT_ROLLBACK', `replica ${replicaId} of shard ${shardId} already holds index ${held}, newer than the snapshot's ${index}; `
      + 'importing would roll it back and lose the entries after it (force to import anyway)');
  }
}
