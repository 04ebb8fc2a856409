/** What each replica is given of its host: the callbacks that turn its news into events, addresses and work. */
import type { ResolvedHostConfig } from './config.js';
import type { TypedEmitter } from './events.js';
import type { LeaderTransfers } from './leadership.js';
import type { Replica, ReplicaHost } from './replica.js';

/** The parts of a NodeHost a replica's callbacks reach. */
export interface ReplicaHostDeps {
  readonly cfg: ResolvedHostConfig;
  readonly events: TypedEmitter;
  readonly transfers: LeaderTransfers;
  setReady(r: Replica): void;
  setAddress(shardId: number, replicaId: number, address: string): void;
  removeAddress(shardId: number, replicaId: number): void;
  runSnapshotWork(work: () => Promise<void>): void;
}

/** The {@link ReplicaHost} of a NodeHost's replicas. */
export function replicaHostOf(h: ReplicaHostDeps): ReplicaHost {
  return {
    logger: h.cfg.logger,
    maxPending: h.cfg.maxPendingPerShard,
    notifyCommit: h.cfg.notifyCommit,
    rttMillisecond: h.cfg.rttMillisecond,
    setReady: h.setReady,
    membershipChanged: (r, m) => {
      for (const [id, addr] of [...m.voters, ...m.nonVoting, ...m.witnesses]) h.setAddress(r.shardId, id, addr);
      for (const id of m.removed) h.removeAddress(r.shardId, id);
      h.events.emit('membership:changed', { shardId: r.shardId, replicaId: r.replicaId, membership: m });
    },
    failed: (r, error) => h.events.emit('replica:failed', { shardId: r.shardId, replicaId: r.replicaId, error }),
    softState: (r, leaderId, term) => {
      h.transfers.leaderChanged(r, leaderId, term);
      h.events.emit('leader:updated', { shardId: r.shardId, replicaId: r.replicaId, leaderId, term });
    },
    runSnapshotWork: h.runSnapshotWork,
    snapshotCreated: (r, index, exported) => h.events.emit('snapshot:created', { shardId: r.shardId, replicaId: r.replicaId, index, exported }),
    snapshotRecovered: (r, index) => h.events.emit('snapshot:recovered', { shardId: r.shardId, replicaId: r.replicaId, index }),
  };
}
