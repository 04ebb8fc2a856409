/**
 * Majority arithmetic: the commit index a set of voters agrees on, and the outcome of an
 * election. Pure functions of their inputs; the property tests compare them with a
 * deliberately naive reference.
 */

/** The smallest number of voters that forms a majority of `n`. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The highest index that a majority of `voters` has matched: the quorum-th largest match.
 * With no voters there is no quorum and the result is 0.
 */
export function quorumIndex(voters: Iterable<number>, matchOf: (id: number) => number): number {
  const matches: number[] = [];
  for (const id of voters) matches.push(matchOf(id));
  const n = matches.length;
  if (n === 0) return 0;
  // Descending. A shard has a handful of voters: an insertion sort allocates nothing, where
  // Array.prototype.sort makes its own work state on every commit check (issue 19).
  if (n > 16) matches.sort((a, b) => b - a);
  else {
    for (let i = 1; i < n; i++) {
      const v = matches[i] as number;
      let j = i - 1;
      for (; j >= 0 && (matches[j] as number) < v; j--) matches[j + 1] = matches[j] as number;
      matches[j + 1] = v;
    }
  }
  return matches[majority(n) - 1] ?? 0;
}

/** The state of an election. */
export const VoteResult = {
  /** Neither a majority granted nor can a majority still grant. */
  Pending: 0,
  /** A majority of voters granted. */
  Won: 1,
  /** A majority can no longer grant. */
  Lost: 2,
} as const;
/** One of {@link VoteResult}. */
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/**
 * Tallies `votes` (granted or refused, by voter id) among `voters`. Votes from ids that are not
 * voters do not count. Won once a majority granted; Lost once a majority can no longer grant.
 */
export function voteResult(voters: ReadonlySet<number>, votes: ReadonlyMap<number, boolean>): VoteResult {
  let granted = 0;
  let refused = 0;
  for (const [id, v] of votes) {
    if (!voters.has(id)) continue;
    if (v) granted++;
    else refused++;
  }
  const q = majority(voters.size);
  if (granted >= q) return VoteResult.Won;
  if (voters.size - refused < q) return VoteResult.Lost;
  return VoteResult.Pending;
}

/**
 * The commit index of a joint configuration (thesis §4.3): what both the incoming and the
 * outgoing voters agree on, the lower of their two quorum indexes. An empty `outgoing` means
 * the configuration is not joint, and only `incoming` decides.
 */
export function jointQuorumIndex(
  incoming: ReadonlySet<number>, outgoing: ReadonlySet<number>, matchOf: (id: number) => number,
): number {
  const inIdx = quorumIndex(incoming, matchOf);
  if (outgoing.size === 0) return inIdx;
  return Math.min(inIdx, quorumIndex(outgoing, matchOf));
}

/**
 * The outcome of an election in a joint configuration: Won once both halves granted, Lost
 * once either half lost, Pending otherwise. An empty `outgoing` means the configuration is
 * not joint, and only `incoming` decides.
 */
export function jointVoteResult(
  incoming: ReadonlySet<number>, outgoing: ReadonlySet<number>, votes: ReadonlyMap<number, boolean>,
): VoteResult {
  const a = voteResult(incoming, votes);
  if (outgoing.size === 0) return a;
  const b = voteResult(outgoing, votes);
  if (a === b) return a;
  if (a === VoteResult.Lost || b === VoteResult.Lost) return VoteResult.Lost;
  return VoteResult.Pending;
}

/**
 * Whether `ids` (acknowledgements, active replicas) hold a majority of `incoming` and, when
 * the configuration is joint (`outgoing` not empty), of `outgoing` too.
 */
export function jointHasQuorum(incoming: ReadonlySet<number>, outgoing: ReadonlySet<number>, ids: ReadonlySet<number>): boolean {
  const has = (c: ReadonlySet<number>): boolean => {
    let n = 0;
    for (const id of c) if (ids.has(id)) n++;
    return n >= majority(c.size);
  };
  return has(incoming) && (outgoing.size === 0 || has(outgoing));
}
