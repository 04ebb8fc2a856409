/**
 * The snapshot flags of one replica (dragonboat's `snapshotState`): which snapshot work —
 * save, recovery, stream image — it has requested or running, the automatic snapshot it has
 * queued, and the applied index of its last requested local snapshot (SNAPSHOTS.md §2–§3).
 * Bookkeeping only: the work itself runs on the engine's snapshot workers
 * (`snapshot-scheduler.ts`), which keep a shard's pieces of work from overlapping.
 */
import type { SnapshotWorkKind } from './snapshot-scheduler.js';
import { nextAutoSnapshot } from './snapshot-stagger.js';

/** Snapshot bookkeeping of one replica. */
export class SnapshotState {
  /** `lastApplied` when the last local snapshot was requested (§2). */
  private reqIndex = 0;
  /** An automatic snapshot task is in the apply queue. */
  private autoQueued = false;
  /** Work requested or running, by kind (a save is one at a time; see {@link startSave}). */
  private readonly work: Record<SnapshotWorkKind, number> = { save: 0, recover: 0, stream: 0 };

  /** The applied index of the last requested local snapshot (0: none since the start). */
  get requestedIndex(): number { return this.reqIndex; }

  /** Whether a save (local or export) is requested or running. */
  get saving(): boolean { return this.work.save > 0; }

  /** Whether any snapshot work of the replica is requested or running (what a stop waits for). */
  get busy(): boolean { return this.work.save + this.work.recover + this.work.stream > 0; }

  /**
   * §2 admission of a user request at applied index `lastApplied`: false when there is nothing
   * to snapshot (nothing applied; or, for a local snapshot, nothing new since the last one
   * requested). An export is always admitted and is not recorded: neither a failed nor a
   * successful one holds back a later local snapshot or export.
   */
  admit(lastApplied: number, exported: boolean): boolean {
    if (lastApplied === 0 || (!exported && lastApplied === this.reqIndex)) return false;
    if (!exported) this.reqIndex = lastApplied;
    return true;
  }

  /**
   * Whether an automatic snapshot is due: the applied index has reached the next point of the
   * replica's grid (`snapshot-stagger.ts`: every `every` (> 0) entries, shifted by `phase`, at
   * least `every / 2` past the newer of the replica's snapshot and its last requested one), with
   * no save running or queued. True marks it queued until {@link startSave} takes it.
   */
  autoDue(lastApplied: number, snapshotIndex: number, every: number, phase = 0): boolean {
    if (every === 0 || this.saving || this.autoQueued) return false;
    if (lastApplied < nextAutoSnapshot(Math.max(snapshotIndex, this.reqIndex), every, phase)) return false;
    this.autoQueued = true;
    return true;
  }

  /**
   * §3: a save task reached the head of the apply queue (`auto`: the automatic one). Returns
   * false when a save is already requested or running (one at a time); otherwise the save is
   * recorded until {@link done}('save').
   */
  startSave(auto: boolean): boolean {
    if (auto) this.autoQueued = false;
    if (this.saving) return false;
    this.work.save = 1;
    return true;
  }

  /** Records requested work of `kind` (a recovery, a stream image) until {@link done}. */
  start(kind: 'recover' | 'stream'): void {
    this.work[kind]++;
  }

  /** Work of `kind` ended, either way. */
  done(kind: SnapshotWorkKind): void {
    if (this.work[kind] > 0) this.work[kind]--;
  }
}
