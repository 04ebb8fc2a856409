/**
 * Comparing replicas' state hashes (each from its own `/status`): the `stateHashes` verdict of
 * `GET /cluster`, and what the chaos suite checks after every run.
 */

/** A replica's state hash as `/status` shows it. */
export interface StateHashJson {
  readonly index: number;
  readonly hash: string;
}

/** The verdict over a shard's replicas; see {@link compareHashes}. */
export type HashAgreement = 'agree' | 'mismatch' | 'unknown';

/**
 * `mismatch` when two records carry the same index and different hashes; otherwise `agree`
 * when at least two records carry the newest index seen; otherwise `unknown`. Nulls (no hash,
 * or a replica not reached) are skipped.
 */
export function compareHashes(records: ReadonlyArray<StateHashJson | null | undefined>): HashAgreement {
  const byIndex = new Map<number, Set<string>>();
  const counts = new Map<number, number>();
  for (const r of records) {
    if (r === null || r === undefined) continue;
    const set = byIndex.get(r.index) ?? new Set<string>();
    set.add(r.hash);
    byIndex.set(r.index, set);
    counts.set(r.index, (counts.get(r.index) ?? 0) + 1);
  }
  for (const set of byIndex.values()) if (set.size > 1) return 'mismatch';
  const newest = Math.max(-1, ...byIndex.keys());
  return (counts.get(newest) ?? 0) >= 2 ? 'agree' : 'unknown';
}
