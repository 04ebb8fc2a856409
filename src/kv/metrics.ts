/**
 * `GET /metrics`: a small hand-written Prometheus text exposition (format 0.0.4) of per-shard
 * gauges and the HTTP counters. A later change moves this to prom-client; the names stay.
 */
import type { NodeHost } from '../index.js';

/** Counters the HTTP layer keeps. */
export class HttpCounters {
  /** Requests answered, by route and status. */
  readonly answered = new Map<string, number>();
  /** Requests being served now. */
  inFlight = 0;
  /** Requests refused because too many were in flight. */
  refusedBusy = 0;

  /** Counts one answered request. */
  count(route: string, status: number): void {
    const k = `${route}\u0000${status}`;
    this.answered.set(k, (this.answered.get(k) ?? 0) + 1);
  }
}

const GAUGES: ReadonlyArray<readonly [string, string, (s: ReturnType<NodeHost['getNodeHostInfo']>['shards'][number]) => number]> = [
  ['sampan_shard_leader_id', 'Leader replica id as this replica knows it (0: none).', (s) => s.leaderId],
  ['sampan_shard_term', 'Current Raft term.', (s) => s.term],
  ['sampan_shard_is_leader', '1 when this replica leads the shard.', (s) => (s.isLeader ? 1 : 0)],
  ['sampan_shard_commit_index', 'Highest committed log index known here.', (s) => s.commitIndex],
  ['sampan_shard_applied_index', 'Highest log index applied to the state machine.', (s) => s.appliedIndex],
  ['sampan_shard_snapshot_index', 'Index of the newest local snapshot.', (s) => s.snapshotIndex],
  ['sampan_shard_first_log_index', 'First log index still held.', (s) => s.firstLogIndex],
  ['sampan_shard_last_log_index', 'Last log index held.', (s) => s.lastLogIndex],
  ['sampan_shard_voters', 'Voting members of the shard.', (s) => s.membership.voters.size],
];

function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The exposition text for `host` and `counters`. */
export function metricsText(host: NodeHost, replicaId: number, counters: HttpCounters): string {
  const lines: string[] = [];
  const shards = host.getNodeHostInfo().shards;
  for (const [name, help, get] of GAUGES) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const s of shards) lines.push(`${name}{shard="${s.shardId}",replica="${replicaId}"} ${get(s)}`);
  }
  lines.push('# HELP sampan_http_requests_total HTTP requests answered, by route and status.', '# TYPE sampan_http_requests_total counter');
  for (const [k, n] of [...counters.answered].sort()) {
    const [route, status] = k.split('\u0000');
    lines.push(`sampan_http_requests_total{route="${label(route ?? '')}",status="${status ?? ''}"} ${n}`);
  }
  lines.push('# HELP sampan_http_in_flight HTTP requests being served.', '# TYPE sampan_http_in_flight gauge', `sampan_http_in_flight ${counters.inFlight}`);
  lines.push('# HELP sampan_http_refused_busy_total Requests refused with 429 because too many were in flight.',
    '# TYPE sampan_http_refused_busy_total counter', `sampan_http_refused_busy_total ${counters.refusedBusy}`);
  return `${lines.join('\n')}\n`;
}
