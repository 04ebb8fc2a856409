/**
 * The counters a NodeHost exposes for metrics (`NodeHost.getStats`): cheap integers the host
 * keeps anyway, read at scrape time. Every count is monotonic since the replica (or the host)
 * started; a restarted replica starts again from zero, as Prometheus counters may.
 */
import { WalLogDB, type WalStats } from '../logdb/wal-log-db.js';
import type { LogDB } from '../contracts/log-db.js';
import type { RemoteStats, Transport, TransportStats } from '../contracts/transport.js';
import type { EngineStats } from './engine.js';
import type { Replica } from './replica.js';
import type { ReplicaCounters } from './replica-counters.js';
import type { PlacementStats } from './leader-balancer.js';
import type { EventLoopStats, GcStats, LoopMonitorHandle } from './loop-monitor.js';
import type { HostFailure } from './fail-stop.js';

/** One replica's counters. */
export interface ShardStats extends Readonly<ReplicaCounters> {
  /** The shard id. */
  readonly shardId: number;
  /** This host's replica of the shard. */
  readonly replicaId: number;
  /** Elections this replica started (one per attempt, whether or not it began with a pre-vote round). */
  readonly campaigns: number;
}

/** Everything a NodeHost counts. */
export interface NodeHostStats {
  /** What the engine did: passes, updates, LogDB batches, messages. */
  readonly engine: Readonly<EngineStats>;
  /** The default write-ahead log's counters; null with another LogDB. */
  readonly logdb: WalStats | null;
  /** The transport's counters. */
  readonly transport: TransportStats;
  /** Per remote host, when the transport reports it (TCP does); empty otherwise. */
  readonly remotes: readonly RemoteStats[];
  /** One entry per replica this host runs. */
  readonly shards: readonly ShardStats[];
  /** Leader transfers made for leader priority and balancing (leader-balancer.ts). */
  readonly placement: Readonly<PlacementStats>;
  /**
   * The process's event-loop delay over the last 30 to 60 seconds (`loop-monitor.ts`): shared
   * by every host of the process, so equal in each one's stats. Zeros once the host is closed.
   */
  readonly eventLoop: EventLoopStats;
  /** The process's GC pauses by kind: counts and time since the first host started, longest over the event-loop window. */
  readonly gc: GcStats;
  /** Why the host stopped by itself (its WAL failed: see fail-stop.ts), or null. */
  readonly failure: HostFailure | null;
}

/** Reads a host's counters from its parts (no I/O). */
export function hostStats(parts: {
  engine: Readonly<EngineStats>; logdb: LogDB; transport: Transport; replicas: Iterable<Replica>; placement: Readonly<PlacementStats>;
  loop: LoopMonitorHandle;
  failure: HostFailure | null;
}): NodeHostStats {
  const { eventLoop, gc } = parts.loop.read();
  return {
    engine: { ...parts.engine },
    logdb: parts.logdb instanceof WalLogDB ? parts.logdb.stats() : null,
    transport: parts.transport.stats(),
    remotes: parts.transport.remoteStats?.() ?? [],
    shards: [...parts.replicas].map((r) => ({
      shardId: r.shardId, replicaId: r.replicaId, campaigns: r.peer.status().campaigns, ...r.counters,
    })),
    placement: { ...parts.placement },
    eventLoop, gc,
    failure: parts.failure,
  };
}
