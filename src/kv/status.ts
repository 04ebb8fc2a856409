/**
 * `GET /status`: this replica's identity and, per shard, what `getNodeHostInfo` reports, in
 * the JSON shape of the contract (membership maps keyed by replica id as strings).
 */
import type { FollowerProgress, Membership, NodeHost, QuorumHealth, StateHash } from '../index.js';

/** A membership as JSON. */
export interface MembershipJson {
  readonly version: number;
  readonly voters: Record<string, string>;
  readonly nonVoting: Record<string, string>;
  readonly witnesses: Record<string, string>;
  readonly removed: number[];
  /** Only while the shard is in a joint configuration: its outgoing half. */
  readonly joint?: { readonly outgoing: Record<string, string>; readonly nonVotingNext: Record<string, string>; readonly autoLeave: boolean };
}

/** One shard in the status. */
export interface ShardStatusJson {
  readonly shardId: number;
  readonly replicaId: number;
  readonly leaderId: number;
  readonly term: number;
  readonly isLeader: boolean;
  readonly role: string;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly snapshotIndex: number;
  readonly firstLogIndex: number;
  readonly lastLogIndex: number;
  readonly membership: MembershipJson;
  /**
   * The quorum-health view (an addition to the contract's fields): on the leader, which voting
   * members it heard from within the last election timeout (`active`, `lost`) and
   * `failuresToLoss` (1: the next failure loses the quorum); null on other replicas.
   */
  readonly quorum: QuorumHealth | null;
  /**
   * The shard's cluster identity (12 hex digits; `unknown` until a joining replica learns it),
   * why this replica stopped serving the shard when another cluster lists it as a member
   * (`identityConflict`, null while it serves), and how many messages were refused for another
   * identity (`identityMismatches`). Additions to the contract's fields.
   */
  readonly clusterId: string;
  readonly identityConflict: string | null;
  readonly identityMismatches: number;
  /** Whether this replica learned it was removed from the shard (it answers 503 REPLICA_REMOVED). An addition. */
  readonly removed: boolean;
  /** On the leader, each other member's replication progress (match, next, state, in flight); empty elsewhere. An addition. */
  readonly followers: readonly FollowerProgress[];
  /**
   * The state machine's hash at the newest `POST /admin/verify` marker this replica applied
   * (`{index, hash}`, 16 hex digits), or null. Replicas agree when equal indexes carry equal
   * hashes. An addition.
   */
  readonly stateHash: StateHash | null;
  /**
   * This replica's counters since its process started (an addition to the contract's
   * fields, for the dashboard's snapshot activity): proposals, elections, snapshots.
   */
  readonly activity: ShardActivityJson;
}

/** Per-replica counters of one shard, from `NodeHost.getStats()` (no I/O). */
export interface ShardActivityJson {
  readonly proposals: number;
  readonly proposalsDropped: number;
  readonly campaigns: number;
  readonly snapshotsTaken: number;
  readonly snapshotsSent: number;
  readonly snapshotSendFailures: number;
  readonly snapshotsReceived: number;
  readonly snapshotsRecovered: number;
}

const NO_ACTIVITY: ShardActivityJson = {
  proposals: 0, proposalsDropped: 0, campaigns: 0, snapshotsTaken: 0, snapshotsSent: 0,
  snapshotSendFailures: 0, snapshotsReceived: 0, snapshotsRecovered: 0,
};

/** The whole status document. */
export interface StatusJson {
  readonly replicaId: number;
  readonly raftAddress: string;
  /** The host's stable id (see `NodeHostInfo.nodeHostId`). */
  readonly nodeHostId: string;
  readonly httpAddress: string;
  readonly shards: ShardStatusJson[];
}

function record(m: ReadonlyMap<number, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, addr] of [...m].sort((a, b) => a[0] - b[0])) out[String(id)] = addr;
  return out;
}

/** A membership in the contract's JSON form. */
export function membershipJson(m: Membership): MembershipJson {
  return {
    version: m.configChangeId,
    voters: record(m.voters),
    nonVoting: record(m.nonVoting),
    witnesses: record(m.witnesses),
    removed: [...m.removed].sort((a, b) => a - b),
    ...(m.joint === undefined ? {} : { joint: { outgoing: record(m.joint.outgoing), nonVotingNext: record(m.joint.nonVotingNext), autoLeave: m.joint.autoLeave } }),
  };
}

/** The status of `host`, which runs replica `replicaId` and serves HTTP at `httpAddress`. */
export function statusOf(host: NodeHost, replicaId: number, httpAddress: string): StatusJson {
  const info = host.getNodeHostInfo();
  const stats = new Map(host.getStats().shards.map((c) => [c.shardId, c] as const));
  const activity = (shardId: number): ShardActivityJson => {
    const c = stats.get(shardId);
    if (c === undefined) return NO_ACTIVITY;
    return {
      proposals: c.proposals, proposalsDropped: c.proposalsDropped, campaigns: c.campaigns,
      snapshotsTaken: c.snapshotsTaken, snapshotsSent: c.snapshotsSent, snapshotSendFailures: c.snapshotSendFailures,
      snapshotsReceived: c.snapshotsReceived, snapshotsRecovered: c.snapshotsRecovered,
    };
  };
  return {
    replicaId,
    raftAddress: info.raftAddress,
    nodeHostId: info.nodeHostId,
    httpAddress,
    shards: [...info.shards].sort((a, b) => a.shardId - b.shardId).map((s) => ({
      shardId: s.shardId, replicaId: s.replicaId, leaderId: s.leaderId, term: s.term, isLeader: s.isLeader,
      role: s.role, commitIndex: s.commitIndex, appliedIndex: s.appliedIndex, snapshotIndex: s.snapshotIndex,
      firstLogIndex: s.firstLogIndex, lastLogIndex: s.lastLogIndex, membership: membershipJson(s.membership),
      quorum: s.quorum, clusterId: s.clusterId, identityConflict: s.identityConflict,
      identityMismatches: s.identityMismatches, removed: s.removed, followers: s.followers, stateHash: s.stateHash, activity: activity(s.shardId),
    })),
  };
}
