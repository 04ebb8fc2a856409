/** What each replica is given of its host: the callbacks that turn its news into events, addresses and work. */
import type { ApplyBudget } from './apply-budget.js';
import type { Membership } from '../core/types.js';
import type { Logger } from '../logger.js';
import type { StorageError } from '../errors.js';
import type { ResolvedHostConfig } from './config.js';
import type { TypedEmitter } from './events.js';
import type { LeaderTransfers } from './leadership.js';
import type { Replica } from './replica.js';
import type { SnapshotScheduler, SnapshotWorkKind } from './snapshot-scheduler.js';
import type { Runtime } from '../runtime/index.js';
import type { Deadlines } from './deadlines.js';

/** What the replica needs from its host. */
export interface ReplicaHost {
  readonly logger: Logger;
  /** The host's runtime: clock, timers, randomness and file system for the replica's parts. */
  readonly runtime: Runtime;
  /** The host's request deadlines (one timer for every pending request). */
  readonly deadlines: Deadlines;
  /** The replica has work for the engine. */
  setReady(r: Replica): void;
  /** Membership changed (addresses to the transport, an event to observers). */
  membershipChanged(r: Replica, m: Membership): void;
  /** The replica stopped because its state machine failed. */
  failed(r: Replica, err: Error): void;
  /** The replica's own storage failed (a snapshot save): stop it, or the host (fail-stop.ts). */
  storageFailed(r: Replica, err: StorageError): void;
  /** The replica learnt of a new leader or term. */
  softState(r: Replica, leaderId: number, term: number): void;
  readonly maxPending: number;
  readonly notifyCommit: boolean;
  /** Milliseconds per tick (the host's `rttMillisecond`). */
  readonly rttMillisecond: number;
  /** The host's apply budget: every replica's `update` calls share one slice per event-loop turn (`apply-budget.ts`). */
  readonly applyBudget: ApplyBudget;
  /**
   * Runs snapshot work of `r` on the engine's snapshot workers (bounded, and never beside other
   * snapshot work of the same shard); settles as `work` does. Work not started when `r` stops
   * rejects with ClosedError.
   */
  snapshotWork<T>(r: Replica, kind: SnapshotWorkKind, work: () => Promise<T>): Promise<T>;
  /** A snapshot was created (or exported). */
  snapshotCreated(r: Replica, index: number, exported: boolean): void;
  /** The state machine was recovered from a snapshot received from the leader. */
  snapshotRecovered(r: Replica, index: number): void;
}

/** The parts of a NodeHost a replica's callbacks reach. */
export interface ReplicaHostDeps {
  readonly cfg: ResolvedHostConfig;
  readonly events: TypedEmitter;
  readonly transfers: LeaderTransfers;
  /** The engine's snapshot workers. */
  readonly snapshots: SnapshotScheduler;
  /** The engine's apply budget. */
  readonly applyBudget: ApplyBudget;
  /** The host's request deadlines. */
  readonly deadlines: Deadlines;
  setReady(r: Replica): void;
  setAddress(shardId: number, replicaId: number, address: string): void;
  removeAddress(shardId: number, replicaId: number): void;
  /** See {@link ReplicaHost.storageFailed}. */
  storageFailed(r: Replica, err: StorageError): void;
}

/** The {@link ReplicaHost} of a NodeHost's replicas. */
export function replicaHostOf(h: ReplicaHostDeps): ReplicaHost {
  return {
    logger: h.cfg.logger,
    runtime: h.cfg.runtime,
    deadlines: h.deadlines,
    maxPending: h.cfg.maxPendingPerShard,
    notifyCommit: h.cfg.notifyCommit,
    rttMillisecond: h.cfg.rttMillisecond,
    applyBudget: h.applyBudget,
    setReady: h.setReady,
    membershipChanged: (r, m) => {
      for (const [id, addr] of [...m.voters, ...m.nonVoting, ...m.witnesses, ...(m.joint?.outgoing ?? [])]) h.setAddress(r.shardId, id, addr);
      for (const id of m.removed) h.removeAddress(r.shardId, id);
      h.events.emit('membership:changed', { shardId: r.shardId, replicaId: r.replicaId, membership: m });
    },
    failed: (r, error) => h.events.emit('replica:failed', { shardId: r.shardId, replicaId: r.replicaId, error }),
    storageFailed: h.storageFailed,
    softState: (r, leaderId, term) => {
      h.transfers.leaderChanged(r, leaderId, term);
      h.events.emit('leader:updated', { shardId: r.shardId, replicaId: r.replicaId, leaderId, term });
    },
    snapshotWork: (r, kind, work) => h.snapshots.run(r.shardId, kind, work, r.abort.signal),
    snapshotCreated: (r, index, exported) => h.events.emit('snapshot:created', { shardId: r.shardId, replicaId: r.replicaId, index, exported }),
    snapshotRecovered: (r, index) => h.events.emit('snapshot:recovered', { shardId: r.shardId, replicaId: r.replicaId, index }),
  };
}
