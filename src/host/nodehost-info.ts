/**
 * What `NodeHost.getNodeHostInfo` and `getLeaderId` report: the public shapes, and how one
 * replica's state is read into them.
 */
import type { Membership } from '../core/types.js';
import type { QuorumHealth } from '../core/quorum-health.js';
import { Role } from '../core/raft.js';
import { formatClusterId } from './cluster-identity.js';
import type { Replica } from './replica.js';
import type { HostFailure } from './fail-stop.js';
import { stateHashOf, type StateHash } from './state-hash.js';
import type { ReplicaId, ShardId } from '../contracts/ids.js';

/** Who leads a shard, as this host knows it. */
export interface LeaderInfo {
  /** The leader's replica id; 0 while no leader is known. */
  readonly leaderId: ReplicaId;
  /** The term the leader was learned in. */
  readonly term: number;
  /** False while no leader is known. */
  readonly valid: boolean;
}

/** One replica's state, for `getNodeHostInfo`. */
export interface ReplicaInfo {
  /** The shard id. */
  readonly shardId: ShardId;
  /** This host's replica of the shard. */
  readonly replicaId: ReplicaId;
  /** The known leader's replica id; 0 for none. */
  readonly leaderId: ReplicaId;
  /** The replica's current term. */
  readonly term: number;
  /** Whether this replica is the leader. */
  readonly isLeader: boolean;
  /** The replica's role name (`follower`, `leader`, `non-voting`, `witness`, …; see `RoleName` in `sampan/core`). */
  readonly role: string;
  /** The highest index known committed. */
  readonly commitIndex: number;
  /** The highest index the state machine has applied. */
  readonly appliedIndex: number;
  /** The index of the newest snapshot on disk; 0 for none. */
  readonly snapshotIndex: number;
  /** The first index still in the log. */
  readonly firstLogIndex: number;
  /** The last index in the log. */
  readonly lastLogIndex: number;
  /** The shard's membership as this replica knows it. */
  readonly membership: Membership;
  /**
   * On the leader: which voting members it heard from within the last election timeout and
   * how many more may fail before the shard loses its quorum. Null on other replicas.
   */
  readonly quorum: QuorumHealth | null;
  /** The shard's cluster identity (12 hex digits; `unknown` until a joining replica learns it). */
  readonly clusterId: string;
  /** Why this replica stopped serving the shard (another cluster lists it as a member), or null. */
  readonly identityConflict: string | null;
  /** Messages refused for another cluster identity, and peers' notices refusing ours, since start. */
  readonly identityMismatches: number;
  /** Whether this replica learned that it was removed from the shard (it serves no requests; stop it and remove its data). */
  readonly removed: boolean;
  /** Why the replica stopped serving (its state machine or its snapshot storage failed), or null. */
  readonly failure: string | null;
  /**
   * On the leader: how far each other member has replicated (etcd's `Progress`), sorted by
   * replica id. Empty on other replicas.
   */
  readonly followers: readonly FollowerProgress[];
  /**
   * The state machine's hash at the newest `verifyShard` marker applied here, or null (none
   * applied since start, or no `getHash`). Replicas agree when equal indexes carry equal hashes.
   */
  readonly stateHash: StateHash | null;
}

/** How far the leader has replicated to one member (see {@link ReplicaInfo.followers}). */
export interface FollowerProgress {
  /** The member's replica id. */
  readonly replicaId: number;
  /** The highest index known to be in that member's log. */
  readonly match: number;
  /** The next index the leader sends it. */
  readonly next: number;
  /** `probe` (finding its position), `replicate` (streaming) or `snapshot` (a snapshot is being sent). */
  readonly state: 'probe' | 'replicate' | 'snapshot';
  /** Replicate messages sent to it and not yet acknowledged (bounded by the in-flight window). */
  readonly inflightMsgs: number;
  /** Entry bytes in those messages. */
  readonly inflightBytes: number;
}

const STATE_NAMES = ['probe', 'replicate', 'snapshot'] as const;

/** The host and the replicas it runs. */
export interface NodeHostInfo {
  /** The address other hosts reach this one at (the configured `raftAddress`). */
  readonly raftAddress: string;
  /**
   * This host's stable id (16 hex digits; dragonboat's NodeHostID): made at its first start,
   * kept in its directory, unchanged when the host moves to another address. Membership may
   * name the host as `nhid-<nodeHostId>` (with the TCP transport).
   */
  readonly nodeHostId: string;
  /** Every replica this host runs, one entry each. */
  readonly shards: readonly ReplicaInfo[];
  /** Why the host stopped by itself (its WAL failed: see fail-stop.ts), or null while it runs or after a normal close. */
  readonly failure: HostFailure | null;
}

/** One replica's state as {@link ReplicaInfo} (no I/O). */
export function replicaInfo(r: Replica): ReplicaInfo {
  const st = r.peer.status();
  return {
    shardId: r.shardId, replicaId: r.replicaId, leaderId: st.leaderId, term: st.term,
    isLeader: r.peer.role === Role.Leader, role: st.role, commitIndex: st.commit,
    appliedIndex: r.rsm.lastApplied, snapshotIndex: r.reader.snapshot().index,
    firstLogIndex: r.reader.firstIndex(), lastLogIndex: st.lastIndex, membership: r.rsm.membership,
    quorum: st.quorum, clusterId: formatClusterId(r.clusterId),
    identityConflict: r.identityConflict?.message ?? null, identityMismatches: r.counters.identityMismatches, removed: r.removed,
    failure: r.failure?.message ?? null,
    followers: [...st.progress].filter(([id]) => id !== r.replicaId).sort(([a], [b]) => a - b)
      .map(([replicaId, p]) => ({
        replicaId, match: p.match, next: p.next, state: STATE_NAMES[p.state] ?? 'probe', inflightMsgs: p.inflightMsgs, inflightBytes: p.inflightBytes,
      })),
    stateHash: stateHashOf(r),
  };
}
