/**
 * Prometheus metrics for a NodeHost, with prom-client. The host knows nothing of prom-client:
 * counters and indexes are read from `getNodeHostInfo()` / `getStats()` when the registry is
 * scraped (the `collect()` callbacks), and the histograms are fed by the host's measurement
 * seam (`NodeHost.observe`). A host never attached pays nothing: this module is not even
 * loaded (it is the `sampan/metrics` entry point, not part of `sampan`).
 *
 * Names: `sampan_shard_*` per replica (labels `shard`, `replica`), `sampan_engine_*`,
 * `sampan_logdb_*`, `sampan_wal_*`, `sampan_leader_placement_*`, `sampan_transport_*` per host,
 * `sampan_transport_remote_*` per remote host (label `remote`), and the process's
 * `sampan_event_loop_delay_*` and `sampan_gc_*` (label `kind`; the same in every host's registry). README "Observability" lists
 * them. One NodeHost per registry: the names carry no host label (add one with
 * `registry.setDefaultLabels`).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { InvalidOperationError } from '../errors.js';
import type { NodeHost, NodeHostInfo, ReplicaInfo } from '../index.js';
import type { NodeHostStats, ShardStats } from '../host/stats.js';
import type { GcKindStats } from '../host/loop-monitor.js';
import type { RemoteStats } from '../contracts/transport.js';

/** Options of {@link attachMetrics}. */
export interface MetricsOptions {
  /** Where the metrics are registered. Required: sampan never touches prom-client's global registry. */
  readonly registry: Registry;
}

/** What {@link attachMetrics} returns. */
export interface AttachedMetrics {
  /** The metric names registered. */
  readonly names: readonly string[];
  /** Removes the metrics from the registry and stops observing the host. Idempotent. */
  detach(): void;
}

type Labels = Record<string, string>;
/** One scrape's view of the host, taken once and shared by every metric of that scrape. */
interface Sample {
  readonly info: NodeHostInfo;
  readonly stats: NodeHostStats;
  readonly byShard: ReadonlyMap<number, ShardStats>;
}

type ShardGauge = readonly [name: string, help: string, get: (s: ReplicaInfo) => number | null];
type ShardCounter = readonly [name: string, help: string, get: (s: ShardStats) => number];
type HostMetric = readonly [name: string, help: string, get: (s: NodeHostStats) => number | null];
type RemoteMetric = readonly [name: string, help: string, get: (r: RemoteStats) => number];

/** Per replica, from getNodeHostInfo(). The first nine are the KV service's original names. */
const SHARD_GAUGES: readonly ShardGauge[] = [
  ['sampan_shard_leader_id', 'Leader replica id as this replica knows it (0: none).', (s) => s.leaderId],
  ['sampan_shard_term', 'Current Raft term.', (s) => s.term],
  ['sampan_shard_is_leader', '1 when this replica leads the shard.', (s) => (s.isLeader ? 1 : 0)],
  ['sampan_shard_commit_index', 'Highest committed log index known here.', (s) => s.commitIndex],
  ['sampan_shard_applied_index', 'Highest log index applied to the state machine.', (s) => s.appliedIndex],
  ['sampan_shard_snapshot_index', 'Index of the newest local snapshot.', (s) => s.snapshotIndex],
  ['sampan_shard_first_log_index', 'First log index still held.', (s) => s.firstLogIndex],
  ['sampan_shard_last_log_index', 'Last log index held.', (s) => s.lastLogIndex],
  ['sampan_shard_voters', 'Voting members of the shard.', (s) => s.membership.voters.size],
  ['sampan_shard_has_leader', '1 when this replica knows a leader of the shard.', (s) => (s.leaderId !== 0 ? 1 : 0)],
  ['sampan_shard_log_entries', 'Entries held in the log (last minus first log index, plus one).',
    (s) => Math.max(0, s.lastLogIndex - s.firstLogIndex + 1)],
  ['sampan_shard_quorum_active', 'Leader only: voting members heard from within the last election timeout, itself included.',
    (s) => s.quorum?.active.length ?? null],
  ['sampan_shard_quorum_lost', 'Leader only: voting members not heard from within the last election timeout.',
    (s) => s.quorum?.lost.length ?? null],
  ['sampan_shard_quorum_failures_to_loss', 'Leader only: further voter failures that lose the quorum (1: the next one; 0: lost).',
    (s) => s.quorum?.failuresToLoss ?? null],
  ['sampan_shard_identity_conflict', '1 when this replica stopped serving because a cluster of another identity lists it as a member.',
    (s) => (s.identityConflict !== null ? 1 : 0)],
];

/** Per replica, from getStats(): monotonic since the replica started on this host. */
const SHARD_COUNTERS: readonly ShardCounter[] = [
  ['sampan_shard_proposals_total', 'Proposals accepted by this replica for replication.', (s) => s.proposals],
  ['sampan_shard_proposals_dropped_total', 'Proposals refused by the protocol (transfer, rate limit, pending change); the caller gets DROPPED.', (s) => s.proposalsDropped],
  ['sampan_shard_proposals_reforwarded_total', 'Proposals proposed again after a leader change, once known never to commit in their first term.', (s) => s.proposalsReforwarded],
  ['sampan_shard_reads_dropped_total', 'Linearizable reads refused because leadership was lost (sent again to the next leader).', (s) => s.readsDropped],
  ['sampan_shard_reads_resent_total', 'Linearizable reads sent again because their ReadIndex went unanswered for an election timeout (a lost message).', (s) => s.readsResent],
  ['sampan_shard_campaigns_total', 'Elections this replica started (one per attempt, whether or not it began with a pre-vote round).', (s) => s.campaigns],
  ['sampan_shard_snapshots_taken_total', 'Snapshots taken here (exported ones included).', (s) => s.snapshotsTaken],
  ['sampan_shard_snapshots_sent_total', 'Snapshot streams to followers that completed.', (s) => s.snapshotsSent],
  ['sampan_shard_snapshot_send_failures_total', 'Snapshot streams to followers that failed.', (s) => s.snapshotSendFailures],
  ['sampan_shard_snapshots_received_total', 'Snapshots received from the leader and committed.', (s) => s.snapshotsReceived],
  ['sampan_shard_snapshots_recovered_total', 'State machine recoveries from a snapshot.', (s) => s.snapshotsRecovered],
  ['sampan_shard_identity_mismatches_total', 'Messages refused because they came from another cluster identity, and peers\' notices refusing ours.', (s) => s.identityMismatches],
];

/** Per host counters (names ending in _total) and gauges; null: not reported by this host. */
const HOST_METRICS: readonly HostMetric[] = [
  ['sampan_engine_passes_total', 'Engine step passes.', (s) => s.engine.passes],
  ['sampan_engine_updates_total', 'Replica updates carried out by the engine.', (s) => s.engine.updates],
  ['sampan_engine_messages_total', 'Raft messages the engine handed to the transport.', (s) => s.engine.messagesSent],
  ['sampan_engine_bare_commits_dropped_total', 'Empty Replicates (a bare commit index) not sent because the next pass\'s Replicate carried the index.', (s) => s.engine.bareCommitsDropped],
  ['sampan_logdb_batches_total', 'LogDB batches written by the engine (one durable sync each).', (s) => s.engine.logdbBatches],
  ['sampan_wal_writes_total', 'Group commits written by the write-ahead log.', (s) => s.logdb?.writes ?? null],
  ['sampan_wal_syncs_total', 'fdatasync calls of the write-ahead log.', (s) => s.logdb?.syncs ?? null],
  ['sampan_wal_written_bytes_total', 'Bytes written to the write-ahead log.', (s) => s.logdb?.bytesWritten ?? null],
  ['sampan_wal_segments', 'Segment files of the write-ahead log.', (s) => s.logdb?.segments ?? null],
  ['sampan_wal_bytes', 'Bytes of all segment files.', (s) => s.logdb?.totalBytes ?? null],
  ['sampan_wal_live_bytes', 'Bytes of live entries in the write-ahead log.', (s) => s.logdb?.liveBytes ?? null],
  ['sampan_leader_placement_transfers_total', 'Leader transfers started for leader priority or balancing.', (s) => s.placement.transfers],
  ['sampan_leader_placement_completed_total', 'Leader placement transfers whose target took over.', (s) => s.placement.completed],
  ['sampan_leader_placement_failed_total', 'Leader placement transfers abandoned, refused or timed out.', (s) => s.placement.failed],
  ['sampan_transport_messages_sent_total', 'Messages written to the network.', (s) => s.transport.messagesSent],
  ['sampan_transport_sent_bytes_total', 'Bytes of message frames written.', (s) => s.transport.bytesSent],
  ['sampan_transport_messages_received_total', 'Messages received and delivered.', (s) => s.transport.messagesReceived],
  ['sampan_transport_received_bytes_total', 'Bytes received on inbound connections.', (s) => s.transport.bytesReceived],
  ['sampan_transport_messages_dropped_total', 'Messages not sent (no address, queue full, circuit open, connection lost).', (s) => s.transport.messagesDropped],
  ['sampan_transport_bad_frames_total', 'Inbound frames rejected.', (s) => s.transport.badFrames],
  ['sampan_transport_connection_failures_total', 'Outgoing connections that failed to open or broke (stalls included).', (s) => s.transport.connectionFailures],
  ['sampan_transport_connection_stalls_total', 'Outgoing connections closed for want of progress (a silent partition).', (s) => s.transport.connectionStalls],
  ['sampan_transport_snapshots_sent_total', 'Snapshot streams sent.', (s) => s.transport.snapshotsSent],
  ['sampan_transport_snapshots_received_total', 'Snapshot streams received.', (s) => s.transport.snapshotsReceived],
  ['sampan_transport_snapshot_failures_total', 'Snapshot streams that failed, either way.', (s) => s.transport.snapshotFailures],
  ['sampan_transport_snapshot_sent_bytes_total', 'Bytes written to outgoing snapshot streams.', (s) => s.transport.snapshotBytesSent],
  ['sampan_transport_snapshot_received_bytes_total', 'Bytes read from incoming snapshot streams.', (s) => s.transport.snapshotBytesReceived],
  // The process's event loop over the last 30 to 60 s (shared by every host of the process).
  ['sampan_event_loop_delay_p50_seconds', 'Median event-loop delay over the last 30 to 60 s (the process\'s).', (s) => s.eventLoop.p50Ms / 1000],
  ['sampan_event_loop_delay_p99_seconds', '99th percentile event-loop delay over the last 30 to 60 s.', (s) => s.eventLoop.p99Ms / 1000],
  ['sampan_event_loop_delay_p999_seconds', '99.9th percentile event-loop delay over the last 30 to 60 s.', (s) => s.eventLoop.p999Ms / 1000],
  ['sampan_event_loop_delay_max_seconds', 'Longest event-loop delay (about the longest turn) over the last 30 to 60 s.', (s) => s.eventLoop.maxMs / 1000],
  ['sampan_event_loop_delay_mean_seconds', 'Mean event-loop delay over the last 30 to 60 s.', (s) => s.eventLoop.meanMs / 1000],
];

/** The process's GC pauses per kind (label `kind`: minor, major, incremental, weakcb). */
const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;
type GcMetric = readonly [name: string, help: string, get: (g: GcKindStats) => number];
const GC_BY_KIND: readonly GcMetric[] = [
  ['sampan_gc_pauses_total', 'GC pauses of the process, by kind.', (g) => g.count],
  ['sampan_gc_pause_seconds_total', 'Time the process spent paused in GC, by kind.', (g) => g.totalMs / 1000],
  ['sampan_gc_pause_max_seconds', 'Longest GC pause of the process over the last 30 to 60 s, by kind.', (g) => g.maxMs / 1000],
];

/** Per remote host (label `remote`), from the transport's remoteStats(). */
const REMOTE_METRICS: readonly RemoteMetric[] = [
  ['sampan_transport_remote_connected', '1 while the message connection to the remote is up and answering.', (r) => (r.connected ? 1 : 0)],
  ['sampan_transport_remote_messages_sent_total', 'Messages written to the remote.', (r) => r.messagesSent],
  ['sampan_transport_remote_sent_bytes_total', 'Bytes of message frames written to the remote.', (r) => r.bytesSent],
  ['sampan_transport_remote_messages_dropped_total', 'Messages to the remote not sent.', (r) => r.messagesDropped],
  ['sampan_transport_remote_connection_failures_total', 'Connections to the remote that failed to open or broke (stalls included).', (r) => r.connectionFailures],
  ['sampan_transport_remote_connection_stalls_total', 'Connections to the remote closed for want of progress (a silent partition).', (r) => r.connectionStalls],
];

const SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const COUNTS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

const shardLabels = (shardId: number, replicaId: number): Labels => ({ shard: String(shardId), replica: String(replicaId) });

/**
 * Registers sampan's metrics for `host` in `options.registry` and starts feeding its
 * histograms. Values are read from the host at scrape time; nothing runs between scrapes
 * except the histogram observations (one per engine pass, LogDB batch and WAL sync).
 * @throws InvalidOperationError when the registry already holds sampan metrics (one host per registry).
 */
export function attachMetrics(host: NodeHost, options: MetricsOptions): AttachedMetrics {
  const registry = options.registry;
  const { timers } = host.runtime;
  let cached: Sample | null = null;
  // One sample per scrape: a scrape collects every metric in one turn of the event loop.
  const sample = (): Sample => {
    if (cached !== null) return cached;
    const info = host.getNodeHostInfo();
    const stats = host.getStats();
    cached = { info, stats, byShard: new Map(stats.shards.map((s) => [s.shardId, s])) };
    timers.setImmediate(() => { cached = null; });
    return cached;
  };
  const registers = [registry];
  const names: string[] = [];
  const add = <M extends Gauge | Counter | Histogram>(m: M, name: string): M => {
    names.push(name);
    return m;
  };
  for (const name of [...SHARD_GAUGES, ...SHARD_COUNTERS, ...HOST_METRICS, ...REMOTE_METRICS, ...GC_BY_KIND].map((m) => m[0])) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw new InvalidOperationError(`metric ${name} is already registered: attach one NodeHost per registry`);
    }
  }

  for (const [name, help, get] of SHARD_GAUGES) {
    add(new Gauge({
      name, help, labelNames: ['shard', 'replica'], registers,
      collect(this: Gauge) {
        this.reset();
        for (const s of sample().info.shards) {
          const v = get(s);
          if (v !== null) this.set(shardLabels(s.shardId, s.replicaId), v);
        }
      },
    }), name);
  }
  for (const [name, help, get] of SHARD_COUNTERS) {
    add(new Counter({
      name, help, labelNames: ['shard', 'replica'], registers,
      collect(this: Counter) {
        this.reset();
        for (const s of sample().byShard.values()) this.inc(shardLabels(s.shardId, s.replicaId), get(s));
      },
    }), name);
  }
  for (const [name, help, get] of HOST_METRICS) {
    const collect = function (this: Gauge | Counter): void {
      this.reset();
      const v = get(sample().stats);
      if (v === null) return;
      if (this instanceof Counter) this.inc(v);
      else this.set(v);
    };
    add(name.endsWith('_total') ? new Counter({ name, help, registers, collect }) : new Gauge({ name, help, registers, collect }), name);
  }
  for (const [name, help, get] of REMOTE_METRICS) {
    const collect = function (this: Gauge | Counter): void {
      this.reset();
      for (const r of sample().stats.remotes) {
        if (this instanceof Counter) this.inc({ remote: r.address }, get(r));
        else this.set({ remote: r.address }, get(r));
      }
    };
    add(name.endsWith('_total')
      ? new Counter({ name, help, labelNames: ['remote'], registers, collect })
      : new Gauge({ name, help, labelNames: ['remote'], registers, collect }), name);
  }

  for (const [name, help, get] of GC_BY_KIND) {
    const collect = function (this: Gauge | Counter): void {
      this.reset();
      const gc = sample().stats.gc;
      for (const kind of GC_KINDS) {
        if (this instanceof Counter) this.inc({ kind }, get(gc[kind]));
        else this.set({ kind }, get(gc[kind]));
      }
    };
    add(name.endsWith('_total')
      ? new Counter({ name, help, labelNames: ['kind'], registers, collect })
      : new Gauge({ name, help, labelNames: ['kind'], registers, collect }), name);
  }

  const passSeconds = add(new Histogram({ name: 'sampan_engine_pass_seconds', help: 'Wall time of engine passes that had work, LogDB write included.', buckets: SECONDS, registers }), 'sampan_engine_pass_seconds');
  const batchSeconds = add(new Histogram({ name: 'sampan_logdb_save_seconds', help: 'Time to write one LogDB batch durably.', buckets: SECONDS, registers }), 'sampan_logdb_save_seconds');
  const batchReplicas = add(new Histogram({ name: 'sampan_logdb_batch_replicas', help: 'Replica updates per LogDB batch.', buckets: COUNTS, registers }), 'sampan_logdb_batch_replicas');
  const batchEntries = add(new Histogram({ name: 'sampan_logdb_batch_entries', help: 'Log entries per LogDB batch.', buckets: [0, ...COUNTS], registers }), 'sampan_logdb_batch_entries');
  const fsyncSeconds = add(new Histogram({ name: 'sampan_wal_fsync_seconds', help: 'Latency of the write-ahead log fdatasync.', buckets: SECONDS, registers }), 'sampan_wal_fsync_seconds');

  const unobserve = host.observe({
    enginePass: (sec) => passSeconds.observe(sec),
    logdbBatch: (replicas, entries, sec) => {
      batchReplicas.observe(replicas);
      batchEntries.observe(entries);
      batchSeconds.observe(sec);
    },
    walSync: (sec) => fsyncSeconds.observe(sec),
  });

  let attached = true;
  return {
    names,
    detach(): void {
      if (!attached) return;
      attached = false;
      unobserve();
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
