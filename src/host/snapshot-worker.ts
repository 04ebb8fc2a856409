/**
 * Taking, recovering and compacting behind snapshots for one replica: §4–§5 of SNAPSHOTS.md.
 * The apply loop captures a consistent point (sessions, membership, index, and the user state
 * machine's view) between two updates; the save itself then runs here, beside stepping and
 * applying (for a regular state machine the apply loop waits for it, since its state cannot
 * be read while it changes).
 */
import { join } from 'node:path';
import { SnapshotOutOfDateError } from '../core/errors.js';
import { StateMachineType, type Membership, type SnapshotFile, type SnapshotMeta } from '../core/types.js';
import { decodeMembership, encodeMembership } from '../encoding/membership.js';
import type { LogDB } from '../contracts/log-db.js';
import type { Logger } from '../logger.js';
import { smTypeOf } from '../rsm/managed.js';
import type { StateMachineManager } from '../rsm/state-machine-manager.js';
import { FileCollector } from '../snapshot/external-files.js';
import { openSnapshotFile } from '../snapshot/file-reader.js';
import { SnapshotFileWriter } from '../snapshot/file-writer.js';
import type { SnapshotEnv, Snapshotter } from '../snapshot/snapshotter.js';
import type { AnyStateMachine, SnapshotFileInfo, SnapshotWriter } from '../contracts/state-machine.js';
import { CorruptionError } from '../errors.js';
import type { ResolvedShardConfig } from './config.js';
import type { LogReader } from './log-reader.js';

/** The consistent point of a snapshot, captured by the apply loop between two updates. */
export interface CapturedState {
  readonly index: number;
  readonly term: number;
  readonly membership: Membership;
  readonly sessions: Uint8Array;
  /** Writes the user state machine's data for this point. */
  readonly save: (w: SnapshotWriter, files: FileCollector, signal: AbortSignal) => Promise<void>;
  /** A metadata-only snapshot (on-disk state machines' local snapshots). */
  readonly dummy: boolean;
  readonly onDiskIndex: number;
}

/** Where a save goes: the replica's own set, or an export directory. */
export type SaveTarget = { readonly kind: 'local' } | { readonly kind: 'export'; readonly path: string };

/** What the worker needs of its replica. */
export interface SnapshotWorkerDeps {
  readonly cfg: ResolvedShardConfig;
  readonly sm: AnyStateMachine;
  readonly rsm: StateMachineManager;
  readonly reader: LogReader;
  readonly logdb: LogDB;
  readonly snapshotter: Snapshotter;
  readonly logger: Logger;
  /** Fires when the replica or host is closing. */
  readonly signal: AbortSignal;
  /** Log entries up to `index` were removed. */
  readonly logCompacted: (index: number) => void;
  /** Old snapshots were removed (the newest removed index). */
  readonly snapshotsCompacted: (index: number) => void;
}

/** Saves and recovers snapshots of one replica. */
export class SnapshotWorker {
  constructor(private readonly d: SnapshotWorkerDeps) {}

  /**
   * Captures the current state for a snapshot: the apply loop calls this between updates.
   * For on-disk state machines a local snapshot holds metadata only; an export is a full image.
   */
  async capture(target: SaveTarget): Promise<CapturedState> {
    const { sm, rsm, reader } = this.d;
    const index = rsm.lastApplied;
    const base = { index, term: reader.term(index), membership: rsm.membership, sessions: rsm.sessions.encode() };
    switch (sm.kind) {
      case 'regular':
        return { ...base, dummy: false, onDiskIndex: 0, save: (w, files, signal) => sm.sm.saveSnapshot(w, files, signal) };
      case 'concurrent': {
        const ctx = sm.sm.prepareSnapshot();
        return { ...base, dummy: false, onDiskIndex: 0, save: (w, files, signal) => sm.sm.saveSnapshot(ctx, w, files, signal) };
      }
      default: {
        await sm.sm.sync();
        if (target.kind === 'local') return { ...base, dummy: true, onDiskIndex: index, save: async () => {} };
        const ctx = sm.sm.prepareSnapshot();
        return { ...base, dummy: false, onDiskIndex: index, save: (w, _f, signal) => sm.sm.saveSnapshot(ctx, w, signal) };
      }
    }
  }

  /**
   * `doSaveSnapshot` of SNAPSHOTS.md §5: writes the captured state, commits it, and for local
   * snapshots records it, compacts the log and removes old snapshots. Returns the index, or 0
   * when nothing was saved (nothing new, stopped, out of date; an export is always written).
   * A failed save leaves no temporary directory behind in an export directory.
   */
  async save(c: CapturedState, target: SaveTarget, compactTo: number | null): Promise<number> {
    const { cfg, snapshotter, logger } = this.d;
    const fields = { shardId: cfg.shardId, replicaId: cfg.replicaId, index: c.index };
    if (target.kind === 'local' && c.index <= this.d.reader.snapshot().index) return 0;
    const env = target.kind === 'local' ? await snapshotter.prepareSave(c.index) : await snapshotter.prepareExport(target.path, c.index);
    let meta: SnapshotMeta;
    try {
      meta = await this.write(c, env);
    } catch (e) {
      await snapshotter.removeTemp(env).catch(() => {});
      if (this.d.signal.aborted) {
        logger.info('snapshot save stopped: closing', fields);
        return 0;
      }
      throw e;
    }
    let committed: SnapshotMeta;
    try {
      committed = await snapshotter.commit(meta, env);
    } catch (e) {
      if (e instanceof SnapshotOutOfDateError) {
        logger.info('snapshot out of date; discarded', fields);
        return 0;
      }
      // Nothing cleans an export directory at start: a failed export removes its own temp dir.
      if (target.kind === 'export') await snapshotter.removeTemp(env);
      throw e;
    }
    if (target.kind === 'export') return c.index;
    if (committed.index <= 0) throw new CorruptionError(`snapshot record of shard ${cfg.shardId} has index 0`);
    await this.d.logdb.saveUpdates([{ shardId: cfg.shardId, replicaId: cfg.replicaId, entries: [], snapshot: committed }]);
    this.d.reader.setSnapshot(committed);
    if (compactTo !== null && compactTo > 0) await this.compact(compactTo);
    const removed = await snapshotter.removeOlderThan(3);
    const newestRemoved = Math.max(0, ...removed.removed);
    if (newestRemoved > 0) this.d.snapshotsCompacted(newestRemoved);
    return c.index;
  }

  private async write(c: CapturedState, env: SnapshotEnv): Promise<SnapshotMeta> {
    const { cfg, sm, snapshotter } = this.d;
    const writer = await SnapshotFileWriter.create(env.dataPath,
      { compression: cfg.snapshotCompression, fs: snapshotter.fs, runtime: snapshotter.runtime }, c.sessions, encodeMembership(c.membership));
    const files = new FileCollector();
    try {
      this.d.signal.throwIfAborted();
      await c.save(writer, files, this.d.signal);
      this.d.signal.throwIfAborted();
    } catch (e) {
      await writer.abort();
      throw e;
    }
    const summary = await writer.finish();
    const added: SnapshotFile[] = [];
    for (const f of files.files()) added.push(await snapshotter.addExternalFile(env, f.fileId, f.path, f.metadata));
    return {
      shardId: cfg.shardId, index: c.index, term: c.term, membership: c.membership, filepath: env.dataPath,
      fileSize: summary.fileSize, checksum: summary.checksum, type: smTypeOf(sm), files: added, dummy: c.dummy,
      witness: false, onDiskIndex: c.onDiskIndex, imported: false,
    };
  }

  /**
   * Writes a full image of the current state into a private directory for one stream to a
   * follower (on-disk state machines, whose local snapshots hold no data). The caller removes
   * `dir` when the stream ends.
   */
  async writeStreamImage(): Promise<{ meta: SnapshotMeta; dir: string }> {
    const streams = join(this.d.snapshotter.dir, 'streams');
    await this.d.snapshotter.fs.promises.mkdir(streams, { recursive: true });
    const c = await this.capture({ kind: 'export', path: streams });
    const env = await this.d.snapshotter.prepareStreamImage(streams, c.index);
    try {
      const meta = await this.write(c, env);
      const committed = await this.d.snapshotter.commit(meta, env);
      return { meta: committed, dir: env.finalDir };
    } catch (e) {
      await this.d.snapshotter.removeTemp(env).catch(() => {});
      throw e;
    }
  }

  /** Removes log entries up to `index` (never past the snapshot). */
  async compact(index: number): Promise<number> {
    const { cfg, reader, logdb } = this.d;
    const upTo = Math.min(index, reader.snapshot().index);
    if (upTo < reader.firstIndex()) return 0;
    reader.compact(upTo);
    await logdb.compactEntriesTo(cfg.shardId, cfg.replicaId, upTo);
    this.d.logCompacted(upTo);
    return upTo;
  }

  /**
   * Restores the replicated state machine from a snapshot: sessions and membership, then the
   * user state machine's data (skipped for a metadata-only snapshot, and for an on-disk state
   * machine whose own state is already at least as new).
   * @throws CorruptionError when the file is damaged; the state machine is then untouched.
   */
  async recover(ss: SnapshotMeta, onDiskIndex: number): Promise<void> {
    const { sm, rsm } = this.d;
    if (ss.witness) {
      rsm.membership = ss.membership;
      rsm.lastApplied = ss.index;
      return;
    }
    // Every byte before anything is applied: the data file against the record's size and
    // checksum, each external file against its recorded CRC, the metadata file.
    await this.d.snapshotter.verify(ss);
    const file = await openSnapshotFile(ss.filepath, this.d.snapshotter.fs);
    // An imported snapshot carries the new membership in its record (the import tool rewrote
    // it); the file keeps the membership of the shard it was exported from.
    const membership = ss.imported ? ss.membership : decodeMembership(file.membership);
    const files: SnapshotFileInfo[] = ss.files.map((f) => ({ fileId: f.fileId, path: f.filepath, metadata: f.metadata }));
    if (!ss.dummy) {
      if (sm.kind === 'on-disk') {
        if (ss.onDiskIndex > onDiskIndex || ss.type !== StateMachineType.OnDisk) await sm.sm.recoverFromSnapshot(file.payload, this.d.signal);
      } else {
        await sm.sm.recoverFromSnapshot(file.payload, files, this.d.signal);
      }
    }
    rsm.sessions.restore(file.sessions);
    rsm.membership = membership;
    rsm.lastApplied = ss.index;
    if (sm.kind === 'on-disk') rsm.onDiskIndex = Math.max(onDiskIndex, ss.onDiskIndex);
  }
}
