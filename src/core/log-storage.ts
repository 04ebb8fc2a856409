/**
 * The persisted log as the protocol reads it. Reads are synchronous: the host backs this with
 * its LogDB (which serves reads from memory or with synchronous file reads), the tests and the
 * simulator with {@link MemoryLogStorage}. The protocol never writes here; the host appends
 * what an update asked it to persist, then acknowledges the update.
 */
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from './errors.js';
import { emptySnapshot, entrySize, type Entry, type HardState, EMPTY_HARD_STATE, type SnapshotMeta } from './types.js';

/** Synchronous read access to a replica's persisted log. */
export interface LogStorage {
  /** Index of the first entry still held (snapshot index + 1 when compacted). */
  firstIndex(): number;
  /** Index of the last entry held (the snapshot index when no entry follows it). */
  lastIndex(): number;
  /**
   * Term of the entry at `index`, for `firstIndex() - 1 <= index <= lastIndex()`.
   * @throws CompactedError below that range; UnavailableError above it.
   */
  term(index: number): number;
  /**
   * Entries in [lo, hi), stopping once their sizes pass `maxBytes` (at least one entry), in
   * a new array the caller may keep (the log hands it out as it is, never changing it).
   * @throws CompactedError if `lo < firstIndex()`; UnavailableError if `hi > lastIndex() + 1`.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The newest snapshot record (index 0 when none). */
  snapshot(): SnapshotMeta;
}

/**
 * Selects a prefix of `ents` whose total size stays within `maxBytes`, always keeping the
 * first entry so progress is possible with entries larger than the limit.
 */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0] as Entry);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n] as Entry);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/**
 * A {@link LogStorage} held in memory, with the write side a host would have. Used by tests
 * and the simulator, where "persisted" means "written here".
 */
export class MemoryLogStorage implements LogStorage {
  /** Persisted hard state. */
  hardState: HardState = EMPTY_HARD_STATE;
  private snap: SnapshotMeta;
  // ents[0] is a dummy standing for the snapshot position.
  private ents: Entry[];

  /** Creates an empty log (no entries, no snapshot) for `shardId`. */
  constructor(shardId = 0) {
    this.snap = emptySnapshot(shardId);
    this.ents = [{ term: 0, index: 0, type: 0, key: 0, clientId: 0, seriesId: 0, respondedTo: 0, cmd: new Uint8Array(0) }];
  }

  private get offset(): number { return (this.ents[0] as Entry).index; }

  firstIndex(): number { return this.offset + 1; }

  lastIndex(): number { return this.offset + this.ents.length - 1; }

  term(index: number): number {
    if (index < this.offset) throw new CompactedError(index);
    const e = this.ents[index - this.offset];
    if (e === undefined) throw new UnavailableError(index);
    return e.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo <= this.offset) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    return limitSize(this.ents.slice(lo - this.offset, hi - this.offset), maxBytes);
  }

  snapshot(): SnapshotMeta { return this.snap; }

  /**
   * Appends entries; an entry at an index already held replaces that index and everything
   * after it (a new leader's log). Entries below the first index are ignored.
   * @throws UnavailableError when the entries would leave a gap after the last index.
   */
  append(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const firstIdx = this.firstIndex();
    const last = (ents[ents.length - 1] as Entry).index;
    if (last < firstIdx) return;
    const from = first.index < firstIdx ? ents.slice(firstIdx - first.index) : ents;
    const start = (from[0] as Entry).index;
    if (start > this.lastIndex() + 1) throw new UnavailableError(start);
    this.ents = this.ents.slice(0, start - this.offset);
    for (const e of from) this.ents.push(e);
  }

  /**
   * Replaces the log with a snapshot (a follower installing one from the leader).
   * @throws SnapshotOutOfDateError when `s` is older than the snapshot held.
   */
  applySnapshot(s: SnapshotMeta): void {
    if (s.index < this.snap.index) throw new SnapshotOutOfDateError(s.index, this.snap.index);
    this.snap = s;
    this.ents = [{ term: s.term, index: s.index, type: 0, key: 0, clientId: 0, seriesId: 0, respondedTo: 0, cmd: new Uint8Array(0) }];
  }

  /**
   * Records a snapshot taken locally at or below the last index; keeps the log.
   * @throws SnapshotOutOfDateError when `s` is older than the snapshot held.
   */
  setSnapshot(s: SnapshotMeta): void {
    if (s.index < this.snap.index) throw new SnapshotOutOfDateError(s.index, this.snap.index);
    this.snap = s;
  }

  /**
   * Removes entries at or below `index` (they must be covered by a snapshot or applied).
   * @throws UnavailableError when `index` is past the last index.
   */
  compact(index: number): void {
    if (index <= this.offset) return;
    if (index > this.lastIndex()) throw new UnavailableError(index);
    this.ents = this.ents.slice(index - this.offset);
  }
}
