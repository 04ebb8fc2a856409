/**
 * The part of the log not yet persisted: entries (and possibly a snapshot) that the host has
 * not acknowledged as persisted. `offset` is the index of `entries[0]`. Entries below
 * `offsetInProgress` (and the snapshot, while `snapshotInProgress`) were handed to the host
 * in an update whose write may still be running (etcd's async storage writes): they are not
 * handed out again unless a conflicting append replaces them.
 */
import type { Entry, SnapshotMeta } from './types.js';

/** Unpersisted entries and snapshot. */
export class Unstable {
  snapshot: SnapshotMeta | null = null;
  entries: Entry[] = [];
  offset: number;
  /** Entries below this index were handed to the host. Invariant: offset <= offsetInProgress <= offset + entries.length. */
  offsetInProgress: number;
  /** The snapshot was handed to the host. */
  snapshotInProgress = false;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** The first index, when a snapshot is pending. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.index + 1 : undefined;
  }

  /** The last index held here, if any. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.index : undefined;
  }

  /** The term of `index`, if this part of the log knows it. */
  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      if (this.snapshot && this.snapshot.index === index) return this.snapshot.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset]?.term;
  }

  /** Entries not yet handed to the host. */
  entriesToSave(): Entry[] {
    return this.entries.slice(this.offsetInProgress - this.offset);
  }

  /** The snapshot, when it was not yet handed to the host. */
  snapshotToSave(): SnapshotMeta | null {
    return this.snapshotInProgress ? null : this.snapshot;
  }

  /** Whether entries, or a snapshot, wait to be handed to the host. */
  hasWork(): boolean {
    return this.offsetInProgress < this.offset + this.entries.length || (this.snapshot !== null && !this.snapshotInProgress);
  }

  /** Marks everything held as handed to the host. */
  acceptInProgress(): void {
    this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== null) this.snapshotInProgress = true;
  }

  /** Entries up to (index, term) were persisted. */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index);
    if (t === undefined || t !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  /** The snapshot at `index` was persisted. */
  stableSnapTo(index: number): void {
    if (this.snapshot && this.snapshot.index === index) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  /** Replaces everything with a snapshot. */
  restore(s: SnapshotMeta): void {
    this.offset = s.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  /** Appends `ents`, replacing any conflicting suffix. */
  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      this.offset = after;
      this.offsetInProgress = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset);
      for (const e of ents) this.entries.push(e);
      // Replaced entries that were being written are written again, after that write.
      this.offsetInProgress = Math.min(this.offsetInProgress, after);
    }
  }

  /** Entries in [lo, hi); the caller checks bounds. */
  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
