/**
 * `GET /cluster`: every known replica's `/status` in one answer, for the dashboard and for
 * scripts. The serving replica reads its own status directly and asks each peer given with
 * `--peer-http` over HTTP, all at once, each with a bounded wait: a peer that does not answer
 * in time (or refuses the connection) is listed as down with the reason, never an error of
 * the route. Concurrent requests share one fan-out, so many open dashboards cost the peers
 * one `/status` each per round.
 *
 * Beside the raw statuses, a per-shard summary: the leader (the up replica that says it leads,
 * in the highest term), its term, commit index and quorum view, and each replica's lag (the
 * leader's commit index minus the replica's applied index).
 */
import type { QuorumHealth, StateHash } from '../index.js';
import { compareHashes, type HashAgreement } from './state-hash-check.js';
import type { ShardActivityJson, ShardStatusJson, StatusJson } from './status.js';

/** How long a peer's `/status` may take before it is shown as down (ms). */
export const PEER_TIMEOUT_MS = 800;

/** The largest `/status` body read from a peer (bytes). */
const MAX_STATUS_BYTES = 4 * 1024 * 1024;

/** One replica as the serving replica sees it. */
export type ClusterReplicaJson =
  | { readonly replicaId: number; readonly httpAddress: string; readonly up: true; readonly self: boolean;
      readonly latencyMs: number; readonly status: StatusJson }
  | { readonly replicaId: number; readonly httpAddress: string; readonly up: false; readonly self: false;
      readonly latencyMs: number; readonly error: string };

/** One replica's row in a shard summary. */
export interface ClusterShardReplicaJson {
  readonly replicaId: number;
  readonly up: boolean;
  /** Null fields: the replica is down, or does not host this shard. */
  readonly role: string | null;
  readonly term: number | null;
  readonly isLeader: boolean;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  readonly snapshotIndex: number | null;
  readonly firstLogIndex: number | null;
  readonly lastLogIndex: number | null;
  /** Leader's commit index minus this replica's applied index (null without both). */
  readonly lag: number | null;
  readonly activity: ShardActivityJson | null;
  /** The replica's newest state hash (`POST /admin/verify`), or null. */
  readonly stateHash: StateHash | null;
}

/** One shard, summarised over every replica reached. */
export interface ClusterShardJson {
  readonly shardId: number;
  /** 0 when no replica reached knows a leader. */
  readonly leaderId: number;
  /** The highest term any replica reached reports. */
  readonly term: number;
  /** Up replicas that say they lead this shard (more than one only briefly, across terms). */
  readonly leaders: number[];
  /** The leader's commit index, when the leader was reached. */
  readonly commitIndex: number | null;
  /** The leader's quorum view, when the leader was reached. */
  readonly quorum: QuorumHealth | null;
  /** Voters by id (string) and raft address, from the highest membership version seen. */
  readonly voters: Record<string, string>;
  /**
   * The replicas' state hashes compared (`state-hash-check.ts`): `mismatch` when two replicas
   * reached report different hashes at one index, `agree` when at least two hashed the newest
   * index and none differs, `unknown` otherwise (no `POST /admin/verify` yet, or one replica).
   */
  readonly stateHashes: HashAgreement;
  readonly replicas: ClusterShardReplicaJson[];
}

/** The `GET /cluster` document. */
export interface ClusterJson {
  /** The replica that answered. */
  readonly servedBy: number;
  /** When it answered (ms since the epoch). */
  readonly time: number;
  /** The bound on each peer's answer (ms). */
  readonly peerTimeoutMs: number;
  /** Every known replica (this one and the `--peer-http` peers), by id. */
  readonly replicas: ClusterReplicaJson[];
  readonly shards: ClusterShardJson[];
}

function errorText(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}

/** Asks one peer for its status, with a bounded wait. */
async function peerStatus(id: number, httpAddress: string, timeoutMs: number, scheme: string): Promise<ClusterReplicaJson> {
  const started = Date.now();
  const down = (error: string): ClusterReplicaJson => ({
    replicaId: id, httpAddress, up: false, self: false, latencyMs: Date.now() - started, error,
  });
  try {
    const r = await fetch(`${scheme}://${httpAddress}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    const len = Number(r.headers.get('content-length') ?? '0');
    if (len > MAX_STATUS_BYTES) {
      await r.body?.cancel();
      return down(`status too large (${len} bytes)`);
    }
    const text = await r.text();
    if (r.status !== 200) return down(`status answered HTTP ${r.status}`);
    const status = JSON.parse(text) as StatusJson;
    if (typeof status !== 'object' || status === null || !Array.isArray(status.shards)) return down('status is not a sampan status');
    if (status.replicaId !== id) return down(`answers as replica ${String(status.replicaId)} (check --peer-http)`);
    return { replicaId: id, httpAddress, up: true, self: false, latencyMs: Date.now() - started, status };
  } catch (e) {
    return down(errorText(e, timeoutMs));
  }
}

function shardOf(r: ClusterReplicaJson, shardId: number): ShardStatusJson | undefined {
  return r.up ? r.status.shards.find((s) => s.shardId === shardId) : undefined;
}

/** The per-shard summary of the replicas' statuses. */
export function summarise(replicas: readonly ClusterReplicaJson[]): ClusterShardJson[] {
  const shardIds = new Set<number>();
  for (const r of replicas) if (r.up) for (const s of r.status.shards) shardIds.add(s.shardId);
  return [...shardIds].sort((a, b) => a - b).map((shardId) => {
    const seen = replicas.map((r) => ({ r, s: shardOf(r, shardId) }));
    let term = 0;
    let leader: ShardStatusJson | undefined;
    let leaderId = 0;
    let leaderIdTerm = -1;
    let voters: Record<string, string> = {};
    let version = -1;
    const leaders: number[] = [];
    for (const { s } of seen) {
      if (s === undefined) continue;
      term = Math.max(term, s.term);
      if (s.isLeader) {
        leaders.push(s.replicaId);
        if (leader === undefined || s.term > leader.term) leader = s;
      }
      if (s.leaderId > 0 && s.term > leaderIdTerm) {
        leaderId = s.leaderId;
        leaderIdTerm = s.term;
      }
      if (s.membership.version > version) {
        version = s.membership.version;
        voters = s.membership.voters;
      }
    }
    if (leader !== undefined) leaderId = leader.replicaId;
    const commit = leader?.commitIndex ?? null;
    return {
      shardId, leaderId, term, leaders, commitIndex: commit, quorum: leader?.quorum ?? null, voters,
      stateHashes: compareHashes(seen.map(({ s }) => s?.stateHash ?? null)),
      replicas: seen.map(({ r, s }) => ({
        replicaId: r.replicaId, up: r.up, role: s?.role ?? null, term: s?.term ?? null, isLeader: s?.isLeader ?? false,
        commitIndex: s?.commitIndex ?? null, appliedIndex: s?.appliedIndex ?? null, snapshotIndex: s?.snapshotIndex ?? null,
        firstLogIndex: s?.firstLogIndex ?? null, lastLogIndex: s?.lastLogIndex ?? null,
        lag: commit !== null && s !== undefined ? Math.max(0, commit - s.appliedIndex) : null,
        activity: s?.activity ?? null, stateHash: s?.stateHash ?? null,
      })),
    };
  });
}

/** The fan-out of one replica to its peers, shared by concurrent requests. */
export class ClusterView {
  private pending: Promise<ClusterJson> | null = null;

  /**
   * @param self this replica's id
   * @param peers other replicas' HTTP addresses by id (this replica's own entry is ignored)
   * @param ownStatus reads this replica's status (no HTTP)
   * @param timeoutMs the bound on each peer's answer
   * @param scheme `https` when the replicas serve TLS (peers' certificates are checked against
   *   the system CAs and NODE_EXTRA_CA_CERTS)
   */
  constructor(
    private readonly self: number,
    readonly peers: ReadonlyMap<number, string>,
    private readonly ownStatus: () => StatusJson,
    private readonly timeoutMs = PEER_TIMEOUT_MS,
    private readonly scheme: 'http' | 'https' = 'http',
  ) {}

  /** Every known replica's status and the per-shard summary; never rejects for a peer's sake. */
  collect(): Promise<ClusterJson> {
    this.pending ??= this.fanOut().finally(() => { this.pending = null; });
    return this.pending;
  }

  private async fanOut(): Promise<ClusterJson> {
    const own = this.ownStatus();
    const asks = [...this.peers].filter(([id]) => id !== this.self)
      .map(([id, addr]) => peerStatus(id, addr, this.timeoutMs, this.scheme));
    const mine: ClusterReplicaJson = { replicaId: this.self, httpAddress: own.httpAddress, up: true, self: true, latencyMs: 0, status: own };
    const replicas = [mine, ...await Promise.all(asks)].sort((a, b) => a.replicaId - b.replicaId);
    return { servedBy: this.self, time: Date.now(), peerTimeoutMs: this.timeoutMs, replicas, shards: summarise(replicas) };
  }
}
