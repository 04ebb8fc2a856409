/**
 * Leader transfers the host can wait for, and draining: handing every shard this host leads to
 * its best follower before a restart, so that clients see a transfer (a round trip and an
 * election at once, thesis §3.10) instead of an election timeout.
 *
 * A transfer resolves once this host sees the target lead in a later term; it rejects with
 * RejectedError when the leader abandons it (the target did not catch up and campaign within
 * an election timeout, or leadership moved elsewhere), and with TimeoutError at its deadline.
 */
import type { PeerStatus } from '../core/peer.js';
import { InvalidOptionError, RejectedError } from '../errors.js';
import { Pending, type RequestOptions } from './request.js';
import type { Replica } from './replica.js';
import type { Deadlines } from './deadlines.js';

/**
 * The voter leadership should move to: the most up-to-date voting member (highest match; the
 * lowest id on a tie), preferring those this leader heard from within the last election
 * timeout (a leader elected a moment ago has heard from nobody yet: then any voter), then
 * those of higher priority; never one of priority 0 (it would not campaign). 0 when there is
 * none (not a leader, or alone).
 */
export function bestTransferTarget(st: PeerStatus, voters: ReadonlyMap<number, string>,
  priorities: ReadonlyMap<number, number> = new Map()): number {
  if (st.quorum === null) return 0;
  const active = new Set(st.quorum.active);
  let best = 0;
  let bestKey: [number, number, number] = [-1, -1, -1];
  for (const [id, pr] of st.progress) {
    const priority = priorities.get(id) ?? 1;
    if (id === st.replicaId || !voters.has(id) || priority === 0) continue;
    // Active voters first, then by priority, then by match.
    const key: [number, number, number] = [active.has(id) ? 1 : 0, priority, pr.match];
    const cmp = key[0] - bestKey[0] || key[1] - bestKey[1] || key[2] - bestKey[2];
    if (cmp > 0 || (cmp === 0 && id < best)) {
      best = id;
      bestKey = key;
    }
  }
  return best;
}

interface Transfer {
  readonly req: Pending<void>;
  readonly target: number;
  readonly term: number;
  /** The leader asked to transfer was this replica (it can tell when it gives up). */
  readonly local: boolean;
}

/** Transfers waited on, per replica. */
export class LeaderTransfers {
  private readonly waiting = new Map<Replica, Set<Transfer>>();

  /** @param deadlines the host's request deadlines, which time the transfers out. */
  constructor(private readonly deadlines: Deadlines) {}

  /**
   * Asks `r`'s shard to move leadership to `target` (0: the best follower, when `r` leads) and
   * resolves once `r` sees `target` lead.
   * @throws InvalidOptionError for a bad target, or 0 when `r` does not lead or has no follower to pick.
   */
  request(r: Replica, target: number, opts: RequestOptions | undefined, setReady: (r: Replica) => void): Promise<void> {
    if (!Number.isSafeInteger(target) || target < 0) throw new InvalidOptionError(`target ${target} is invalid`);
    const st = r.peer.status();
    const to = target !== 0 ? target : bestTransferTarget(st, r.rsm.membership.voters, r.cfg.priorities);
    if (to === 0) {
      throw new InvalidOptionError(st.quorum === null
        ? `replica ${r.replicaId} does not lead shard ${r.shardId}: name the target`
        : `shard ${r.shardId} has no other voter to transfer leadership to`);
    }
    if (st.leaderId === to) return Promise.resolve();
    let set = this.waiting.get(r);
    if (set === undefined) {
      set = new Set();
      this.waiting.set(r, set);
    }
    const s = set;
    const t: Transfer = { target: to, term: st.term, local: st.leaderId === r.replicaId, req: new Pending<void>(this.deadlines, opts, () => s.delete(t)) };
    s.add(t);
    r.peer.requestLeaderTransfer(to);
    setReady(r);
    return t.req.promise;
  }

  /** `r` learnt of a leader: transfers to it resolve; those to another leader were abandoned. */
  leaderChanged(r: Replica, leaderId: number, term: number): void {
    const set = this.waiting.get(r);
    if (set === undefined || leaderId === 0) return;
    for (const t of [...set]) {
      if (leaderId === t.target) t.req.resolve(undefined);
      else if (term > t.term) t.req.reject(new RejectedError(`leadership of shard ${r.shardId} moved to ${leaderId}, not ${t.target}`));
    }
  }

  /** Once per tick: a transfer this replica's leader gave up on (still leading, no target) is rejected. */
  tick(): void {
    for (const [r, set] of this.waiting) {
      if (set.size === 0) {
        this.waiting.delete(r);
        continue;
      }
      const st = r.peer.status();
      for (const t of [...set]) {
        if (t.local && st.leaderId === r.replicaId && st.term === t.term && st.leaderTransferTarget === 0) {
          t.req.reject(new RejectedError(`the transfer of shard ${r.shardId} to ${t.target} was abandoned (not caught up within an election timeout)`));
        }
      }
    }
  }

  /** Fails every transfer waited on by `r` (it stopped). */
  drop(r: Replica, err: Error): void {
    for (const t of [...(this.waiting.get(r) ?? [])]) t.req.reject(err);
    this.waiting.delete(r);
  }
}

/** What `NodeHost.drain` did, by shard id. */
export interface DrainResult {
  /** Shards whose leadership moved to another replica. */
  readonly transferred: readonly number[];
  /** Shards this host still led: no active voter to move to, the transfer abandoned, or the deadline passed. */
  readonly kept: readonly number[];
}

/**
 * Moves leadership of every shard that `replicas` lead to each shard's best follower, all at
 * once, and waits for them (each bounded by `opts`). Never rejects.
 */
export async function drainLeadership(replicas: Iterable<Replica>, transfers: LeaderTransfers, opts: RequestOptions | undefined,
  setReady: (r: Replica) => void): Promise<DrainResult> {
  const led = [...replicas].filter((r) => !r.stopped && r.peer.leaderId === r.replicaId);
  const outcomes = await Promise.allSettled(led.map(async (r) => {
    await transfers.request(r, 0, opts, setReady);
    return r.shardId;
  }));
  const transferred: number[] = [];
  const kept: number[] = [];
  outcomes.forEach((o, i) => (o.status === 'fulfilled' ? transferred : kept).push(o.status === 'fulfilled' ? o.value : led[i]!.shardId));
  return { transferred: transferred.sort((a, b) => a - b), kept: kept.sort((a, b) => a - b) };
}
