/**
 * The state machine contracts users implement (part of sampan's contracts, `src/contracts/`:
 * dragonboat's `statemachine` package beside `raftio`), in the three kinds dragonboat offers:
 *
 * - {@link StateMachine} (regular): state in memory; sampan never runs `update` while a
 *   snapshot is being saved or recovered, so the implementation needs no synchronisation.
 * - {@link ConcurrentStateMachine}: `prepareSnapshot` captures a consistent view between
 *   updates (e.g. a persistent data structure's root); `saveSnapshot` then writes that view
 *   while later updates keep being applied, so a large snapshot does not stall the shard.
 * - {@link OnDiskStateMachine}: the state machine persists its own state and reports the last
 *   index it applied from `open`; sampan's local snapshots then hold metadata only, and a full
 *   image is streamed from live state when a follower needs one or a snapshot is exported.
 *
 * Every method may return a Promise. Updates of one replica are applied strictly in log order,
 * one batch at a time. A method that throws stops that replica (its pending requests fail),
 * never the host. The `update` calls of all replicas of a host share its thread in slices
 * (5 ms per event-loop turn; a replica whose call outlasts the slice rests as long before its
 * next): a slow `update` slows its own shard, and the others only by one call at a time.
 */

import type { Runtime } from '../runtime/runtime.js';
import type { ReplicaId, ShardId } from './ids.js';

/** One committed command handed to `update`. */
export interface SMEntry {
  /** The log index of the command. Strictly increasing across calls. */
  readonly index: number;
  /** The proposed bytes. */
  readonly cmd: Uint8Array;
}

/**
 * The outcome of applying one command: a number and optional bytes, as dragonboat's `Result`.
 * It is what the proposer's promise resolves with, and what a client session remembers for
 * exactly-once replies, so it must be the same on every replica.
 */
export interface SMResult {
  /** A number the state machine chooses (a status, a count, …). */
  readonly value: number;
  /** Optional bytes the state machine returns with `value`. */
  readonly data?: Uint8Array;
}

/** Where a state machine writes its snapshot data. Honour the Promise for back-pressure. */
export interface SnapshotWriter {
  /**
   * Appends `data` to the snapshot (copied before this returns); wait for the Promise before
   * writing more.
   * @throws InvalidOperationError (rejects) once the snapshot was finished or aborted;
   *   StorageError (rejects) after a failed disk write.
   */
  write(data: Uint8Array): Promise<void>;
}

/** Where a state machine reads its snapshot data back, as chunks in order. */
export interface SnapshotReader extends AsyncIterable<Uint8Array> {
  /** Reads everything into one buffer (for small states). */
  readAll(): Promise<Uint8Array>;
}

/** An external file a snapshot carries (dragonboat's file collection). */
export interface SnapshotFileInfo {
  /** The id given to `SnapshotFileCollection.addFile`. */
  readonly fileId: number;
  /** Local path of the file, inside the snapshot directory once recovered. */
  readonly path: string;
  /** The metadata given to `SnapshotFileCollection.addFile` (empty if none). */
  readonly metadata: Uint8Array;
}

/** Lets `saveSnapshot` attach existing files to the snapshot; they are copied or linked in. */
export interface SnapshotFileCollection {
  /**
   * Attaches the file at `path` under `fileId` (unique within the snapshot), with optional
   * `metadata`; it is linked in after `saveSnapshot` resolves, so it must not change before.
   * @throws InvalidOptionError for a `fileId` that is not a non-negative safe integer or was
   *   already added, or an empty path.
   */
  addFile(fileId: number, path: string, metadata?: Uint8Array): void;
}

/**
 * A regular, in-memory state machine. `Q` and `R` type `lookup`'s query and result (both
 * `unknown` unless given); the options form of `startReplica` types its shard handle's `read` by them.
 */
export interface StateMachine<Q = unknown, R = unknown> {
  /** Applies committed commands in order and returns one result per entry. */
  update(entries: readonly SMEntry[]): readonly SMResult[] | Promise<readonly SMResult[]>;
  /** Answers a read. Never mutates state. */
  lookup(query: Q): R | Promise<R>;
  /** Writes the whole state. `signal` aborts when the replica or host is closing. */
  saveSnapshot(writer: SnapshotWriter, files: SnapshotFileCollection, signal: AbortSignal): Promise<void>;
  /** Replaces the whole state with a snapshot's. */
  recoverFromSnapshot(reader: SnapshotReader, files: readonly SnapshotFileInfo[], signal: AbortSignal): Promise<void>;
  /**
   * Releases the state machine's resources; called once when the replica stops (or fails to start),
   * after its last update.
   */
  close(): void | Promise<void>;
  /**
   * Optional (dragonboat's IHash): a 64-bit hash of the state as it stands, used by
   * `NodeHost.verifyShard` to compare replicas at the same applied index. Called between
   * updates, never concurrently with one; it must be deterministic (same state, same hash on
   * every replica) and must not throw (a throw fails the replica like a throwing `update`).
   * Values are taken modulo 2^64.
   */
  getHash?(): bigint | Promise<bigint>;
}

/** A state machine whose snapshots are written beside updates. `Q` and `R` as in {@link StateMachine}. */
export interface ConcurrentStateMachine<Ctx = unknown, Q = unknown, R = unknown> {
  /** Applies committed commands in order and returns one result per entry. */
  update(entries: readonly SMEntry[]): readonly SMResult[] | Promise<readonly SMResult[]>;
  /** Answers a read. Never mutates state. */
  lookup(query: Q): R | Promise<R>;
  /** Captures a consistent view, synchronously, between two updates. */
  prepareSnapshot(): Ctx;
  /** Writes the view `ctx`; updates may run meanwhile. */
  saveSnapshot(ctx: Ctx, writer: SnapshotWriter, files: SnapshotFileCollection, signal: AbortSignal): Promise<void>;
  /** Replaces the whole state with a snapshot's. */
  recoverFromSnapshot(reader: SnapshotReader, files: readonly SnapshotFileInfo[], signal: AbortSignal): Promise<void>;
  /**
   * Releases the state machine's resources; called once when the replica stops (or fails to start),
   * after its last update.
   */
  close(): void | Promise<void>;
  /**
   * Optional (dragonboat's IHash): a 64-bit hash of the state as it stands, used by
   * `NodeHost.verifyShard` to compare replicas at the same applied index. Called between
   * updates, never concurrently with one; it must be deterministic (same state, same hash on
   * every replica) and must not throw (a throw fails the replica like a throwing `update`).
   * Values are taken modulo 2^64.
   */
  getHash?(): bigint | Promise<bigint>;
}

/** A state machine that keeps its own state on disk. `Q` and `R` as in {@link StateMachine}. */
export interface OnDiskStateMachine<Ctx = unknown, Q = unknown, R = unknown> {
  /** Opens the state and returns the last index it applied (0 when new). */
  open(signal: AbortSignal): Promise<number>;
  /** Applies commands; must persist them (with their indexes) before a later `sync` resolves. */
  update(entries: readonly SMEntry[]): readonly SMResult[] | Promise<readonly SMResult[]>;
  /** Answers a read from live state. Never mutates state. */
  lookup(query: Q): R | Promise<R>;
  /** Makes everything applied so far durable. */
  sync(): Promise<void>;
  /** Captures a consistent view of live state, synchronously, between two updates. */
  prepareSnapshot(): Ctx;
  /** Streams the view `ctx` as a full image (for a follower, or an export). */
  saveSnapshot(ctx: Ctx, writer: SnapshotWriter, signal: AbortSignal): Promise<void>;
  /** Replaces the on-disk state with a full image. */
  recoverFromSnapshot(reader: SnapshotReader, signal: AbortSignal): Promise<void>;
  /**
   * Releases the state machine's resources; called once when the replica stops (or fails to start),
   * after its last update.
   */
  close(): void | Promise<void>;
  /**
   * Optional (dragonboat's IHash): a 64-bit hash of the state as it stands, used by
   * `NodeHost.verifyShard` to compare replicas at the same applied index. Called between
   * updates, never concurrently with one; it must be deterministic (same state, same hash on
   * every replica) and must not throw (a throw fails the replica like a throwing `update`).
   * Values are taken modulo 2^64.
   */
  getHash?(): bigint | Promise<bigint>;
}

/** The state machine of a replica, tagged with its kind. */
export type AnyStateMachine =
  | {
    /** A regular state machine. */
    readonly kind: 'regular';
    /** The state machine. */
    readonly sm: StateMachine;
  }
  | {
    /** A concurrent state machine. */
    readonly kind: 'concurrent';
    /** The state machine. */
    readonly sm: ConcurrentStateMachine;
  }
  | {
    /** An on-disk state machine. */
    readonly kind: 'on-disk';
    /** The state machine. */
    readonly sm: OnDiskStateMachine;
  };

/** What a {@link StateMachineFactory} is handed besides the replica's ids. */
export interface StateMachineContext {
  /**
   * The host's runtime (`NodeHostConfig.runtime`): a state machine that keeps files or reads
   * the clock should take its file system, clock and timers from here rather than from Node,
   * so that it runs unchanged when the host runs on another runtime (a simulated one in tests).
   */
  readonly runtime: Runtime;
}

/**
 * Creates the state machine of one replica; called once per start of that replica. Factories
 * that need only the ids may ignore `context`.
 */
export type StateMachineFactory<T> = (shardId: ShardId, replicaId: ReplicaId, context: StateMachineContext) => T;
