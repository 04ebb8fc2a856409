/**
 * The replica's log as the protocol sees it: the persisted part (through {@link LogStorage})
 * followed by the unstable part, with the commit and applied positions.
 *
 * Invariants: applied <= committed; committed <= lastIndex(); stable entries come first.
 */
import { CompactedError, UnavailableError } from './errors.js';
import { limitSize, type LogStorage } from './log-storage.js';
import type { Entry, SnapshotMeta } from './types.js';
import { Unstable } from './unstable.js';

/** The combined persisted and unstable log. */
export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known to be committed on a quorum. */
  committed: number;
  /** Highest index handed to the host for applying. Invariant: applied <= committed. */
  applied: number;

  /**
   * @param applyOnlyStable hand out for applying only committed entries already persisted here
   * (needed when the host writes asynchronously: an update's entries may still be in flight).
   */
  constructor(readonly storage: LogStorage, readonly maxApplyBytes: number, readonly applyOnlyStable = false) {
    const first = storage.firstIndex();
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of `index`, or 0 when it is outside the log (compacted or not yet written). */
  term(index: number): number {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return 0;
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    try {
      return this.storage.term(index);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return 0;
      throw e;
    }
  }

  lastTerm(): number { return this.term(this.lastIndex()); }

  matchTerm(index: number, term: number): boolean {
    if (index === 0) return term === 0;
    const t = this.term(index);
    return t !== 0 && t === term;
  }

  /** §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Appends entries whose first index follows the tail or replaces part of it. */
  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    if (first.index - 1 < this.committed) {
      throw new Error(`raft-log: append at ${first.index} would overwrite committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * §5.3 consistency check and append, for a Replicate whose entries follow (index, logTerm).
   * Returns the last index the message proves matching, or -1 when the check fails.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number {
    if (!this.matchTerm(index, logTerm)) return -1;
    const lastNew = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new Error(`raft-log: entry ${conflict} conflicts with committed ${this.committed}`);
      }
      this.append(ents.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** The first index at which `ents` disagrees with the log, or 0 when none does. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`: the fast back-off hint of a
   * rejection (a leader skips a whole term of a follower's divergent log at once).
   */
  findConflictByTerm(index: number, term: number): number {
    for (let i = Math.min(index, this.lastIndex()); i > 0; i--) {
      const t = this.term(i);
      // 0 means the term is unknown here (compacted): assume a possible match.
      if (t === 0 || t <= term) return i;
    }
    return 0;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new Error(`raft-log: commit ${index} is past the last index ${this.lastIndex()}`);
    }
    this.committed = index;
  }

  /** Commits `index` if it is of `term` (§5.4.2: only entries of the current term by count). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    if (index > this.committed || index < this.applied) {
      throw new Error(`raft-log: applied ${index} outside [${this.applied}, ${this.committed}]`);
    }
    this.applied = index;
  }

  /** Highest index that may be handed out for applying. */
  private applicable(): number {
    return this.applyOnlyStable ? Math.min(this.committed, this.unstable.offset - 1) : this.committed;
  }

  /** Committed entries not yet handed out, within `maxApplyBytes`. */
  entriesToApply(): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    const hi = this.applicable();
    if (hi + 1 <= lo) return [];
    return this.slice(lo, hi + 1, this.maxApplyBytes);
  }

  hasEntriesToApply(): boolean {
    return this.applicable() > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** Entries from `index` to the end, within `maxBytes`. Throws CompactedError below the log. */
  entries(index: number, maxBytes: number): Entry[] {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, maxBytes);
  }

  /** Entries in [lo, hi) within `maxBytes`. Throws CompactedError when lo is compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    const uOff = this.unstable.offset;
    // All in the unstable tail (a leader's Replicate of entries just proposed): its slice is
    // already a new array, so no second copy.
    if (lo >= uOff) return limitSize(this.unstable.slice(lo, hi), maxBytes);
    const stored = this.storage.entries(lo, Math.min(hi, uOff), maxBytes);
    // All stored (what is applied, once persisted): the storage's array is already new.
    if (hi <= uOff || stored.length < uOff - lo) return stored;
    const out = stored.slice();
    for (const e of this.unstable.slice(uOff, hi)) out.push(e);
    return limitSize(out, maxBytes);
  }

  /** The newest snapshot known: unstable first, then storage. */
  snapshot(): SnapshotMeta {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Replaces the log with a snapshot received from the leader. */
  restore(s: SnapshotMeta): void {
    this.committed = s.index;
    this.unstable.restore(s);
  }

  stableTo(index: number, term: number): void { this.unstable.stableTo(index, term); }

  stableSnapTo(index: number): void { this.unstable.stableSnapTo(index); }
}
