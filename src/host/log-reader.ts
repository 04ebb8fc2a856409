/**
 * The Raft core's view of one replica's persisted log, served from the host's LogDB
 * (dragonboat's LogReader). It tracks what the core may rely on — the snapshot and the range
 * of persisted entries — and is moved forward by the engine only after a LogDB write resolved.
 */
import { CompactedError, UnavailableError } from '../core/errors.js';
import type { LogStorage } from '../core/log-storage.js';
import { emptySnapshot, type Entry, type SnapshotMeta } from '../core/types.js';
import { EntriesCompactedError } from '../errors.js';
import type { LogDB } from '../contracts/log-db.js';

/** Applied entries a replica keeps in the LogDB's memory (see {@link LogReader.applied}). */
const KEEP_APPLIED = 32;

/** One replica's persisted log, for the core. */
export class LogReader implements LogStorage {
  private snap: SnapshotMeta;
  private first: number;
  private last: number;

  constructor(private readonly db: LogDB, private readonly shardId: number, private readonly replicaId: number) {
    this.snap = db.getSnapshot(shardId, replicaId) ?? emptySnapshot(shardId);
    const range = db.getEntryRange(shardId, replicaId);
    if (range === null || range.lastIndex <= this.snap.index) {
      this.first = this.snap.index + 1;
      this.last = this.snap.index;
    } else {
      this.first = Math.max(range.firstIndex, 1);
      this.last = range.lastIndex;
    }
  }

  firstIndex(): number { return this.first; }

  lastIndex(): number { return this.last; }

  term(index: number): number {
    if (index === this.snap.index) return this.snap.term;
    if (index < this.first) throw new CompactedError(index);
    if (index > this.last) throw new UnavailableError(index);
    const e = this.read(index, index + 1, Infinity)[0];
    if (e === undefined) throw new UnavailableError(index);
    return e.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.first) throw new CompactedError(lo);
    if (hi > this.last + 1) throw new UnavailableError(hi - 1);
    return this.read(lo, hi, maxBytes);
  }

  private read(lo: number, hi: number, maxBytes: number): Entry[] {
    try {
      return this.db.readEntries(this.shardId, this.replicaId, lo, hi, maxBytes);
    } catch (e) {
      if (e instanceof EntriesCompactedError) throw new CompactedError(lo);
      throw e;
    }
  }

  snapshot(): SnapshotMeta { return this.snap; }

  /** Entries were persisted. An entry at an index already held replaces the tail from there. */
  append(ents: readonly Entry[]): void {
    const f = ents[0];
    const l = ents[ents.length - 1];
    if (f === undefined || l === undefined) return;
    if (this.last < this.first || f.index < this.first) this.first = Math.max(f.index, this.snap.index + 1);
    this.last = l.index;
  }

  /**
   * Entries up to `index` are applied: the LogDB may drop them from memory
   * (`LogDB.releaseEntries`), all but the last {@link KEEP_APPLIED}, whose terms the protocol
   * still reads (a Replicate's previous entry, the commit check) at low load.
   */
  applied(index: number): void {
    if (index > KEEP_APPLIED) this.db.releaseEntries?.(this.shardId, this.replicaId, index - KEEP_APPLIED);
  }

  /** A snapshot received from the leader was persisted: it replaces the whole log. */
  applySnapshot(ss: SnapshotMeta): void {
    this.snap = ss;
    this.first = ss.index + 1;
    this.last = ss.index;
  }

  /** A snapshot taken locally was recorded; the log is kept. */
  setSnapshot(ss: SnapshotMeta): void {
    if (ss.index > this.snap.index) this.snap = ss;
  }

  /** Entries up to `index` were removed from the LogDB. */
  compact(index: number): void {
    if (index >= this.first) this.first = Math.min(index + 1, this.last + 1);
  }
}
