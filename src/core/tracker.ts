/**
 * The progress tracker (etcd's `tracker/`): the leader's {@link Progress} of every replica and
 * the voting configuration they are counted in, owned by one object. Handlers ask it narrow
 * questions (is this id a voter, what is committed, who won, is a quorum active) instead of
 * reading role maps on the Raft object.
 *
 * The configuration may be joint (thesis §4.3): then the incoming voters (`Membership.voters`
 * and witnesses) and the outgoing ones (`Membership.joint.outgoing` and witnesses) must each
 * agree, by majority, for an entry to commit or a candidate to win.
 */
import type { Progress } from './progress.js';
import { jointHasQuorum, jointQuorumIndex, jointVoteResult, majority, type VoteResult } from './quorum.js';
import type { Membership } from './types.js';

/** How a replica takes part in the configuration the tracker holds. */
export const TrackedRole = {
  /** A voter of the incoming or the outgoing configuration (or both). */
  Voter: 0,
  /** A witness (a voter of both halves that never leads). */
  Witness: 1,
  /** A non-voting member (including a demoted voter once the joint configuration is left). */
  NonVoting: 2,
} as const;
/** One of {@link TrackedRole}. */
export type TrackedRole = (typeof TrackedRole)[keyof typeof TrackedRole];

/** The leader's view of every replica and the configuration that counts them. */
export class ProgressTracker {
  /** Progress by role; iteration order (voters, witnesses, non-voting; oldest first) is the send order. */
  private readonly byRole: readonly [Map<number, Progress>, Map<number, Progress>, Map<number, Progress>] = [new Map(), new Map(), new Map()];
  private incoming: ReadonlySet<number> = new Set();
  private outgoing: ReadonlySet<number> = new Set();
  private incomingVoters: ReadonlySet<number> = new Set();
  private voting: ReadonlySet<number> = new Set();

  /** Creates an empty tracker; `newProgress` makes the progress of a replica that joins at `next`. */
  constructor(private readonly newProgress: (next: number) => Progress) {}

  /**
   * Adopts the configuration of `m`: replicas that left are dropped, new ones get a fresh
   * progress at `next`, and a replica whose role changed (promoted, demoted) keeps its progress.
   */
  setConfig(m: Membership, next: number): void {
    const j = m.joint;
    const voterIds = new Set([...m.voters.keys(), ...(j?.outgoing.keys() ?? [])]);
    const witnessIds = new Set(m.witnesses.keys());
    const nonVotingIds = new Set([...m.nonVoting.keys(), ...(j?.nonVotingNext.keys() ?? [])]);
    for (const id of voterIds) nonVotingIds.delete(id);
    const targets = [voterIds, witnessIds, nonVotingIds] as const;
    // Take every replica whose role changed out first, so that its new role finds its progress.
    const moved = new Map<number, Progress>();
    this.byRole.forEach((map, i) => {
      for (const [id, pr] of [...map]) {
        if (targets[i]!.has(id)) continue;
        map.delete(id);
        moved.set(id, pr);
      }
    });
    this.byRole.forEach((map, i) => {
      for (const id of targets[i]!) {
        if (!map.has(id)) map.set(id, moved.get(id) ?? this.newProgress(next));
      }
    });
    this.incomingVoters = new Set(m.voters.keys());
    this.incoming = new Set([...m.voters.keys(), ...witnessIds]);
    this.outgoing = j === undefined ? new Set() : new Set([...j.outgoing.keys(), ...witnessIds]);
    this.voting = new Set([...this.incoming, ...this.outgoing]);
  }

  /** Gives every replica a fresh progress at `next` (a new term). */
  resetAll(next: number): void {
    for (const map of this.byRole) for (const id of map.keys()) map.set(id, this.newProgress(next));
  }

  /** The progress of `id` in any role. */
  get(id: number): Progress | undefined {
    return this.byRole[0].get(id) ?? this.byRole[1].get(id) ?? this.byRole[2].get(id);
  }

  /** The role of `id`, or undefined when it is not tracked. */
  roleOf(id: number): TrackedRole | undefined {
    if (this.byRole[0].has(id)) return TrackedRole.Voter;
    if (this.byRole[1].has(id)) return TrackedRole.Witness;
    if (this.byRole[2].has(id)) return TrackedRole.NonVoting;
    return undefined;
  }

  /** Whether `id` is a voter of either half (it may campaign). Witnesses are not. */
  isVoter(id: number): boolean { return this.byRole[0].has(id); }

  /** Whether `id` is a voter of the incoming configuration (a leader-transfer target must be). */
  isIncomingVoter(id: number): boolean { return this.incomingVoters.has(id); }

  /** Whether `id` is a witness. */
  isWitness(id: number): boolean { return this.byRole[1].has(id); }

  /** Whether `id` is non-voting. */
  isNonVoting(id: number): boolean { return this.byRole[2].has(id); }

  /** Whether the configuration is joint. */
  isJoint(): boolean { return this.outgoing.size > 0; }

  /** Ids that vote in either half: voters and witnesses. */
  votingIds(): ReadonlySet<number> { return this.voting; }

  /** The voting members of the incoming half. */
  incomingIds(): ReadonlySet<number> { return this.incoming; }

  /** The voting members of the outgoing half (empty unless joint). */
  outgoingIds(): ReadonlySet<number> { return this.outgoing; }

  /** Whether `id` alone is a quorum (a single voter, not joint). */
  isSoleVoter(id: number): boolean {
    return this.outgoing.size === 0 && this.incoming.size === 1 && this.incomingVoters.has(id);
  }

  /** The votes that form a majority of the incoming half (for display and health). */
  quorumSize(): number { return majority(this.incoming.size); }

  /** The highest index a quorum of each half has matched. */
  committed(): number {
    return jointQuorumIndex(this.incoming, this.outgoing, (id) => this.get(id)?.match ?? 0);
  }

  /** The outcome of the election with `votes` (granted or refused by id). */
  voteResult(votes: ReadonlyMap<number, boolean>): VoteResult {
    return jointVoteResult(this.incoming, this.outgoing, votes);
  }

  /** Whether `ids` hold a quorum of each half. */
  hasQuorum(ids: ReadonlySet<number>): boolean {
    return jointHasQuorum(this.incoming, this.outgoing, ids);
  }

  /** Every tracked replica with its progress, in send order: voters, witnesses, non-voting. */
  forEach(fn: (id: number, pr: Progress, role: TrackedRole) => void): void {
    this.byRole.forEach((map, role) => {
      for (const [id, pr] of map) fn(id, pr, role as TrackedRole);
    });
  }
}
