/**
 * Leader placement: which one shard, if any, a host should hand to which replica now. One pure
 * decision for both of its reasons, in order:
 *
 * 1. priority: a shard this host leads has a ready voter of higher priority than its own
 *    replica → leadership goes back to it (the highest; NuRaft and raft-rs have priorities);
 * 2. balance: a host leading at least two shards fewer than this one (counted over the shards
 *    this host hosts, hosts being the distinct addresses of voters that may lead) has a ready
 *    voter of the same priority → one shard goes to the host leading fewest. Every move
 *    narrows the spread, so hosts converge to leading ⌊shards / hosts⌋ or ⌈shards / hosts⌉
 *    each (3/3/2 for 8 shards on 3 hosts, 2/1/1 for 4), never more than the ceiling.
 *
 * "Ready" is the leader's view (the caller decides it): caught up, recently heard from, a
 * voter. Priorities are the leader's view too: `ShardConfig.priorities`, which operators keep
 * identical on every replica (as they do the initial members); absent ids have priority 1 and
 * priority 0 never leads. Nothing here reads a clock or sends anything.
 */

/** What a host knows of one shard it hosts. */
export interface PlacementShard {
  readonly shardId: number;
  /** This host's replica of the shard. */
  readonly replicaId: number;
  /** The leader this replica knows; 0 for none. */
  readonly leaderId: number;
  /** The shard's voters and their host addresses (the membership). */
  readonly voters: ReadonlyMap<number, string>;
  /** Priority by replica id as this replica is configured (absent: 1). */
  readonly priorities: ReadonlyMap<number, number>;
  /**
   * Leader only: the voters leadership may move to now (caught up, recently active, not this
   * replica); empty elsewhere.
   */
  readonly ready: ReadonlySet<number>;
  /** Leader only: a transfer or membership change is in flight; nothing is decided for it. */
  readonly busy: boolean;
}

/** A transfer to make: shard, target replica and why. */
export interface PlacementMove {
  readonly shardId: number;
  readonly target: number;
  /** `priority`: the target outranks the leader; `balance`: this host leads too many shards. */
  readonly reason: 'priority' | 'balance';
  /** Shards this host leads, before the move. */
  readonly leading: number;
  /** Shards the target's host leads, before the move. */
  readonly targetLeading: number;
  /** ⌈shards / hosts⌉: the most leaders balancing leaves on a host (for the log line). */
  readonly ceiling: number;
}

/** A replica's priority in `s` (1 when not listed). */
export function priorityOf(s: Pick<PlacementShard, 'priorities'>, replicaId: number): number {
  return s.priorities.get(replicaId) ?? 1;
}

/** Leaders per host address over `shards` (shards without a known leader voter are not counted). */
export function leadersPerHost(shards: readonly PlacementShard[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of shards) {
    for (const [id, addr] of s.voters) {
      if (priorityOf(s, id) > 0 && !counts.has(addr)) counts.set(addr, 0);
    }
  }
  for (const s of shards) {
    const addr = s.leaderId === 0 ? undefined : s.voters.get(s.leaderId);
    if (addr !== undefined) counts.set(addr, (counts.get(addr) ?? 0) + 1);
  }
  return counts;
}

/**
 * The one move this host should make now, or null. Shards are considered in id order; among
 * equal choices the target host leading fewest shards wins, then the lowest replica id.
 */
export function decidePlacement(shards: readonly PlacementShard[], opts: { balance: boolean }): PlacementMove | null {
  const counts = leadersPerHost(shards);
  const led = [...shards].filter((s) => s.leaderId === s.replicaId && s.leaderId !== 0).sort((a, b) => a.shardId - b.shardId);
  const mine = led.length;
  const hostLoad = (s: PlacementShard, id: number): number => counts.get(s.voters.get(id) ?? '') ?? 0;
  const hosts = [...counts.keys()].length;
  const ceiling = hosts === 0 ? 0 : Math.ceil(shards.length / hosts);

  // 1. Priority: a ready voter that outranks this leader.
  for (const s of led) {
    if (s.busy) continue;
    const own = priorityOf(s, s.replicaId);
    let best = 0;
    for (const id of s.ready) {
      const p = priorityOf(s, id);
      if (p <= own) continue;
      if (best === 0 || p > priorityOf(s, best) || (p === priorityOf(s, best)
        && (hostLoad(s, id) < hostLoad(s, best) || (hostLoad(s, id) === hostLoad(s, best) && id < best)))) best = id;
    }
    if (best !== 0) return { shardId: s.shardId, target: best, reason: 'priority', leading: mine, targetLeading: hostLoad(s, best), ceiling };
  }

  // 2. Balance: move one to the least-loaded host, if it leads at least two fewer than this one.
  if (!opts.balance || mine < 2) return null;
  let move: { s: PlacementShard; id: number; load: number } | null = null;
  for (const s of led) {
    if (s.busy) continue;
    const own = priorityOf(s, s.replicaId);
    const myAddr = s.voters.get(s.replicaId);
    for (const id of s.ready) {
      const addr = s.voters.get(id);
      if (addr === undefined || addr === myAddr || priorityOf(s, id) !== own) continue;
      const load = hostLoad(s, id);
      if (load > mine - 2) continue;
      if (move === null || load < move.load || (load === move.load && s === move.s && id < move.id)) move = { s, id, load };
    }
  }
  return move === null ? null
    : { shardId: move.s.shardId, target: move.id, reason: 'balance', leading: mine, targetLeading: move.load, ceiling };
}
