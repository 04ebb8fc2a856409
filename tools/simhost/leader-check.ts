/**
 * Leader completeness (Raft §5.4.3) for the host simulator: a replica that becomes leader
 * holds in its log every entry already applied anywhere, with the same command. Applied means
 * committed, so a leader missing one (or holding another command at its index) was elected by
 * voters that did not check its log (vote safety broken) or lost a persisted entry.
 *
 * The leader's log is read as its Raft core sees it — the persisted entries through the log
 * reader and the unstable ones not yet written — by reaching into the NodeHost's replica and
 * the core's `Raft` (no public API: these are internals the simulator is allowed to see).
 * Entries below the log's first index are in its snapshot and are not checked.
 */
import type { NodeHost } from '../../src/host/nodehost.js';
import type { Replica } from '../../src/host/replica.js';
import type { Entry } from '../../src/core/types.js';
import { cmdDigest } from './kv-sm.js';

/** The part of the core's `RaftLog` the check reads. */
interface CoreLog {
  firstIndex(): number;
  lastIndex(): number;
  slice(lo: number, hi: number, maxBytes: number): Entry[];
}

/** The replica of `shardId` on `nh`, or undefined (an internal of the NodeHost). */
function replicaOf(nh: NodeHost, shardId: number): Replica | undefined {
  return (nh as unknown as { replicas: Map<number, Replica> }).replicas.get(shardId);
}

/**
 * Checks the leader `replicaId` of `shardId` on `nh` in `term` against `applied` (index →
 * command digest, as first applied anywhere; `maxApplied` the highest such index).
 * @returns a violation, or undefined when complete or when the replica no longer leads in
 *   `term` (the event came after it stepped down: its log may have been replaced since).
 */
export function leaderIncomplete(nh: NodeHost, shardId: number, replicaId: number, term: number,
  applied: ReadonlyMap<number, string> | undefined, maxApplied: number): string | undefined {
  const rep = replicaOf(nh, shardId);
  if (rep === undefined || rep.replicaId !== replicaId || !rep.peer.isLeader || rep.peer.term !== term) return undefined;
  if (applied === undefined || maxApplied === 0) return undefined;
  const log = (rep.peer as unknown as { r: { log: CoreLog } }).r.log;
  const first = log.firstIndex();
  const last = log.lastIndex();
  if (last < maxApplied) {
    // Entries up to maxApplied were applied somewhere: the leader must hold them all.
    for (let i = Math.max(first, last + 1); i <= maxApplied; i++) {
      if (applied.has(i)) return `leader completeness: shard ${shardId} leader ${replicaId} (term ${term}) lacks applied entry ${i}: its log ends at ${last}`;
    }
  }
  const lo = Math.max(first, 1);
  const hi = Math.min(last, maxApplied);
  if (hi < lo) return undefined;
  const ents = log.slice(lo, hi + 1, Number.MAX_SAFE_INTEGER);
  for (const e of ents) {
    const want = applied.get(e.index);
    if (want === undefined) continue;
    const got = cmdDigest(e.cmd);
    if (got !== want) return `leader completeness: shard ${shardId} leader ${replicaId} (term ${term}) holds ${got} at index ${e.index} (term ${e.term}), ${want} was applied there`;
  }
  return undefined;
}
