/**
 * The default LogDB: one write-ahead log shared by every shard of a host.
 *
 * Writes queue up and are laid out into ONE batch frame per group commit: while a write and
 * its fdatasync are in flight, every call that arrives waits in the queue, and the next
 * commit carries all of them with one write and one sync. The in-memory index (wal-index.ts)
 * changes as a batch is laid out, so a call's effect is visible to readers from then on;
 * its promise resolves once the batch is durable. Recovery is in wal-recovery.ts, space
 * reclamation in wal-compaction.ts, the file format in wal-format.ts and wal-records.ts.
 */
import { SegmentPreallocator } from './wal-prealloc.js';
import { LoopSyncGate } from './loop-sync-gate.js';
import { CommitBuffer } from './wal-commit-buffer.js';
import type { WalStats } from './wal-stats.js';
import { EMPTY_HARD_STATE, entrySize, type Entry, type HardState, type SnapshotMeta } from '../core/types.js';
import { ClosedError, CorruptionError, EntriesCompactedError, type StorageError } from '../errors.js';
import { checkReplicaIds, checkUpdateShape, planCall } from './log-db.js';
import type { Bootstrap, EntryRange, LogDB, ReplicaKey, ReplicaUpdate } from '../contracts/log-db.js';
import { writeBootstrapFixed } from '../encoding/bootstrap.js';
import { fixedEntryTermAt, readEntryFixed, writeEntryFixed } from '../encoding/entry.js';
import { writeHardStateFixed } from '../encoding/hard-state.js';
import { Reader } from '../encoding/reader.js';
import { FIXED } from '../encoding/layout.js';
import { writeSnapshotMeta } from '../encoding/snapshot-meta.js';
import type { Writer } from '../encoding/writer.js';
import { SegmentFiles, syncDir } from './segment-files.js';
import { chooseVictim, copyLiveEntries, overBound, type CopiedEntry } from './wal-compaction.js';
import { FRAME_HEADER_BYTES, FrameType, sealFrame } from './wal-format.js';
import { WalIndex, type WalReplica } from './wal-index.js';
import { beginRecord, endRecord, RecordType, writeCheckpoint, type CheckpointReplica } from './wal-records.js';
import { importInto, recoverWal } from './wal-recovery.js';
import { walError } from './wal-error.js';
import { commitOnly, estimateBytes, storedEntrySize } from './wal-sizes.js';
import { resolveWalOptions, type ResolvedWalOptions, type WalLogDBOptions } from './wal-options.js';
import { fdatasyncFd, writeFd, type Clock, type FileSystem } from '../runtime/index.js';

export type { WalLogDBOptions } from './wal-options.js';
export type { WalStats } from './wal-stats.js';

type Op = { resolve: () => void; reject: (err: unknown) => void } & (
  | { kind: 'save'; updates: readonly ReplicaUpdate[] }
  | { kind: 'bootstrap'; shardId: number; replicaId: number; info: Bootstrap }
  | { kind: 'removeTo'; shardId: number; replicaId: number; index: number; compact: boolean }
  | { kind: 'removeReplica'; shardId: number; replicaId: number }
  | { kind: 'import'; shardId: number; replicaId: number; snapshot: SnapshotMeta }
);
type OpInput = Op extends infer O ? (O extends Op ? Omit<O, 'resolve' | 'reject'> : never) : never;

const MiB = 1 << 20;

/** Largest commit whose fdatasync may run on the event loop (see `WalLogDB.sync`). */
const SYNC_FSYNC_BYTES = 4096;

/** Batches up to this size are written with a synchronous write(2); larger ones on the thread pool. */
const SYNC_WRITE_BYTES = MiB;

/** The write-ahead-log {@link LogDB}. Open with {@link WalLogDB.open}. */
export class WalLogDB implements LogDB {
  private readonly queue: Op[] = [];
  /** Every commit's buffer (`wal-commit-buffer.ts`). */
  private readonly commitBuffer = new CommitBuffer();
  private flushing = false;
  private scheduled = false;
  private gcWanted = false;
  private needRotate = true;
  private current = 0;
  private segEnd = 0;
  private lastCheckpointBytes = 0;
  private closing = false;
  private closePromise: Promise<void> | null = null;
  private failure: StorageError | null = null;
  private idleWaiters: (() => void)[] = [];
  private background: Promise<void> = Promise.resolve();
  private counters = { writes: 0, syncs: 0, bytesWritten: 0, copiedBytes: 0, truncatedAtOpen: 0, entriesReadFromDisk: 0 };
  private syncObserver: ((seconds: number, bytes: number) => void) | null = null;
  /** Replicas whose latest hard state differs from the stored one only by its commit index. */
  private readonly deferred = new Set<WalReplica>();
  /** The commit being made is the first since the log sat idle. */
  private idleStart = false;
  private readonly loopSync = new LoopSyncGate();
  /** The current segment's zero-filled extent (with fsync on; see wal-prealloc.ts). */
  private readonly prealloc: SegmentPreallocator;
  /** The file system and clock of the runtime, resolved once. */
  private readonly fs: FileSystem;
  private readonly clock: Clock;

  private constructor(
    private readonly segments: SegmentFiles,
    private readonly index: WalIndex,
    private readonly opts: ResolvedWalOptions,
  ) {
    this.fs = opts.fs;
    this.clock = opts.runtime.clock;
    this.prealloc = new SegmentPreallocator(opts.segmentBytes, () => this.segments.fd(this.current), (err) => this.fail(err), this.fs);
  }

  /**
   * Opens (or creates) the LogDB in `options.dir`, replaying its log. A torn tail is
   * truncated; the new segment it then starts is durable before this resolves.
   * @throws InvalidOptionError for bad options; CorruptionError (naming file and offset)
   * for damage other than a torn tail; file system errors as they come.
   */
  static async open(options: WalLogDBOptions): Promise<WalLogDB> {
    const opts = resolveWalOptions(options);
    for (const d of new Set([opts.dir, opts.walDir])) {
      opts.fs.mkdirSync(d, { recursive: true });
      if (opts.fsync) await syncDir(opts.fs, d);
    }
    const segments = new SegmentFiles(opts.walDir, opts.fsync, opts.fs);
    const index = new WalIndex();
    try {
      const { lastId, truncatedBytes } = recoverWal(segments, index);
      const db = new WalLogDB(segments, index, opts);
      db.current = lastId;
      db.counters.truncatedAtOpen = truncatedBytes;
      await db.flushOnce();
      db.afterCommit();
      return db;
    } catch (err) {
      segments.closeAll();
      throw err;
    }
  }

  // ---- writes ---------------------------------------------------------------------------

  private enqueue(op: OpInput): Promise<void> {
    if (this.closing) return Promise.reject(new ClosedError('LogDB is closed'));
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...op, resolve, reject } as Op);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    // A microtask lets every call made in the same tick join the first commit.
    queueMicrotask(() => void this.flushLoop());
  }

  private async flushLoop(): Promise<void> {
    this.scheduled = false;
    this.flushing = true;
    // The first commit after the log sat idle may sync on the event loop (see `sync`).
    this.idleStart = true;
    try {
      while (this.failure === null && (this.queue.length > 0 || this.gcWanted)) {
        await this.flushOnce();
        this.idleStart = false;
        this.afterCommit();
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0 && this.failure === null) this.schedule();
      else for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Fails the log for good, never retried: after a failed write or sync the file is unknown (fsyncgate). */
  private fail(err: unknown): void {
    this.failure ??= walError(err, this.segments.file(this.current));
    for (const op of this.queue.splice(0)) op.reject(this.failure);
  }

  /** The error that stopped this log (a write, sync or segment creation failed; it stays), or null. */
  storageFailure(): StorageError | null {
    return this.failure;
  }

  /** One group commit: lay out every queued op (and compaction copies), write, sync. */
  private async flushOnce(): Promise<void> {
    if (this.needRotate) {
      await this.prealloc.settle();
      // Give back the preallocated zeros past the data (recovery would skip them anyway).
      if (this.prealloc.allocEnd > this.segEnd) this.segments.truncate(this.current, this.segEnd);
      const id = this.current + 1;
      await this.segments.create(id);
      this.current = id;
      this.segEnd = 0;
      this.prealloc.reset();
    }
    const ops = this.queue.splice(0);
    const w = this.commitBuffer.take(estimateBytes(ops) + (this.gcWanted ? this.opts.compactionCopyBytes : 0));
    if (this.needRotate) {
      w.pos = FRAME_HEADER_BYTES;
      // The checkpoint restates every hard state, deferred ones included.
      this.deferred.clear();
      writeCheckpoint(w, this.checkpointRows(), this.index.replicas.size);
      sealFrame(w.buf, 0, w.pos, FrameType.Checkpoint);
      this.lastCheckpointBytes = w.pos;
      this.needRotate = false;
    }
    const batchStart = w.pos;
    w.ensure(FRAME_HEADER_BYTES);
    w.pos += FRAME_HEADER_BYTES;
    const base = this.segEnd;
    // Copies go first: they restate entries as they are before this batch's ops.
    const copies = this.gcWanted ? this.planCopies(w) : [];
    const accepted: Op[] = [];
    for (const op of ops) {
      try { this.layOut(op, w, base); accepted.push(op); } catch (err) { op.reject(err); }
    }
    if (this.deferred.size > 0 && (w.pos > batchStart + FRAME_HEADER_BYTES || this.closing)) this.layOutDeferred(w);
    if (w.pos === batchStart + FRAME_HEADER_BYTES) w.pos = batchStart;
    else sealFrame(w.buf, batchStart, w.pos, FrameType.Batch);
    try {
      if (w.pos > 0) {
        const fd = this.segments.fd(this.current);
        if (this.opts.fsync) await this.prealloc.ensure(base + w.pos);
        // A background preallocation on this file may have failed meanwhile.
        if (this.failure !== null) throw this.failure;
        // Small batches go to the page cache synchronously (microseconds), saving a round
        // trip through the thread pool; only large ones, and the fdatasync, leave the loop.
        if (w.pos <= SYNC_WRITE_BYTES) {
          for (let done = 0; done < w.pos;) done += this.fs.writeSync(fd, w.buf, done, w.pos - done, base + done);
        } else {
          for (let done = 0; done < w.pos;) done += await writeFd(this.fs, fd, w.buf, done, w.pos - done, base + done);
        }
        this.counters.writes++;
        this.counters.bytesWritten += w.pos;
        // Every batch written is synced: commit-only hard states, the one change that may wait,
        // are deferred rather than written (see `layOut`).
        const mark = this.prealloc.syncMark();
        await this.sync(fd, w.pos);
        // A preallocation's fdatasync beside this one may have taken the write-back error (it is
        // reported once per file): wait for its outcome before acknowledging (fsyncgate).
        if (this.prealloc.overlapped(mark)) await this.prealloc.settle();
        if (this.failure !== null) throw this.failure;
        this.segEnd += w.pos;
        this.segments.setSize(this.current, this.segEnd);
        if (this.opts.fsync) this.prealloc.ahead(this.segEnd);
      }
    } catch (err) {
      this.fail(err);
      for (const op of accepted) op.reject(this.failure);
      return;
    }
    for (const c of copies) {
      const r = this.index.replicas.get(c.key);
      if (r !== undefined) this.index.relocate(r, c.index, { seg: c.fromSeg, off: c.fromOff }, this.current, base + c.bufPos);
    }
    for (const op of accepted) op.resolve();
  }

  /** fdatasync of `fd` (when fsync is on), reported to the sync observer. */
  private async sync(fd: number, bytes: number): Promise<void> {
    if (!this.opts.fsync) return;
    const obs = this.syncObserver, t0 = this.clock.now();
    // A small commit after an idle spell syncs on the loop (no thread-pool hand-off) while the
    // disk is fast (loop-sync-gate.ts); otherwise the thread pool syncs beside other work.
    if (this.loopSync.allow(this.idleStart, bytes, SYNC_FSYNC_BYTES)) this.fs.fdatasyncSync(fd);
    else await fdatasyncFd(this.fs, fd);
    const ms = this.loopSync.record(this.clock.now() - t0);
    this.counters.syncs++;
    if (obs !== null) obs(ms / 1000, bytes);
  }

  /** Hard states whose commit-only change was deferred, for replicas still held. */
  private layOutDeferred(w: Writer): void {
    for (const r of this.deferred) {
      if (this.index.get(r.shardId, r.replicaId) !== r) continue;
      const at = beginRecord(w, RecordType.HardState, r.shardId, r.replicaId);
      writeHardStateFixed(w, r.hardState);
      endRecord(w, at);
    }
    this.deferred.clear();
  }

  private *checkpointRows(): Generator<CheckpointReplica> {
    for (const r of this.index.replicas.values()) {
      const { first, last } = this.index.window(r);
      yield { shardId: r.shardId, replicaId: r.replicaId, hardState: r.hardState, snapshot: r.snapshot, bootstrap: r.bootstrap, first, last };
    }
  }

  private planCopies(w: Writer): CopiedEntry[] {
    const victim = chooseVictim(this.segments, this.index, this.current);
    if (victim === null) { this.gcWanted = false; return []; }
    const copies = copyLiveEntries(w, this.segments, this.index, victim, this.opts.compactionCopyBytes);
    for (const c of copies) {
      const r = this.index.replicas.get(c.key) as WalReplica;
      this.counters.copiedBytes += r.locs.lenAt(c.index);
    }
    return copies;
  }

  /** Encodes one op into the batch and applies it to the index. Throws before either if invalid. */
  private layOut(op: Op, w: Writer, base: number): void {
    const { index } = this;
    switch (op.kind) {
      case 'save': {
        const plans = planCall(op.updates, (u) => {
          const r = index.get(u.shardId, u.replicaId);
          return { window: index.window(r), termAt: (i: number) => (r === undefined ? undefined : this.termAt(r, i)) };
        });
        op.updates.forEach((u, k) => {
          const plan = plans[k];
          if (plan === undefined || (u.hardState === undefined && !plan.takeSnapshot && u.entries.length === 0)) return;
          const r = index.ensure(u.shardId, u.replicaId);
          if (!plan.takeSnapshot && u.entries.length === 0 && u.hardState !== undefined && commitOnly(r.hardState, u.hardState)) {
            // Only the commit index moved: no record now; the next batch that writes
            // anything else (or a checkpoint, or close) carries it.
            r.hardState = u.hardState;
            this.deferred.add(r);
            return;
          }
          if (plan.takeSnapshot && u.snapshot !== undefined) {
            const at = beginRecord(w, RecordType.Snapshot, u.shardId, u.replicaId);
            w.u8(plan.dropEntries ? 1 : 0);
            writeSnapshotMeta(w, u.snapshot, FIXED);
            endRecord(w, at);
            r.snapshot = u.snapshot;
            if (plan.dropEntries) index.dropEntries(r);
          }
          if (u.entries.length > 0) this.layOutEntries(r, u.entries, w, base);
          if (u.hardState !== undefined) {
            const at = beginRecord(w, RecordType.HardState, u.shardId, u.replicaId);
            writeHardStateFixed(w, u.hardState);
            endRecord(w, at);
            r.hardState = u.hardState;
            this.deferred.delete(r);
          }
        });
        break;
      }
      case 'bootstrap': {
        const at = beginRecord(w, RecordType.Bootstrap, op.shardId, op.replicaId);
        writeBootstrapFixed(w, op.info);
        endRecord(w, at);
        index.ensure(op.shardId, op.replicaId).bootstrap = op.info;
        break;
      }
      case 'removeTo': {
        const at = beginRecord(w, RecordType.RemoveTo, op.shardId, op.replicaId);
        w.u64le(op.index);
        endRecord(w, at);
        const r = index.get(op.shardId, op.replicaId);
        if (r !== undefined) index.removeTo(r, op.index);
        if (op.compact) this.gcWanted = true;
        break;
      }
      case 'removeReplica':
        endRecord(w, beginRecord(w, RecordType.RemoveReplica, op.shardId, op.replicaId));
        index.removeReplica(op.shardId, op.replicaId);
        break;
      case 'import': {
        const at = beginRecord(w, RecordType.Import, op.shardId, op.replicaId);
        writeSnapshotMeta(w, op.snapshot, FIXED);
        endRecord(w, at);
        importInto(index, op.shardId, op.replicaId, op.snapshot);
        break;
      }
    }
  }

  private layOutEntries(r: WalReplica, entries: readonly Entry[], w: Writer, base: number): void {
    const { index } = this;
    const e0 = (entries[0] as Entry).index;
    if (r.locs.count === 0 || e0 <= r.locs.first) index.dropEntries(r);
    else index.truncateFrom(r, e0);
    const at = beginRecord(w, RecordType.Entries, r.shardId, r.replicaId);
    w.u32le(entries.length);
    const first = w.pos;
    for (const e of entries) {
      const pos = w.pos;
      writeEntryFixed(w, e);
      index.pushUncounted(r, e.index, this.current, base + pos, w.pos - pos, e);
    }
    // The run's entries are contiguous: their bytes count as live in one update.
    index.addLive(this.current, w.pos - first);
    endRecord(w, at);
  }

  /** Bookkeeping after a commit: delete dead segments, decide on compaction and rotation. */
  private afterCommit(): void {
    const { index, segments } = this;
    for (const id of segments.ids()) {
      if (id === this.current || (index.live.get(id) ?? 0) > 0) continue;
      index.live.delete(id);
      const del = segments.delete(id);
      // Deletion is reclamation, not durability: a failure leaves a file recovery replays harmlessly.
      this.background = this.background.then(() => del).catch(() => undefined);
    }
    this.gcWanted = overBound(segments.totalBytes(), index.liveBytes(), this.opts.segmentBytes)
      && chooseVictim(segments, index, this.current) !== null;
    if (this.segEnd >= this.opts.segmentBytes && this.segEnd >= 2 * this.lastCheckpointBytes) this.needRotate = true;
    index.evict(this.opts.cacheBytes);
  }

  /** {@inheritDoc LogDB.saveUpdates} */
  saveUpdates(updates: readonly ReplicaUpdate[]): Promise<void> {
    try { for (const u of updates) checkUpdateShape(u); } catch (err) { return Promise.reject(err); }
    return this.enqueue({ kind: 'save', updates });
  }

  /** {@inheritDoc LogDB.saveBootstrap} */
  saveBootstrap(shardId: number, replicaId: number, info: Bootstrap): Promise<void> {
    try { checkReplicaIds(shardId, replicaId); } catch (err) { return Promise.reject(err); }
    return this.enqueue({ kind: 'bootstrap', shardId, replicaId, info });
  }

  /** {@inheritDoc LogDB.removeEntriesTo} */
  removeEntriesTo(shardId: number, replicaId: number, index: number): Promise<void> {
    return this.remove(shardId, replicaId, index, false);
  }

  /**
   * Removes entries at or below `index` at once for readers and gives back the space they
   * held; resolves once durable. Segments left without live entries are deleted after the
   * commit that records the
   * removal; compaction copies run in following commits while the space bound is exceeded.
   */
  compactEntriesTo(shardId: number, replicaId: number, index: number): Promise<void> {
    return this.remove(shardId, replicaId, index, true);
  }

  private remove(shardId: number, replicaId: number, index: number, compact: boolean): Promise<void> {
    try { checkReplicaIds(shardId, replicaId); } catch (err) { return Promise.reject(err); }
    const p = this.enqueue({ kind: 'removeTo', shardId, replicaId, index, compact });
    const r = this.index.get(shardId, replicaId);
    // At once for readers; the queued record repeats it in order (removal is idempotent).
    if (!this.closing && this.failure === null && r !== undefined) this.index.removeTo(r, index);
    return p;
  }

  /** {@inheritDoc LogDB.removeReplicaData} */
  removeReplicaData(shardId: number, replicaId: number): Promise<void> {
    try { checkReplicaIds(shardId, replicaId); } catch (err) { return Promise.reject(err); }
    const p = this.enqueue({ kind: 'removeReplica', shardId, replicaId });
    if (!this.closing && this.failure === null) this.index.removeReplica(shardId, replicaId);
    return p;
  }

  /** {@inheritDoc LogDB.importSnapshot} */
  importSnapshot(snapshot: SnapshotMeta, replicaId: number): Promise<void> {
    try { checkReplicaIds(snapshot.shardId, replicaId); } catch (err) { return Promise.reject(err); }
    return this.enqueue({ kind: 'import', shardId: snapshot.shardId, replicaId, snapshot });
  }

  // ---- reads ----------------------------------------------------------------------------

  private replica(shardId: number, replicaId: number): WalReplica | undefined {
    if (this.closing) throw new ClosedError('LogDB is closed');
    return this.index.get(shardId, replicaId);
  }

  private termAt(r: WalReplica, i: number): number | undefined {
    const c = this.index.cached(r, i);
    if (c !== undefined) return c.term;
    if (r.locs.count === 0 || i < r.locs.first || i > r.locs.last) return undefined;
    return fixedEntryTermAt(this.segments.read(r.locs.segAt(i), r.locs.offAt(i), 8), 0);
  }

  /** {@inheritDoc LogDB.readEntries} */
  readEntries(shardId: number, replicaId: number, low: number, high: number, maxBytes: number): Entry[] {
    const r = this.replica(shardId, replicaId);
    if (r === undefined || r.locs.count === 0) return [];
    const { locs } = r;
    if (low < locs.first) throw new EntriesCompactedError(`shard ${shardId} replica ${replicaId}: entry ${low} is below first ${locs.first}`);
    const end = Math.min(high, locs.last + 1);
    const out: Entry[] = [];
    let size = 0;
    let i = low;
    while (i < end) {
      const c = this.index.cached(r, i);
      if (c !== undefined) {
        size += entrySize(c);
        if (out.length > 0 && size > maxBytes) break;
        out.push(c);
        i++;
        continue;
      }
      // Entries stored back to back in one segment come back with one read.
      const seg = locs.segAt(i), off0 = locs.offAt(i);
      const diskEnd = r.cache.length > 0 ? Math.min(end, r.cacheFirst) : end;
      let j = i, at = off0, full = false;
      for (; j < diskEnd && locs.segAt(j) === seg && locs.offAt(j) === at; j++) {
        const s = storedEntrySize(locs.lenAt(j));
        if (out.length + (j - i) > 0 && size + s > maxBytes) { full = true; break; }
        size += s;
        at += locs.lenAt(j);
      }
      if (j > i) {
        const reader = new Reader(this.segments.read(seg, off0, at - off0));
        for (let k = i; k < j; k++) out.push(this.decodeAt(reader, seg, off0, k));
        this.counters.entriesReadFromDisk += j - i;
      }
      if (full) break;
      i = j;
    }
    return out;
  }

  /**
   * Drops the replica's cached entries up to `index` (they stay on disk and readable); see
   * `LogDB.releaseEntries`. Holding applied entries until `cacheBytes` made every small entry
   * survive into V8's old generation, and garbage collection cost the host a quarter more CPU
   * per proposal (issue 19). Never throws.
   */
  releaseEntries(shardId: number, replicaId: number, index: number): void {
    if (this.closing) return;
    const r = this.index.get(shardId, replicaId);
    if (r !== undefined) this.index.uncacheTo(r, index);
  }

  private decodeAt(reader: Reader, seg: number, off0: number, expected: number): Entry {
    const at = reader.pos;
    try {
      const e = readEntryFixed(reader, false);
      if (e.index !== expected) throw new Error(`found entry ${e.index}`);
      return e;
    } catch (err) {
      throw new CorruptionError(`bad entry ${expected} in ${this.segments.file(seg)} at offset ${off0 + at}`,
        { file: this.segments.file(seg), offset: off0 + at, cause: err });
    }
  }

  /** {@inheritDoc LogDB.getEntryRange} */
  getEntryRange(shardId: number, replicaId: number): EntryRange | null {
    const r = this.replica(shardId, replicaId);
    if (r === undefined || r.locs.count === 0) return null;
    return { firstIndex: r.locs.first, lastIndex: r.locs.last };
  }

  /** {@inheritDoc LogDB.readHardState} */
  readHardState(shardId: number, replicaId: number): HardState {
    return this.replica(shardId, replicaId)?.hardState ?? EMPTY_HARD_STATE;
  }

  /** {@inheritDoc LogDB.getSnapshot} */
  getSnapshot(shardId: number, replicaId: number): SnapshotMeta | null {
    return this.replica(shardId, replicaId)?.snapshot ?? null;
  }

  /** {@inheritDoc LogDB.getBootstrap} */
  getBootstrap(shardId: number, replicaId: number): Bootstrap | null {
    return this.replica(shardId, replicaId)?.bootstrap ?? null;
  }

  /** {@inheritDoc LogDB.listReplicas} */
  listReplicas(): ReplicaKey[] {
    if (this.closing) throw new ClosedError('LogDB is closed');
    return [...this.index.replicas.values()].map((r) => ({ shardId: r.shardId, replicaId: r.replicaId }));
  }

  /**
   * Installs (null removes) a function told, after each group commit's fdatasync, how long the
   * sync took in seconds and how many bytes it made durable: the hook of the fsync latency
   * histogram. It runs on the commit path: it must be cheap and must not throw. Without one,
   * no clock is read.
   */
  setSyncObserver(fn: ((seconds: number, bytes: number) => void) | null): void {
    this.syncObserver = fn;
  }

  /** Counters and sizes; see {@link WalStats}. */
  stats(): WalStats {
    return {
      ...this.counters, segments: this.segments.ids().length, totalBytes: this.segments.totalBytes(), liveBytes: this.index.liveBytes(),
    };
  }

  /**
   * Waits for pending writes, then releases files. Idempotent.
   * Rejects with the StorageError if a write had failed; files are released either way.
   */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      this.closing = true;
      if (this.flushing || this.scheduled || this.queue.length > 0) await new Promise<void>((res) => this.idleWaiters.push(res));
      await this.background;
      await this.prealloc.settle();
      // Deferred commit indexes are written on a clean close (a crash may lose them: harmless).
      if (this.deferred.size > 0 && this.failure === null) await this.flushOnce().catch(() => {});
      // A clean close leaves no preallocated zeros behind.
      if (this.failure === null && this.prealloc.allocEnd > this.segEnd) {
        try { this.segments.truncate(this.current, this.segEnd); } catch { /* recovery skips a zero tail anyway */ }
      }
      this.segments.closeAll();
    })();
    return this.closePromise;
  }
}
