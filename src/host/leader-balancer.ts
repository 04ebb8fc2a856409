/**
 * The host's leader placement loop: on the host's tick, once leadership has been quiet on
 * every shard it hosts for a while, it asks {@link decidePlacement} for one move (priority
 * first, then balance) and makes it with a leader transfer it waits for — never an election.
 *
 * Quiet means no leader change seen here for two election timeouts plus a random jitter of up
 * to two more: every host sees every leader change of the shards it hosts, so hosts move one
 * shard at a time, a few seconds apart, and rarely at once (a host that overshoots is evened
 * out by the next round). A host being drained for a restart hands its shards away, which is
 * a leader change everywhere: nobody hands them back before it has stopped (its replicas then
 * go quiet and are no longer "ready"). Nothing is decided for a shard with a transfer or a
 * membership change in flight, a quiesced shard, or while another of this host's moves is
 * in flight.
 */
import { ProgressState } from '../core/progress.js';
import type { PeerStatus } from '../core/peer.js';
import type { Logger } from '../logger.js';
import { decidePlacement, type PlacementMove, type PlacementShard } from './leader-placement.js';
import type { Replica } from './replica.js';

/**
 * How far behind the leader's last index a voter may be and still take leadership at once
 * (the core catches it up before TimeoutNow; proposals wait meanwhile, so keep it small).
 */
export const CAUGHT_UP_LAG = 128;

/** Counters of the placement loop since the host started (in `NodeHost.getStats`). */
export interface PlacementStats {
  /** Transfers started for priority or balance. */
  transfers: number;
  /** Of those, the ones whose target took over. */
  completed: number;
  /** Of those, the ones abandoned, refused or timed out (leadership stayed or went elsewhere). */
  failed: number;
}

/** What the loop needs of its host. */
export interface BalancerHost {
  readonly logger: Logger;
  /** Whether the balance pass runs (`NodeHostConfig.leaderBalancing`); priorities always do. */
  readonly balance: boolean;
  /** The replicas running here. */
  replicas(): Iterable<Replica>;
  /** Starts a leader transfer of `r`'s shard to `target`, resolved once `target` leads. */
  transfer(r: Replica, target: number, timeoutMs: number): Promise<void>;
  /** Announces a move (the `leader:placement` event). */
  moved(r: Replica, m: PlacementMove): void;
  /** Milliseconds per tick. */
  readonly rttMs: number;
  /** Uniform in [0, 1) (tests pass a seeded one). */
  random(): number;
}

/** The voters `st`'s leader may hand leadership to now: caught up, active, not itself. */
export function readyVoters(st: PeerStatus, voters: ReadonlyMap<number, string>): Set<number> {
  const ready = new Set<number>();
  if (st.quorum === null) return ready;
  const active = new Set(st.quorum.active);
  for (const [id, pr] of st.progress) {
    if (id === st.replicaId || !voters.has(id) || !active.has(id)) continue;
    if (pr.state === ProgressState.Replicate && st.lastIndex - pr.match <= CAUGHT_UP_LAG) ready.add(id);
  }
  return ready;
}

/** What placement sees of replica `r`. */
export function placementShard(r: Replica): PlacementShard {
  const st = r.peer.status();
  const leads = st.leaderId === r.replicaId && st.quorum !== null;
  const voters = r.rsm.membership.voters;
  return {
    shardId: r.shardId, replicaId: r.replicaId, leaderId: st.leaderId, voters, priorities: r.cfg.priorities,
    ready: leads ? readyVoters(st, voters) : new Set(),
    busy: leads && (st.leaderTransferTarget !== 0 || st.configChangePending || st.quiesced),
  };
}

/** One host's placement loop. Driven by {@link tick}; told of leader changes by {@link leaderChanged}. */
export class LeaderBalancer {
  /** What it did. */
  readonly stats: PlacementStats = { transfers: 0, completed: 0, failed: 0 };
  private quiet = 0;
  private wait = 0;
  private inFlight = false;
  private closed = false;

  constructor(private readonly host: BalancerHost) {
    this.leaderChanged();
  }

  /** The longest election timeout, in ticks, of the replicas here (10 when none). */
  private electionTicks(): number {
    let e = 0;
    for (const r of this.host.replicas()) e = Math.max(e, r.cfg.electionRTT);
    return e === 0 ? 10 : e;
  }

  /** A leader changed (or was lost) on some shard here: wait for quiet again. */
  leaderChanged(): void {
    this.quiet = 0;
    const e = this.electionTicks();
    this.wait = 2 * e + Math.floor(this.host.random() * 2 * e);
  }

  /** One host tick: when quiet long enough and nothing is in flight, make at most one move. */
  tick(): void {
    if (this.closed || this.inFlight) return;
    if (++this.quiet < this.wait) return;
    // Decide again one election timeout later unless a leader changes meanwhile.
    const e = this.electionTicks();
    this.quiet = 0;
    this.wait = e;
    const reps = [...this.host.replicas()].filter((r) => !r.stopped && r.identityConflict === null && r.failure === null);
    const move = decidePlacement(reps.map(placementShard), { balance: this.host.balance });
    if (move === null) return;
    const r = reps.find((x) => x.shardId === move.shardId);
    if (r === undefined) return;
    this.start(r, move, 2 * e * this.host.rttMs);
  }

  private start(r: Replica, move: PlacementMove, timeoutMs: number): void {
    this.stats.transfers++;
    this.host.logger.info(`leader placement: moving leadership of shard ${move.shardId} to replica ${move.target} (${move.reason})`, {
      shardId: move.shardId, replicaId: r.replicaId, target: move.target, reason: move.reason,
      leading: move.leading, targetLeading: move.targetLeading, ceiling: move.ceiling,
    });
    this.host.moved(r, move);
    this.inFlight = true;
    let p: Promise<void>;
    try {
      p = this.host.transfer(r, move.target, timeoutMs);
    } catch (e) {
      p = Promise.reject(e as Error);
    }
    p.then(() => { this.stats.completed++; }, (e: unknown) => {
      this.stats.failed++;
      this.host.logger.info(`leader placement: the transfer of shard ${move.shardId} to replica ${move.target} failed`, {
        shardId: move.shardId, target: move.target, error: e instanceof Error ? e.message : String(e),
      });
    }).finally(() => {
      this.inFlight = false;
      this.leaderChanged();
    });
  }

  /** Stops deciding (the host is closing); a transfer in flight runs its course. */
  close(): void {
    this.closed = true;
  }
}
