/**
 * Configuration of one replica's protocol instance. Every field states its trade-off; the
 * host derives ticks from its round-trip time setting (electionRTT, heartbeatRTT).
 */
import { InvalidOptionError } from '../errors.js';
import type { RandomSource } from './random.js';

/** Protocol settings of one replica. */
export interface RaftConfig {
  /** The shard this replica belongs to (non-zero). */
  readonly shardId: number;
  /** This replica's id within the shard (non-zero). */
  readonly replicaId: number;
  /**
   * Ticks without hearing from a leader before a follower campaigns. The actual timeout is
   * drawn from [electionTicks, 2·electionTicks) so that split votes resolve. Must exceed
   * 2·heartbeatTicks so that one lost heartbeat does not start an election.
   */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats. Lower detects failures sooner and costs more messages. */
  readonly heartbeatTicks: number;
  /**
   * A leader that has not heard from a quorum within an election timeout steps down, and
   * followers ignore vote requests while they hear from a live leader (lease). Needed for
   * ReadIndex safety against a partitioned old leader.
   */
  readonly checkQuorum: boolean;
  /** Pre-vote (thesis §9.6): a partitioned replica cannot disturb the term of the others. */
  readonly preVote: boolean;
  /** Most Replicate messages in flight to one remote. */
  readonly maxInflightMsgs: number;
  /** Most entry bytes in flight to one remote; 0 for no byte limit. */
  readonly maxInflightBytes: number;
  /** Cap on the entry bytes in one Replicate message (always at least one entry). */
  readonly maxEntryBytesPerMsg: number;
  /** Cap on the bytes of committed entries in one update. */
  readonly maxApplyBytes: number;
  /**
   * Bytes of in-memory log (appended, not yet applied) beyond which proposals are refused as
   * busy; 0 disables rate limiting. Followers report their size to the leader.
   */
  readonly maxInMemLogSize: number;
  /** Each membership change names the version it expects; stale changes are rejected. */
  readonly orderedConfigChange: boolean;
  /** This replica joins as a non-voting member: receives the log, never votes or leads. */
  readonly isNonVoting: boolean;
  /** This replica is a witness: votes and receives metadata only, never leads. */
  readonly isWitness: boolean;
  /** Stop heartbeats when the shard has been idle for a while; any activity wakes it. */
  readonly quiesce: boolean;
  /**
   * This voter never starts an election: neither on election timeout nor on a leader's
   * TimeoutNow (a transfer to it is abandoned). It still votes, replicates and counts in every
   * quorum. Leader priority 0 (raft-rs and NuRaft have priorities; this is their "never lead").
   * A shard whose every voter sets it never elects a leader.
   */
  readonly neverCampaign: boolean;
  /**
   * A follower (or non-voting member, witness) drops its own client's proposals instead of
   * forwarding them to the leader (etcd's DisableProposalForwarding): they come back in the
   * update's `droppedEntries` at once. For applications that route writes to the leader
   * themselves and want a fast refusal rather than a hop. Reads and leader transfers are
   * still forwarded.
   */
  readonly disableProposalForwarding: boolean;
  /**
   * The leader refuses a membership change that adds a voting member, or takes a live one
   * away, when the configuration it produces would not have a quorum of live voting members
   * (etcd's `--strict-reconfig-check`; see `live-quorum.ts`). A proposal made with the force
   * hint ({@link PROPOSE_FORCE}) skips the check. Off by default in the core (as etcd's raft
   * leaves it to its server); the NodeHost turns it on.
   */
  readonly strictMembershipCheck: boolean;
  /** Random source for election timeouts; seeded in tests so runs replay exactly. */
  readonly random: RandomSource;
  /**
   * The host may take the next update before the last one's write completed (etcd's async
   * storage writes): `Peer.getUpdate` may be called again before `Peer.commit`, updates are
   * committed in the order taken, and committed entries are handed out only once persisted
   * here. Off: one update at a time, and committed entries may be among the same update's
   * entries to save (the host applies them after persisting).
   */
  readonly asyncStorageWrites: boolean;
  /**
   * How the leader confirms it still leads before serving a linearizable read.
   * `'read-index'` (default): a round of heartbeats acknowledged by a quorum per batch of
   * reads (thesis §6.4). `'lease'`: reads are answered at once while the leader's lease is
   * valid (thesis §6.4.1, etcd's ReadOnlyLeaseBased), falling back to ReadIndex otherwise.
   * The lease rests on bounded clock drift between replicas (`leaseDriftTicks`); see
   * `lease.ts`. Requires `checkQuorum`. Every replica of a shard must use the same mode: a
   * follower in lease mode also refuses to vote during its first election timeout after a
   * start, which the leader's lease counts on.
   */
  readonly readMode: ReadMode;
  /**
   * Lease mode only: the most ticks by which any replica's clock may run ahead of the
   * leader's over one election timeout (clock-rate drift and timer jitter). The lease lasts
   * `electionTicks − 1 − leaseDriftTicks` ticks from the send tick of the newest heartbeat
   * round a quorum acknowledged; it must be at least 1.
   */
  readonly leaseDriftTicks: number;
}

/** How a leader confirms a linearizable read; see {@link RaftConfig.readMode}. */
export type ReadMode = 'read-index' | 'lease';

/** Defaults for every optional field. */
export const RAFT_DEFAULTS = {
  /** Default of {@link RaftConfig.electionTicks}. */
  electionTicks: 10,
  /** Default of {@link RaftConfig.heartbeatTicks}. */
  heartbeatTicks: 1,
  /** Default of {@link RaftConfig.checkQuorum}. */
  checkQuorum: true,
  /** Default of {@link RaftConfig.preVote}. */
  preVote: true,
  /** Default of {@link RaftConfig.maxInflightMsgs}. */
  maxInflightMsgs: 256,
  /** Default of {@link RaftConfig.maxInflightBytes}. */
  maxInflightBytes: 32 * 1024 * 1024,
  /** Default of {@link RaftConfig.maxEntryBytesPerMsg}. */
  maxEntryBytesPerMsg: 4 * 1024 * 1024,
  /** Default of {@link RaftConfig.maxApplyBytes}. */
  maxApplyBytes: 64 * 1024 * 1024,
  /** Default of {@link RaftConfig.maxInMemLogSize}. */
  maxInMemLogSize: 0,
  /** Default of {@link RaftConfig.orderedConfigChange}. */
  orderedConfigChange: false,
  /** Default of {@link RaftConfig.isNonVoting}. */
  isNonVoting: false,
  /** Default of {@link RaftConfig.isWitness}. */
  isWitness: false,
  /** Default of {@link RaftConfig.quiesce}. */
  quiesce: false,
  /** Default of {@link RaftConfig.neverCampaign}. */
  neverCampaign: false,
  /** Default of {@link RaftConfig.disableProposalForwarding}. */
  disableProposalForwarding: false,
  /** Default of {@link RaftConfig.strictMembershipCheck}. */
  strictMembershipCheck: false,
  /** Default of {@link RaftConfig.asyncStorageWrites}. */
  asyncStorageWrites: false,
  /** Default of {@link RaftConfig.readMode}. */
  readMode: 'read-index',
  /** Default of {@link RaftConfig.leaseDriftTicks}. */
  leaseDriftTicks: 1,
} as const;

/** Fields a caller must give; the rest default from {@link RAFT_DEFAULTS}. */
export type RaftConfigInput = Partial<RaftConfig> & Pick<RaftConfig, 'shardId' | 'replicaId' | 'random'>;

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidOptionError(`${name} must be a positive integer, got ${v}`);
}

function nonNegativeInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidOptionError(`${name} must be a non-negative integer, got ${v}`);
}

/**
 * Fills defaults and validates.
 * @throws InvalidOptionError naming the first invalid field.
 */
export function resolveRaftConfig(input: RaftConfigInput): RaftConfig {
  const c: RaftConfig = { ...RAFT_DEFAULTS, ...input };
  positiveInt('shardId', c.shardId);
  positiveInt('replicaId', c.replicaId);
  positiveInt('heartbeatTicks', c.heartbeatTicks);
  positiveInt('electionTicks', c.electionTicks);
  if (c.electionTicks <= 2 * c.heartbeatTicks) {
    throw new InvalidOptionError(`electionTicks (${c.electionTicks}) must be greater than 2 × heartbeatTicks (${c.heartbeatTicks})`);
  }
  positiveInt('maxInflightMsgs', c.maxInflightMsgs);
  nonNegativeInt('maxInflightBytes', c.maxInflightBytes);
  positiveInt('maxEntryBytesPerMsg', c.maxEntryBytesPerMsg);
  positiveInt('maxApplyBytes', c.maxApplyBytes);
  nonNegativeInt('maxInMemLogSize', c.maxInMemLogSize);
  if (c.maxInflightBytes > 0 && c.maxInflightBytes < c.maxEntryBytesPerMsg) {
    throw new InvalidOptionError('maxInflightBytes must be 0 or at least maxEntryBytesPerMsg');
  }
  if (c.isNonVoting && c.isWitness) throw new InvalidOptionError('a replica cannot be both non-voting and a witness');
  validateReadMode(c);
  if (typeof c.random?.intn !== 'function') throw new InvalidOptionError('random must provide intn(n)');
  return c;
}

function validateReadMode(c: RaftConfig): void {
  if (c.readMode !== 'read-index' && c.readMode !== 'lease') {
    throw new InvalidOptionError(`readMode must be 'read-index' or 'lease', got '${String(c.readMode)}'`);
  }
  nonNegativeInt('leaseDriftTicks', c.leaseDriftTicks);
  if (c.readMode !== 'lease') return;
  if (!c.checkQuorum) throw new InvalidOptionError("readMode 'lease' requires checkQuorum (the followers' lease is what makes it safe)");
  if (leaseTicks(c) < 1) {
    throw new InvalidOptionError(`leaseDriftTicks (${c.leaseDriftTicks}) leaves no lease: it must be less than electionTicks − 1 (${c.electionTicks - 1})`);
  }
}

/**
 * How many ticks a leader's lease lasts from the send tick of the heartbeat round that
 * renewed it: `electionTicks − 1 − leaseDriftTicks`. One tick for tick granularity (a
 * follower that received the heartbeat just before one of its ticks counts that fraction as
 * a whole tick), `leaseDriftTicks` for clock drift. May be below 1 for an invalid config.
 */
export function leaseTicks(c: Pick<RaftConfig, 'electionTicks' | 'leaseDriftTicks'>): number {
  return c.electionTicks - 1 - c.leaseDriftTicks;
}
