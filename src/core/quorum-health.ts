/**
 * The quorum-health view of a leader: which voting members (voters and witnesses) it heard
 * from within the last election timeout, and how many more of them may fail before the shard
 * loses its quorum. It is what check-quorum decides on, made visible before it acts: a leader
 * that hears from fewer than a quorum within an election timeout steps down (thesis §6.2).
 *
 * Time is logical: a remote is active when it answered within `electionTicks` ticks of the
 * leader's clock (`Raft.ticks`). A quiesced leader does not tick, so its view stays as it was
 * when the shard went quiet.
 */
import type { Raft } from './raft.js';
import { Role } from './raft.js';
import { majority } from './quorum.js';

/** A leader's view of its quorum. */
export interface QuorumHealth {
  /** Voting members: voters and witnesses. */
  readonly voters: number;
  /** Votes that form a majority of them. */
  readonly quorum: number;
  /** Voting members heard from within the last election timeout (the leader itself included), ascending. */
  readonly active: readonly number[];
  /** Voting members not heard from within the last election timeout, ascending. */
  readonly lost: readonly number[];
  /**
   * How many more active members must fail for the shard to lose its quorum: 1 means the
   * next failure loses it, 0 that it is lost already (the leader steps down at its next
   * check-quorum).
   */
  readonly failuresToLoss: number;
}

/** The quorum-health view of `r`, or null unless it leads. */
export function quorumHealth(r: Raft): QuorumHealth | null {
  if (r.role !== Role.Leader) return null;
  const active: number[] = [];
  const lost: number[] = [];
  const ids = [...r.votingIds()].sort((a, b) => a - b);
  for (const id of ids) {
    const pr = r.progressOf(id);
    const heard = id === r.id
      || (pr !== undefined && pr.lastActiveTick >= 0 && r.ticks - pr.lastActiveTick <= r.cfg.electionTicks);
    (heard ? active : lost).push(id);
  }
  const quorum = r.quorum();
  // Joint: the half closest to losing its majority decides.
  const heard = new Set(active);
  let failuresToLoss = Number.MAX_SAFE_INTEGER;
  for (const half of [r.tracker.incomingIds(), r.tracker.outgoingIds()]) {
    if (half.size === 0) continue;
    let n = 0;
    for (const id of half) if (heard.has(id)) n++;
    failuresToLoss = Math.min(failuresToLoss, Math.max(0, n - majority(half.size) + 1));
  }
  if (failuresToLoss === Number.MAX_SAFE_INTEGER) failuresToLoss = 0;
  return { voters: ids.length, quorum, active, lost, failuresToLoss };
}
