/** The per-replica counters a host reports in `getStats()` and the KV service in `/metrics`. */

/** Monotonic counters of one replica since it started on this host, for metrics. */
export interface ReplicaCounters {
  /** Proposals (session registrations included) accepted by this replica for replication. */
  proposals: number;
  /** Proposals the protocol refused (leader transfer, rate limit, pending config change, witness). */
  proposalsDropped: number;
  /**
   * Proposals and membership changes proposed again after a leader change, once known never
   * to commit in the term they were first proposed in (see `pending-proposals.ts`).
   */
  proposalsReforwarded: number;
  /**
   * Linearizable reads the protocol refused (leadership lost before they were confirmed); they
   * are sent again to the next leader, except on a witness, where they fail.
   */
  readsDropped: number;
  /** Linearizable reads sent again because their ReadIndex went unanswered for an election timeout (a lost message). */
  readsResent: number;
  /** Snapshots taken here (exported ones included). */
  snapshotsTaken: number;
  /** Snapshot streams to followers that completed. */
  snapshotsSent: number;
  /** Snapshot streams to followers that failed. */
  snapshotSendFailures: number;
  /** Snapshots received from the leader and committed. */
  snapshotsReceived: number;
  /** State machine recoveries from a snapshot (at restart, or from one received). */
  snapshotsRecovered: number;
  /** Messages refused because they came from another cluster identity, and peers' notices that they refused ours. */
  identityMismatches: number;
}

/** A fresh set of counters, all zero. */
export function newReplicaCounters(): ReplicaCounters {
  return {
    proposals: 0, proposalsDropped: 0, proposalsReforwarded: 0, readsDropped: 0, readsResent: 0, snapshotsTaken: 0, snapshotsSent: 0,
    snapshotSendFailures: 0, snapshotsReceived: 0, snapshotsRecovered: 0, identityMismatches: 0,
  };
}
