/**
 * The LogDB contract (part of sampan's contracts, `src/contracts/`: dragonboat's `raftio`):
 * durable storage of every replica's Raft log, hard state, snapshot record and bootstrap info
 * on a host. One LogDB serves all shards of a host, so a single
 * durable sync can cover the updates of every shard that was ready in the same round.
 *
 * ## Ordering
 * Calls take effect in the order they are made. Reads are synchronous and see the effect of
 * every write call whose promise has resolved; they may also see later writes early (never
 * a part of one call: a call's updates become visible together). `removeEntriesTo` and
 * `removeReplicaData` take effect for readers at once, before their promise resolves.
 *
 * ## Durability
 * A write call's promise resolves only once its data is durable (with `fsync` on, after an
 * fdatasync covering it); a crash before that may keep or lose the call, but never keeps a
 * part of it. Removals that are lost in a crash are harmless: the removed entries reappear
 * below the snapshot that replaced them. One exception, as in etcd's `MustSync`: a call whose
 * every update only advances a hard state's commit index (same term and vote, no entries, no
 * snapshot) may resolve before it is written or synced, and a crash may then undo it; Raft
 * learns the commit index again from the leader, and a restart raises it to what the state
 * machine had applied. Reads see it at once; later synced calls cover it.
 *
 * ## Ownership
 * Entries, snapshot records and bootstrap info passed in become the LogDB's: the caller must
 * not mutate them (or their `cmd` bytes) afterwards. Values returned by reads are shared and
 * must not be mutated by the caller either.
 *
 * ## Errors
 * Caller mistakes reject (or throw, for reads) with {@link InvalidOperationError}; reading
 * below the first entry held throws {@link EntriesCompactedError}; damaged files make
 * `open` reject with {@link CorruptionError} naming the file and offset; a failed write or
 * sync rejects that call and every later one with {@link StorageError}; every call made
 * after `close()` rejects (or throws) {@link ClosedError}.
 */
import type { Entry, HardState, SnapshotMeta, StateMachineType } from '../core/types.js';
import type {
  ClosedError, CorruptionError, EntriesCompactedError, InvalidOperationError, StorageError,
} from '../errors.js';

// Referenced from doc comments only.
export type { ClosedError, CorruptionError, EntriesCompactedError, InvalidOperationError, StorageError };

/** What a replica needs to start for the first time: initial members, join flag, SM kind. */
export interface Bootstrap {
  /** Initial voting members (replica id → address); empty when joining. */
  readonly members: ReadonlyMap<number, string>;
  /** The replica joins an existing shard instead of forming a new one. */
  readonly join: boolean;
  /** The kind of state machine the replica runs (checked on restart). */
  readonly smType: StateMachineType;
  /**
   * The shard's cluster identity (a positive integer below 2^48), fixed when the shard was
   * bootstrapped or learned on first contact when joining; absent or 0 while unknown.
   */
  readonly clusterId?: number;
}

/** One (shard, replica)'s part of a round of updates. */
export interface ReplicaUpdate {
  /** The shard of the replica updated. */
  readonly shardId: number;
  /** The replica updated. */
  readonly replicaId: number;
  /** The new hard state, when it changed. */
  readonly hardState?: HardState | undefined;
  /**
   * Entries to append, with consecutive indexes. When `entries[0].index` is at or below the
   * last stored index the stored tail from that index is replaced (a new leader's log); it
   * must not be above `last + 1` while entries are stored (a gap).
   */
  readonly entries: readonly Entry[];
  /**
   * The newest snapshot record, when one was installed or created. Applied before `entries`.
   * A record not newer (by index) than the stored one is ignored. As in Raft's restore, the
   * stored entries are all dropped when the snapshot's index is past the last stored entry or
   * the stored entry at that index has another term; otherwise they are kept.
   */
  readonly snapshot?: SnapshotMeta | undefined;
}

/** Indexes of the first and last stored entries of a replica. */
export interface EntryRange {
  /** The first stored index. */
  readonly firstIndex: number;
  /** The last stored index. */
  readonly lastIndex: number;
}

/** A (shard, replica) pair. */
export interface ReplicaKey {
  /** The shard id. */
  readonly shardId: number;
  /** The replica id. */
  readonly replicaId: number;
}

/** Durable storage for the Raft state of every replica on a host. See the module comment. */
export interface LogDB {
  /**
   * Saves every update with ONE durable sync, all-or-nothing per call, and resolves after
   * it. Updates apply in array order (several may name the same replica).
   * @throws InvalidOperationError (rejects) for a gap or non-consecutive entries; nothing of
   * the call is stored then.
   */
  saveUpdates(updates: readonly ReplicaUpdate[]): Promise<void>;
  /**
   * Entries in `[low, high)`, stopping before the first entry that takes the total size
   * (by `entrySize`) past `maxBytes`, but always at least one if any is in range. Entries
   * past the last stored one are simply not returned. The array is new: the caller keeps it
   * (the host applies from it later) and the LogDB must not change it afterwards.
   * @throws EntriesCompactedError when `low` is below the first stored entry.
   */
  readEntries(shardId: number, replicaId: number, low: number, high: number, maxBytes: number): Entry[];
  /**
   * Optional hint: the host has applied entries up to `index` and will rarely read them again
   * (a lagging follower's catch-up, a leader's probe), so a LogDB may drop them from any
   * in-memory cache. They stay stored and readable. Never throws.
   */
  releaseEntries?(shardId: number, replicaId: number, index: number): void;
  /** The stored entries' range, or null when none are stored. */
  getEntryRange(shardId: number, replicaId: number): EntryRange | null;
  /** The stored hard state; EMPTY_HARD_STATE when none was saved. */
  readHardState(shardId: number, replicaId: number): HardState;
  /** The newest stored snapshot record, or null. */
  getSnapshot(shardId: number, replicaId: number): SnapshotMeta | null;
  /** Durably stores bootstrap info, replacing any earlier one. */
  saveBootstrap(shardId: number, replicaId: number, info: Bootstrap): Promise<void>;
  /** The stored bootstrap info, or null. */
  getBootstrap(shardId: number, replicaId: number): Bootstrap | null;
  /** Removes entries at or below `index` at once for readers; resolves once durable. */
  removeEntriesTo(shardId: number, replicaId: number, index: number): Promise<void>;
  /**
   * As {@link removeEntriesTo}, and also gives back the space they held (exactly when is
   * the implementation's space bound; see README "Log storage").
   */
  compactEntriesTo(shardId: number, replicaId: number, index: number): Promise<void>;
  /** Removes everything stored for the replica (at once for readers); resolves once durable. */
  removeReplicaData(shardId: number, replicaId: number): Promise<void>;
  /**
   * Replaces the replica's whole state with an imported snapshot: the snapshot record, hard
   * state `{term: snapshot.term, vote: 0, commit: snapshot.index}`, no entries, and
   * bootstrap info `{members: empty, join: true, smType: snapshot.type}` so the replica
   * restarts from the snapshot's membership. The shard is `snapshot.shardId`.
   */
  importSnapshot(snapshot: SnapshotMeta, replicaId: number): Promise<void>;
  /**
   * Every replica with stored data, in no particular order.
   * @throws ClosedError once the LogDB is closing or closed.
   */
  listReplicas(): ReplicaKey[];
  /** Waits for pending writes, then releases files. Idempotent. */
  close(): Promise<void>;
}
