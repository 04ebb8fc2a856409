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
  /**
   * A user command stored encoded (dragonboat's EncodedEntry): `cmd` is one header byte saying
   * how (Snappy-compressed, see the host's `entry-compression.ts`), then the encoded command.
   * Made by a host whose shard has `entryCompression` on, when that makes the entry smaller;
   * every host decodes it before its state machine sees it, whatever its own setting. The core
   * treats it as an Application entry. Releases before it refuse the type with a CodecError.
   */
  Encoded: 3,
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
  /** The term of the leader that created the entry. */
  readonly term: number;
  /** The entry's position in the log (the first entry is 1). */
  readonly index: number;
  /** What the entry carries: a command, a membership change or metadata only. */
  readonly type: EntryType;
  /** Proposal key assigned by the host, echoed back when the entry is applied or dropped. */
  readonly key: number;
  /** Client session id; {@link NO_SESSION} for proposals without one. */
  readonly clientId: number;
  /** Series id of a session proposal; the session's reserved ids are in {@link SeriesId}. */
  readonly seriesId: number;
  /** The highest series id the client has seen a reply for (lets the session forget). */
  readonly respondedTo: number;
  /** The payload: the user command, or the encoded {@link ConfigChange}; empty for a no-op. */
  readonly cmd: Uint8Array;
}

/** The state Raft must persist before it sends any message that depends on it (§5 Fig. 2). */
export interface HardState {
  /** The latest term this replica has seen (persisted before it votes or replies in it). */
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
  /** Index of the config-change entry that produced this membership (0 for an empty one). */
  readonly configChangeId: number;
  /** Voting members: replica id to raft address. */
  readonly voters: ReadonlyMap<number, string>;
  /** Non-voting members (learners): receive the log, never vote nor count for quorum. */
  readonly nonVoting: ReadonlyMap<number, string>;
  /** Witnesses: vote and count for quorum, receive entries without their payload; never lead. */
  readonly witnesses: ReadonlyMap<number, string>;
  /** Ids of replicas removed from the shard; such an id can never be added back. */
  readonly removed: ReadonlySet<number>;
  /**
   * Present only while the shard is in a joint configuration (thesis §4.3): `voters` and
   * `witnesses` are then the incoming configuration, and this the outgoing one.
   */
  readonly joint?: JointState;
}

/** The outgoing half of a joint configuration, and what happens when it is left. */
export interface JointState {
  /** The voters of the outgoing configuration (witnesses are the same in both halves). */
  readonly outgoing: ReadonlyMap<number, string>;
  /**
   * Voters being demoted: voters of `outgoing`, non-voting once the joint configuration is left
   * (etcd's LearnersNext). Not in `nonVoting` meanwhile.
   */
  readonly nonVotingNext: ReadonlyMap<number, string>;
  /** Whether the leader proposes the leave by itself as soon as the enter entry is applied. */
  readonly autoLeave: boolean;
}

/** A membership with no members: the state of a replica started to join a shard. */
export function emptyMembership(): Membership {
  return { configChangeId: 0, voters: new Map(), nonVoting: new Map(), witnesses: new Map(), removed: new Set() };
}

/** Kinds of membership change. */
export const ConfigChangeType = {
  /** Adds a voting member, or promotes a non-voting one (a witness cannot become a voter). */
  AddVoter: 0,
  /** Removes a member of any role; its id can never return. */
  RemoveReplica: 1,
  /** Adds a non-voting member (a learner). */
  AddNonVoting: 2,
  /** Adds a witness. */
  AddWitness: 3,
  /**
   * Enters a joint configuration: applies every one of `ops` at once to the incoming voters,
   * while the current voters stay as the outgoing half until the joint configuration is left.
   */
  EnterJoint: 4,
  /** Leaves the joint configuration: the incoming half becomes the whole configuration. */
  LeaveJoint: 5,
} as const;
/** One of {@link ConfigChangeType}. */
export type ConfigChangeType = (typeof ConfigChangeType)[keyof typeof ConfigChangeType];

/** One operation of a joint change: add (or promote) a voter, add (or demote to) non-voting, remove. */
export interface ConfigChangeOp {
  /** AddVoter, AddNonVoting or RemoveReplica. */
  readonly type: ConfigChangeType;
  /** The replica the operation is about. */
  readonly replicaId: number;
  /** Its raft address (empty for a removal, a promotion or a demotion). */
  readonly address: string;
}

/**
 * A membership change: one replica at a time (AddVoter … AddWitness), or entering or leaving
 * a joint configuration (EnterJoint with `ops`, LeaveJoint). With ordered config changes on, `configChangeId` must
 * equal the membership version the proposer saw, or the change is rejected as stale.
 */
export interface ConfigChange {
  /** The membership version the proposer saw; checked when the change is ordered. */
  readonly configChangeId: number;
  /** What the change does. */
  readonly type: ConfigChangeType;
  /** The replica added or removed. */
  readonly replicaId: number;
  /** The raft address of an added replica (empty for a removal). */
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
  /** EnterJoint only: the operations applied together. */
  readonly ops?: readonly ConfigChangeOp[];
  /** EnterJoint only: whether the leader leaves the joint configuration by itself once applied. */
  readonly autoLeave?: boolean;
}

/** State machine kinds, recorded in snapshots so a snapshot is restored by the right kind. */
export const StateMachineType = {
  /** A `StateMachine`: no update runs while a snapshot is saved or recovered. */
  Regular: 1,
  /** A `ConcurrentStateMachine`: snapshots are written while updates go on. */
  Concurrent: 2,
  /** An `OnDiskStateMachine`: keeps its own state on disk across restarts. */
  OnDisk: 3,
} as const;
/** One of {@link StateMachineType}. */
export type StateMachineType = (typeof StateMachineType)[keyof typeof StateMachineType];

/** An external file carried with a snapshot (a file collection entry). */
export interface SnapshotFile {
  /** The id the state machine gave the file when adding it to the collection. */
  readonly fileId: number;
  /** Path of the file inside the snapshot directory. */
  readonly filepath: string;
  /** Size of the file in bytes. */
  readonly fileSize: number;
  /** Opaque bytes the state machine attached to the file. */
  readonly metadata: Uint8Array;
}

/**
 * The record of a snapshot: where its data lives and the log position it replaces.
 * The core only reads `index`, `term` and `membership`; the other fields belong to the
 * snapshot layer and travel unchanged through the LogDB and the transport.
 */
export interface SnapshotMeta {
  /** The shard the snapshot belongs to. */
  readonly shardId: number;
  /** The last log index the snapshot includes. */
  readonly index: number;
  /** The term of the entry at `index`. */
  readonly term: number;
  /** The shard's membership as of `index`. */
  readonly membership: Membership;
  /** Path of the snapshot data file on the host that holds it. */
  readonly filepath: string;
  /** Size of the snapshot data file in bytes. */
  readonly fileSize: number;
  /** Checksum of the snapshot data file (algorithm named by the file's own header). */
  readonly checksum: Uint8Array;
  /** The kind of state machine that produced the snapshot (and can restore it). */
  readonly type: StateMachineType;
  /** External files carried with the snapshot. */
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

/**
 * Message kinds. Local kinds (below 16) are never sent over the network, except that followers
 * forward Propose, ReadIndex and LeaderTransfer to the leader.
 */
export const MessageType = {
  // Local (the host feeds these to its own replica).
  /** Local: one logical clock tick. */
  LocalTick: 0,
  /** Local: start an election (the election timeout fired, or the host asked for one). */
  Election: 1,
  /** Local: the leader's heartbeat timeout fired; broadcast heartbeats. */
  LeaderHeartbeat: 2,
  /** Local: append the message's entries as a proposal (forwarded to the leader by followers). */
  Propose: 3,
  /** Local: a snapshot stream to replica `from` ended; `reject` means it failed. */
  SnapshotStatus: 4,
  /** Local: messages to replica `from` could not be delivered. */
  Unreachable: 5,
  /** Local: the leader checks that a quorum was active during the last election timeout. */
  CheckQuorum: 6,
  /** Local: start a linearizable read with context `hint`/`hintHigh` (forwarded to the leader by followers). */
  ReadIndex: 7,
  /** Local: transfer leadership to replica `hint` (forwarded to the leader by followers). */
  LeaderTransfer: 8,
  // Network.
  /** Leader to follower: entries to append after (`logIndex`, `logTerm`). */
  Replicate: 16,
  /**
   * Follower to leader: its log matches up to `logIndex`; or `reject`, with `hint`/`logTerm`
   * naming where the two logs may match (the leader's next probe).
   */
  ReplicateResp: 17,
  /** Candidate to voter: a vote request for `term`, with the candidate's last log position. */
  RequestVote: 18,
  /** Voter to candidate: the vote, granted unless `reject`. */
  RequestVoteResp: 19,
  /** Pre-candidate to voter: would you vote for me in the next term (no term change). */
  RequestPreVote: 20,
  /** Voter to pre-candidate: the pre-vote, granted unless `reject`. */
  RequestPreVoteResp: 21,
  /** Leader to follower: replace the log with the snapshot in `snapshot`. */
  InstallSnapshot: 22,
  /** Leader to follower: keeps the follower's election timer quiet and advances its commit index. */
  Heartbeat: 23,
  /** Follower to leader: answer to a heartbeat (confirms leadership for reads). */
  HeartbeatResp: 24,
  /** Leader to follower: the read index for a forwarded read (`logIndex`), context in `hint`/`hintHigh`. */
  ReadIndexResp: 25,
  /** Leader to transfer target: start an election now (leader transfer). */
  TimeoutNow: 26,
  /** Leader to follower: the shard is idle; enter quiesce and stop ticking elections. */
  Quiesce: 27,
  /** Follower to leader: the size of the follower's in-memory log (`hint`), for rate limiting. */
  RateLimit: 28,
  /**
   * A host-level notice, never stepped into the protocol: the receiver of a message refused it
   * because its shard has another cluster identity (the sender's identity rides beside it).
   */
  ClusterIdentityMismatch: 29,
  /**
   * A host-level notice, never stepped into the protocol: a member that applied the removal of
   * the message's receiver tells it so (a removed replica often never receives the commit of its
   * own removal, since the leader stops replicating to it).
   */
  ReplicaRemoved: 30,
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
 * context, the rejecting follower's match hint, the leader-transfer target, the rate-limit
 * size.
 */
export interface Message {
  /** The kind of message; it decides which other fields mean something. */
  readonly type: MessageType;
  /** The shard the message belongs to. */
  readonly shardId: number;
  /** The sending replica id. */
  readonly from: number;
  /** The receiving replica id. */
  readonly to: number;
  /** The sender's term (0 for local messages). */
  readonly term: number;
  /** The term of the entry at `logIndex` (Replicate: of the entry before `entries`). */
  readonly logTerm: number;
  /**
   * A log index: the entry before `entries` (Replicate), the match index (ReplicateResp), the last
   * index (votes).
   */
  readonly logIndex: number;
  /** The sender's commit index (Replicate, Heartbeat). */
  readonly commit: number;
  /** A negative answer: vote refused, append rejected, snapshot failed. */
  readonly reject: boolean;
  /**
   * Per-kind extra: one half of a read context, a rejecting follower's match hint, the transfer
   * target, a log size.
   */
  readonly hint: number;
  /** Per-kind extra: the high half of a read context. */
  readonly hintHigh: number;
  /** Log entries (Replicate, Propose). */
  readonly entries: readonly Entry[];
  /** The snapshot record (InstallSnapshot); null otherwise. */
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
  /** One half of the identifier (sampan hosts: a per-host counter). */
  readonly low: number;
  /** The other half of the identifier (sampan hosts: a random per-host id). */
  readonly high: number;
}

/** A read-index result: reads with context `ctx` may be served once `index` is applied. */
export interface ReadyToRead {
  /** Reads with this context may be served once this index is applied. */
  readonly index: number;
  /** The context the host gave the read. */
  readonly ctx: ReadContext;
}

/** Size in bytes that an entry is charged for flow control and byte limits. */
export function entrySize(e: Entry): number {
  return e.cmd.length + 48;
}
