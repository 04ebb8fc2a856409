/**
 * The values the Raft protocol core consumes and produces: entries, messages, hard state,
 * membership and snapshot records. Every other layer (LogDB, transport, host) speaks in
 * these types, so they are plain data: no classes, no methods, safe to encode and copy.
 *
 * Identifiers, terms and indexes are JavaScript numbers. They stay exact up to 2^53 - 1,
 * which at a million entries per second lasts for more than 280 years.
 */

/** Kinds of log entry. */
export const EntryType = {
  /** A user command (or an empty no-op when `cmd` is empty). */
  Application: 0,
  /** A membership change; `cmd` holds an encoded {@link ConfigChange}. */
  ConfigChange: 1,
  /** An entry stripped of its payload, as sent to witnesses; applied as a no-op. */
  Metadata: 2,
} as const;
/** One of {@link EntryType}. */
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** A client session's reserved series ids (as dragonboat): register and unregister. */
export const SeriesId = {
  /** Proposal that registers a client session. */
  Register: Number.MAX_SAFE_INTEGER - 1,
  /** Proposal that unregisters a client session. */
  Unregister: Number.MAX_SAFE_INTEGER,
  /** Proposals made without a session carry this. */
  NoOp: 0,
} as const;

/** Client id meaning "no session": such proposals are applied at least once. */
export const NO_SESSION = 0;

/** One log entry. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Proposal key assigned by the host, echoed back when the entry is applied or dropped. */
  readonly key: number;
  /** Client session id; {@link NO_SESSION} for proposals without one. */
  readonly clientId: number;
  /** Series id of a session proposal; the session's reserved ids are in {@link SeriesId}. */
  readonly seriesId: number;
  /** The highest series id the client has seen a reply for (lets the session forget). */
  readonly respondedTo: number;
  readonly cmd: Uint8Array;
}

/** The state Raft must persist before it sends any message that depends on it (§5 Fig. 2). */
export interface HardState {
  readonly term: number;
  /** Replica voted for in `term`; 0 for none. */
  readonly vote: number;
  /** Highest index known committed. Invariant: commit <= last index of the persisted log. */
  readonly commit: number;
}

/** The empty hard state of a replica that has never run. */
export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: 0, commit: 0 });

/**
 * The replicas of a shard and their addresses. `configChangeId` is the index of the
 * config-change entry that produced it (the membership "version"); removed ids never return.
 */
export interface Membership {
  readonly configChangeId: number;
  readonly voters: ReadonlyMap<number, string>;
  readonly nonVoting: ReadonlyMap<number, string>;
  readonly witnesses: ReadonlyMap<number, string>;
  readonly removed: ReadonlySet<number>;
}

/** A membership with no members: the state of a replica started to join a shard. */
export function emptyMembership(): Membership {
  return { configChangeId: 0, voters: new Map(), nonVoting: new Map(), witnesses: new Map(), removed: new Set() };
}

/** Kinds of membership change. */
export const ConfigChangeType = {
  AddVoter: 0,
  RemoveReplica: 1,
  AddNonVoting: 2,
  AddWitness: 3,
} as const;
/** One of {@link ConfigChangeType}. */
export type ConfigChangeType = (typeof ConfigChangeType)[keyof typeof ConfigChangeType];

/**
 * A single-replica membership change. With ordered config changes on, `configChangeId` must
 * equal the membership version the proposer saw, or the change is rejected as stale.
 */
export interface ConfigChange {
  readonly configChangeId: number;
  readonly type: ConfigChangeType;
  readonly replicaId: number;
  readonly address: string;
  /** Set by bootstrap entries written at initial start; such changes are never rejected. */
  readonly initialize: boolean;
  /**
   * Whether the membership version is checked (`configChangeId` must equal the current one),
   * decided by the proposer and carried in the entry so that every replica applies the same
   * rule whatever its own `orderedConfigChange`. Absent in entries written by sampan 0.1, where
   * each replica's own setting decides (replicas configured differently could then diverge).
   */
  readonly ordered?: boolean;
}

/** State machine kinds, recorded in snapshots so a snapshot is restored by the right kind. */
export const StateMachineType = {
  Regular: 1,
  Concurrent: 2,
  OnDisk: 3,
} as const;
/** One of {@link StateMachineType}. */
export type StateMachineType = (typeof StateMachineType)[keyof typeof StateMachineType];

/** An external file carried with a snapshot (a file collection entry). */
export interface SnapshotFile {
  readonly fileId: number;
  /** Path of the file inside the snapshot directory. */
  readonly filepath: string;
  readonly fileSize: number;
  readonly metadata: Uint8Array;
}

/**
 * The record of a snapshot: where its data lives and the log position it replaces.
 * The core only reads `index`, `term` and `membership`; the other fields belong to the
 * snapshot layer and travel unchanged through the LogDB and the transport.
 */
export interface SnapshotMeta {
  readonly shardId: number;
  readonly index: number;
  readonly term: number;
  readonly membership: Membership;
  /** Path of the snapshot data file on the host that holds it. */
  readonly filepath: string;
  readonly fileSize: number;
  /** Checksum of the snapshot data file (algorithm named by the file's own header). */
  readonly checksum: Uint8Array;
  readonly type: StateMachineType;
  readonly files: readonly SnapshotFile[];
  /** A metadata-only snapshot (on-disk state machines' local snapshots). */
  readonly dummy: boolean;
  /** A snapshot sent to a witness: membership and position only. */
  readonly witness: boolean;
  /** For on-disk state machines: the index its own persisted state had reached. */
  readonly onDiskIndex: number;
  /** Produced by the import tool: replaces the replica's whole history. */
  readonly imported: boolean;
}

/** A snapshot record with nothing in it: index 0 means "no snapshot". */
export function emptySnapshot(shardId = 0): SnapshotMeta {
  return {
    shardId, index: 0, term: 0, membership: emptyMembership(), filepath: '', fileSize: 0,
    checksum: new Uint8Array(0), type: StateMachineType.Regular, files: [], dummy: false,
    witness: false, onDiskIndex: 0, imported: false,
  };
}

/** Message kinds. Local kinds are never sent over the network. */
export const MessageType = {
  // Local (the host feeds these to its own replica).
  LocalTick: 0,
  Election: 1,
  LeaderHeartbeat: 2,
  Propose: 3,
  SnapshotStatus: 4,
  Unreachable: 5,
  CheckQuorum: 6,
  ReadIndex: 7,
  LeaderTransfer: 8,
  // Network.
  Replicate: 16,
  ReplicateResp: 17,
  RequestVote: 18,
  RequestVoteResp: 19,
  RequestPreVote: 20,
  RequestPreVoteResp: 21,
  InstallSnapshot: 22,
  Heartbeat: 23,
  HeartbeatResp: 24,
  ReadIndexResp: 25,
  TimeoutNow: 26,
  Quiesce: 27,
  RateLimit: 28,
  /**
   * A host-level notice, never stepped into the protocol: the receiver of a message refused it
   * because its shard has another cluster identity (the sender's identity rides beside it).
   */
  ClusterIdentityMismatch: 29,
} as const;
/** One of {@link MessageType}. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Reverse lookup of message type names, for logs and test scripts. */
export const MessageTypeName: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(MessageType).map(([k, v]) => [v, k])),
);

/**
 * A Raft message. One shape for every kind keeps the codec and the handlers simple; fields a
 * kind does not use are zero. `hint`/`hintHigh` carry per-kind extras: the read-index
 * context, the rejecting follower's last index, the leader-transfer target, the rate-limit
 * size.
 */
export interface Message {
  readonly type: MessageType;
  readonly shardId: number;
  readonly from: number;
  readonly to: number;
  readonly term: number;
  readonly logTerm: number;
  readonly logIndex: number;
  readonly commit: number;
  readonly reject: boolean;
  readonly hint: number;
  readonly hintHigh: number;
  readonly entries: readonly Entry[];
  readonly snapshot: SnapshotMeta | null;
}

/** Builds a message with every unset field zeroed. */
export function message(f: Partial<Message> & Pick<Message, 'type'>): Message {
  // Field by field, not a spread: every message then has one shape (this is a hot path).
  return {
    type: f.type, shardId: f.shardId ?? 0, from: f.from ?? 0, to: f.to ?? 0, term: f.term ?? 0,
    logTerm: f.logTerm ?? 0, logIndex: f.logIndex ?? 0, commit: f.commit ?? 0, reject: f.reject ?? false,
    hint: f.hint ?? 0, hintHigh: f.hintHigh ?? 0, entries: f.entries ?? [], snapshot: f.snapshot ?? null,
  };
}

/** Builds an entry with every unset field zeroed. */
export function entry(f: Partial<Entry> & Pick<Entry, 'term' | 'index'>): Entry {
  return {
    term: f.term, index: f.index, type: f.type ?? EntryType.Application, key: f.key ?? 0,
    clientId: f.clientId ?? NO_SESSION, seriesId: f.seriesId ?? SeriesId.NoOp, respondedTo: f.respondedTo ?? 0,
    cmd: f.cmd ?? EMPTY_BYTES,
  };
}

/** A shared empty payload (never mutated). */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/**
 * A linearizable read's context: the host's identifier for a batch of read requests.
 * Two numbers so a host can use a 64-bit random id without BigInt.
 */
export interface ReadContext {
  readonly low: number;
  readonly high: number;
}

/** A read-index result: reads with context `ctx` may be served once `index` is applied. */
export interface ReadyToRead {
  readonly index: number;
  readonly ctx: ReadContext;
}

/** Size in bytes that an entry is charged for flow control and byte limits. */
export function entrySize(e: Entry): number {
  return e.cmd.length + 48;
}
