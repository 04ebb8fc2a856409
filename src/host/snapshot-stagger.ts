/**
 * Where in the log each replica takes its automatic snapshots, so that the replicas of a shard
 * do not all take theirs at once.
 *
 * With the same `snapshotEntries` N, every replica of a shard used to reach "N entries past my
 * last snapshot" at the same log index. All of them then spent the CPU of a full save at the
 * same moment, the followers that make the commit quorum included (issue 19: the KV service at
 * 64 connections had a p99 of 54–80 ms with automatic snapshots, 19–22 ms without them; with
 * the saves staggered it is 25–31 ms). hashicorp/raft staggers its snapshots with a random
 * delay for the same reason.
 *
 * Here each replica takes its snapshots on a grid of the log with spacing N, shifted by a
 * phase. The phase comes from the replica's rank among the shard's members that hold data
 * (voting and non-voting; witnesses take no snapshots), so n members are N / n apart. Each
 * shard also gets its own shift (a golden-ratio step per shard id), so the shards of a host do
 * not all save at once either. The replica of rank 0 in shard 1 keeps the old points: N, 2N, 3N….
 * After a snapshot at index s, the next automatic one is at the first grid point at least N / 2
 * past s. In steady state the spacing is exactly N. After a start, a user snapshot or a
 * membership change, the next one comes between N / 2 and 3N / 2 entries past the newest
 * snapshot.
 */
import type { Membership } from '../core/types.js';

/** The golden ratio's fractional part: shard k's shift is k·φ mod 1, evenly spread for any count of shards. */
const PHI = 0.6180339887498949;

/**
 * The phase (0 … every − 1) of `replicaId`'s automatic snapshots in shard `shardId`: the grid
 * points are the indexes t with (t + phase) mod every = 0. Rank by id among the voting and
 * non-voting members; a replica that is not among them (a witness, one being removed) has
 * rank 0.
 */
export function snapshotPhase(membership: Membership, shardId: number, replicaId: number, every: number): number {
  if (every <= 1) return 0;
  let count = 0;
  let rank = 0;
  let member = false;
  const look = (id: number): void => {
    count++;
    if (id < replicaId) rank++;
    else if (id === replicaId) member = true;
  };
  for (const id of membership.voters.keys()) look(id);
  for (const id of membership.nonVoting.keys()) look(id);
  const byRank = member ? Math.floor((rank * every) / count) : 0;
  const shift = (((shardId - 1) * PHI) % 1 + 1) % 1;
  return (byRank + Math.floor(shift * every)) % every;
}

/**
 * The index of the next automatic snapshot after one at `base` (0: none yet): the first grid
 * point of `phase` (see {@link snapshotPhase}) at least ⌈every / 2⌉ past `base`.
 */
export function nextAutoSnapshot(base: number, every: number, phase: number): number {
  const min = base + Math.ceil(every / 2);
  const r = (min + phase) % every;
  return r === 0 ? min : min + every - r;
}
