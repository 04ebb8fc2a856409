/**
 * `GET /status`: this replica's identity and, per shard, what `getNodeHostInfo` reports, in
 * the JSON shape of the contract (membership maps keyed by replica id as strings).
 */
import type { EventLoopStats, GcStats, Membership, NodeHost, ReplicaInfo } from '../index.js';

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

/**
 * One shard in the status: what `getNodeHostInfo` reports for it (see `ReplicaInfo`; beyond
 * the contract's fields: `quorum`, the cluster identity fields, `removed`, `followers`,
 * `stateHash`), with the membership in its JSON form and this replica's counters (`activity`,
 * for the dashboard's snapshot activity).
 */
export type ShardStatusJson = Omit<ReplicaInfo, 'membership'> & {
  readonly membership: MembershipJson;
  readonly activity: ShardActivityJson;
};

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
  /** The process's event-loop delay over the last 30 to 60 s (`NodeHostStats.eventLoop`). */
  readonly eventLoop: EventLoopStats;
  /** The process's GC pauses by kind (`NodeHostStats.gc`). */
  readonly gc: GcStats;
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
  const hostStats = host.getStats();
  const stats = new Map(hostStats.shards.map((c) => [c.shardId, c] as const));
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
    shards: [...info.shards].sort((a, b) => a.shardId - b.shardId)
      .map((s) => ({ ...s, membership: membershipJson(s.membership), activity: activity(s.shardId) })),
    eventLoop: hostStats.eventLoop,
    gc: hostStats.gc,
  };
}
