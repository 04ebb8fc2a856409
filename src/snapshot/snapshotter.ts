/**
 * The snapshotter of one replica (dragonboat's `Snapshotter`): owns the replica's snapshot
 * root and the rules that make snapshots appear atomically.
 *
 * - A snapshot is written into a temporary directory (`snapshot-<hex>[-n].generating` for
 *   saves, `.receiving` for incoming streams) and becomes visible only by `commit`: metadata
 *   file written and fsynced, every file and the directory fsynced, one rename to
 *   `snapshot-<hex>`, the root fsynced. A crash at any point leaves the previous set or the
 *   new one; `cleanupAtStart` removes what a crash left.
 * - A commit older than (or equal to) a committed snapshot is refused
 *   ({@link SnapshotOutOfDateError}) and its temporary directory removed.
 * - Removal renames the directory to `.deleting` first, so no crash leaves half of a final
 *   directory behind, and is deferred while a stream holds the snapshot (`acquire`).
 *
 * Commits, removals and cleanup run one at a time (an internal queue), so a commit never races
 * a removal. All methods throw typed errors: StorageError for I/O, CorruptionError for damage.
 */
import * as path from 'node:path';
import { SnapshotOutOfDateError } from '../core/errors.js';
import type { SnapshotFile, SnapshotMeta } from '../core/types.js';
import { EMPTY_BYTES } from '../core/types.js';
import { CorruptionError, InvalidOperationError, SnapshotNotFoundError } from '../errors.js';
import { noopLogger, type Logger } from '../logger.js';
import { fsyncDirTree, isErrno, mkdirDurable, removeDirDurable, renameDurable, storageError } from './durable-fs.js';
import { fileCrc, linkOrCopyInto } from './external-files.js';
import { verifySnapshotFile } from './file-reader.js';
import { writeMetadataFile } from './metadata-file.js';
import { listSnapshotDirs, readSnapshotDir, sameSnapshotFiles, type SnapshotDirEntry, verifySnapshotDir } from './snapshot-dir.js';
import { dataFileName, DirKind, exportDirName, exportTempDirName, finalDirName, tempDirName } from './snapshot-names.js';
import { realRuntime, type FileSystem, type Runtime } from '../runtime/index.js';

/** Why a temporary directory exists. */
export const EnvKind = { Save: 'save', Receive: 'receive', Export: 'export', Stream: 'stream' } as const;
/** One of {@link EnvKind}. */
export type EnvKind = (typeof EnvKind)[keyof typeof EnvKind];

/** Where one snapshot is being written, and where it will live once committed. */
export interface SnapshotEnv {
  readonly kind: EnvKind;
  readonly index: number;
  /** The temporary directory (already created). */
  readonly tempDir: string;
  /** The directory the commit renames `tempDir` to. */
  readonly finalDir: string;
  /** Where the snapshot data file should be written (inside `tempDir`). */
  readonly dataPath: string;
}

/** Options of a {@link Snapshotter}. */
export interface SnapshotterOptions {
  /** The replica's snapshot root, e.g. `<nodeHostDir>/snapshots/shard-<s>-replica-<r>`. */
  readonly dir: string;
  readonly shardId: number;
  readonly replicaId: number;
  readonly logger?: Logger;
  /** Where every file call goes (`runtime.fs`); default {@link realRuntime}. */
  readonly runtime?: Runtime;
}

/** What {@link Snapshotter.cleanupAtStart} removed. */
export interface CleanupReport {
  /** Temporary directories (`.generating`, `.receiving`, `.deleting`) left by a crash. */
  readonly removedTemp: readonly string[];
  /** Final directories whose metadata file was missing, damaged or named another index. */
  readonly removedInvalid: readonly string[];
}

/** What {@link Snapshotter.removeOlderThan} did. */
export interface RemovalReport {
  readonly removed: readonly number[];
  /** In use by a stream; removed when the last holder releases it. */
  readonly deferred: readonly number[];
}

/** The snapshots of one replica on disk. Create, then `cleanupAtStart()` before anything else. */
export class Snapshotter {
  /** The replica's snapshot root. */
  readonly dir: string;
  /** The runtime the snapshots are made on (its fs, and the clock and timers a writer yields with). */
  readonly runtime: Runtime;
  /** The file system every call goes through (the runtime's). */
  readonly fs: FileSystem;
  private readonly logger: Logger;
  private readonly fields: Readonly<Record<string, number>>;
  private readonly shardId: number;
  private readonly replicaId: number;
  private queue: Promise<unknown> = Promise.resolve();
  private unique = 0;
  private readonly refs = new Map<number, number>();
  private readonly deferredRemoval = new Set<number>();
  private readonly removing = new Set<number>();
  /**
   * Indexes of snapshots received, checked byte for byte on the way in (the stream's CRCs and
   * format check) and committed since this process started: {@link verify} need not read their
   * files again before they are installed.
   */
  private readonly checkedOnReceipt = new Set<number>();

  /** Records the options; touches no file (see {@link cleanupAtStart}). */
  constructor(options: SnapshotterOptions) {
    this.dir = path.resolve(options.dir);
    this.runtime = options.runtime ?? realRuntime;
    this.fs = this.runtime.fs;
    this.logger = options.logger ?? noopLogger;
    this.fields = { shardId: options.shardId, replicaId: options.replicaId };
    this.shardId = options.shardId;
    this.replicaId = options.replicaId;
  }

  /**
   * Creates the root if needed, removes every temporary directory a crash left and every final
   * directory whose metadata file is missing or damaged (each logged), except the one at
   * `keepIndex`: the snapshot the log records is the replica's only copy of its state below
   * the compacted log, so a damaged one is kept (logged) for recovery to refuse with a
   * CorruptionError naming the file, and for an operator to inspect. Data files are not read
   * here; verify the snapshot you recover from with {@link verify}.
   * @throws StorageError
   */
  cleanupAtStart(opts: { keepIndex?: number } = {}): Promise<CleanupReport> {
    return this.serial(async () => {
      await mkdirDurable(this.fs, this.dir);
      const removedTemp: string[] = [], removedInvalid: string[] = [];
      for (const { name, kind, index } of await this.entries()) {
        const full = path.join(this.dir, name);
        if (kind !== DirKind.Final) {
          this.logger.info('removing temporary snapshot directory', { ...this.fields, dir: full });
          await removeDirDurable(this.fs, full);
          removedTemp.push(full);
          continue;
        }
        const problem = await readSnapshotDir(full, this.fs).then(() => null, (err: unknown) => {
          if (err instanceof CorruptionError || err instanceof SnapshotNotFoundError) return err;
          throw err;
        });
        if (problem !== null && index === opts.keepIndex) {
          this.logger.warn('the snapshot the log records is damaged; kept', { ...this.fields, dir: full, reason: problem.message });
          continue;
        }
        if (problem !== null) {
          this.logger.warn('removing invalid snapshot directory', { ...this.fields, dir: full, reason: problem.message });
          await removeDirDurable(this.fs, full);
          removedInvalid.push(full);
        }
      }
      return { removedTemp, removedInvalid };
    });
  }

  /**
   * Creates a temporary directory for saving the snapshot at `index`.
   * @throws InvalidOperationError for an index that is not a positive safe integer.
   * @throws StorageError
   */
  async prepareSave(index: number): Promise<SnapshotEnv> {
    checkIndex(index);
    const tempDir = await this.makeTempDir(this.dir, (u) => tempDirName(index, DirKind.Generating, u));
    return { kind: EnvKind.Save, index, tempDir, finalDir: path.join(this.dir, finalDirName(index)), dataPath: path.join(tempDir, dataFileName(index)) };
  }

  /**
   * Creates a temporary directory for an incoming stream of `meta` (synchronous, because the
   * transport's `SnapshotReceiver.tempDir` is). The transport names the data file after the
   * sender's, so use `meta.filepath` of the delivered message, not `dataPath`, at commit.
   * @throws InvalidOperationError for a bad index; StorageError
   */
  prepareReceive(meta: SnapshotMeta): SnapshotEnv {
    checkIndex(meta.index);
    let tempDir: string;
    for (;;) {
      tempDir = path.join(this.dir, tempDirName(meta.index, DirKind.Receiving, this.unique++));
      try {
        this.fs.mkdirSync(tempDir);
        break;
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw storageError(`create ${tempDir}`, err);
      }
    }
    return {
      kind: EnvKind.Receive, index: meta.index, tempDir, finalDir: path.join(this.dir, finalDirName(meta.index)),
      dataPath: path.join(tempDir, dataFileName(meta.index)),
    };
  }

  /**
   * Creates a temporary directory for exporting the snapshot at `index` into `exportPath`
   * (which must exist). Exports never touch this replica's own snapshots. The final name is
   * `shard-<s>-replica-<r>-snapshot-<hex>` (see snapshot-names.ts), so shards and replicas
   * sharing one export directory never collide.
   * @throws StorageError (ENOENT in `cause` when `exportPath` is missing); InvalidOperationError
   */
  async prepareExport(exportPath: string, index: number): Promise<SnapshotEnv> {
    checkIndex(index);
    const root = path.resolve(exportPath);
    const tempDir = await this.makeTempDir(root, (u) => exportTempDirName(this.shardId, this.replicaId, index, DirKind.Generating, u));
    const finalDir = path.join(root, exportDirName(this.shardId, this.replicaId, index));
    return { kind: EnvKind.Export, index, tempDir, finalDir, dataPath: path.join(tempDir, dataFileName(index)) };
  }

  /**
   * Creates a temporary directory for a full image of the state at `index` written for one
   * stream to a follower, under `root` (the caller's private directory). Unlike an export, a
   * commit where an image of that index already exists is out of date: that one may be being
   * sent.
   * @throws StorageError; InvalidOperationError
   */
  async prepareStreamImage(root: string, index: number): Promise<SnapshotEnv> {
    checkIndex(index);
    const dir = path.resolve(root);
    const tempDir = await this.makeTempDir(dir, (u) => tempDirName(index, DirKind.Generating, u));
    return { kind: EnvKind.Stream, index, tempDir, finalDir: path.join(dir, finalDirName(index)), dataPath: path.join(tempDir, dataFileName(index)) };
  }

  /**
   * Links or copies an external file into `env.tempDir` (see external-files.ts); put the
   * returned record in the committed meta's `files`.
   * @throws InvalidOptionError, StorageError
   */
  addExternalFile(env: SnapshotEnv, fileId: number, srcPath: string, metadata: Uint8Array = EMPTY_BYTES): Promise<SnapshotFile> {
    return linkOrCopyInto(this.fs, env.tempDir, fileId, srcPath, metadata);
  }

  /**
   * Makes a saved or exported snapshot durable and visible (see the class comment). `meta`'s
   * paths must point into `env.tempDir`; the returned meta's point into `env.finalDir`.
   * @throws SnapshotOutOfDateError when a snapshot at `meta.index` or later is already
   *   committed (for stream images: when an image of this index exists); `tempDir` is
   *   removed. Never for exports: an export of an index this replica
   *   already exported there replaces the old one (moved aside, then removed, once the new one
   *   is complete and durable).
   * @throws CorruptionError when an external file's size differs from its record.
   * @throws InvalidOperationError when `meta.index` differs from `env.index`; StorageError.
   *   After these, `tempDir` is left for {@link removeTemp} (or the next `cleanupAtStart`).
   */
  commit(meta: SnapshotMeta, env: SnapshotEnv): Promise<SnapshotMeta> {
    return this.serial(() => this.commitNow(meta, env));
  }

  /**
   * Checks and commits a snapshot received from a leader: the data file is verified in full
   * and must match `meta`'s size and checksum; any failure removes `tempDir`. With `checked`
   * (the CRC-32 of each file, data file first when there is one, as the stream checked them
   * on the way in: see `StreamVerification`), nothing is read back: the files' sizes are
   * checked and the CRCs recorded as they are, and the snapshot's later {@link verify} reads
   * only its metadata.
   * @throws CorruptionError for damaged data; otherwise as {@link commit}.
   */
  commitReceived(meta: SnapshotMeta, env: SnapshotEnv, checked?: readonly number[]): Promise<SnapshotMeta> {
    return this.serial(async () => {
      if (meta.index !== env.index) throw new InvalidOperationError(`snapshot index ${meta.index} committed into the directory of ${env.index}`);
      // Cheap check first: no point reading a large file that will be refused anyway.
      const current = await this.committedAtOrAfter(env);
      if (current !== null) {
        await this.removeTemp(env);
        throw new SnapshotOutOfDateError(meta.index, current);
      }
      const dataFiles = meta.filepath === '' ? 0 : 1;
      if (checked !== undefined && checked.length !== dataFiles + meta.files.length) {
        await this.removeTemp(env);
        throw new InvalidOperationError(`${checked.length} checksums for a snapshot of ${dataFiles + meta.files.length} files`);
      }
      try {
        if (checked !== undefined && dataFiles === 1) {
          const size = await sizeOf(this.fs, meta.filepath);
          if (size !== meta.fileSize) throw new CorruptionError(`received snapshot is ${size} bytes, the leader sent ${meta.fileSize}`, { file: meta.filepath });
        } else if (meta.filepath !== '') {
          const v = await verifySnapshotFile(meta.filepath, this.fs);
          if (!sameSnapshotFiles({ ...meta, fileSize: v.fileSize, checksum: v.checksum }, meta)) {
            throw new CorruptionError('received snapshot does not match the size and checksum the leader sent', { file: meta.filepath });
          }
        }
      } catch (err) {
        await this.removeTemp(env);
        throw err;
      }
      const crcs = checked === undefined ? undefined : new Map(meta.files.map((f, i) => [f.fileId, checked[dataFiles + i]!]));
      const committed = await this.commitNow(meta, env, crcs);
      if (checked !== undefined) this.checkedOnReceipt.add(meta.index);
      return committed;
    });
  }

  /** Removes a temporary directory that will not be committed (stopped save, failed stream). Never throws. */
  async removeTemp(env: SnapshotEnv): Promise<void> {
    await removeDirDurable(this.fs, env.tempDir).catch((err: unknown) => {
      this.logger.error('cannot remove temporary snapshot directory', { ...this.fields, dir: env.tempDir, error: String(err) });
    });
  }

  /**
   * The newest committed snapshot whose metadata file is valid, or null. Invalid ones are
   * logged and skipped (cleanup removes them).
   * @throws StorageError
   */
  async newest(): Promise<SnapshotMeta | null> {
    const finals = (await this.finalIndexes()).reverse();
    for (const index of finals) {
      const meta = await this.readValid(index);
      if (meta !== null) return meta;
    }
    return null;
  }

  /** Every committed snapshot with a valid metadata file, oldest first. @throws StorageError */
  async list(): Promise<SnapshotMeta[]> {
    const out: SnapshotMeta[] = [];
    for (const index of await this.finalIndexes()) {
      const meta = await this.readValid(index);
      if (meta !== null) out.push(meta);
    }
    return out;
  }

  /**
   * Reads and checks every byte of the committed snapshot `meta.index` (data file, external
   * files, metadata) and that it matches `meta`.
   * @throws SnapshotNotFoundError when it is not committed; CorruptionError on any damage or
   *   mismatch; StorageError
   */
  async verify(meta: SnapshotMeta): Promise<SnapshotMeta> {
    const dir = path.join(this.dir, finalDirName(meta.index));
    // Checked on the way in and committed (fsynced) moments ago: its metadata is enough.
    const md = this.checkedOnReceipt.delete(meta.index) ? await readSnapshotDir(dir, this.fs) : await verifySnapshotDir(dir, this.fs);
    if (!sameSnapshotFiles(md.meta, meta)) {
      throw new CorruptionError(`snapshot ${meta.index} on disk (${md.meta.filepath}) does not match the record`, { file: md.meta.filepath });
    }
    return md.meta;
  }

  /**
   * Holds the committed snapshot at `index` (an in-flight stream reads it): removal is
   * deferred until every holder has released it.
   * @throws SnapshotNotFoundError when it is not committed or is being removed.
   */
  acquire(index: number): void {
    const dir = path.join(this.dir, finalDirName(index));
    if (this.removing.has(index) || !this.fs.existsSync(dir)) throw new SnapshotNotFoundError(`snapshot ${index} is not available in ${this.dir}`);
    this.refs.set(index, (this.refs.get(index) ?? 0) + 1);
  }

  /**
   * Releases one hold on `index`; the last release performs a deferred removal.
   * @throws InvalidOperationError when `index` is not held; StorageError from a removal.
   */
  async release(index: number): Promise<void> {
    const n = this.refs.get(index);
    if (n === undefined) throw new InvalidOperationError(`snapshot ${index} is not acquired`);
    if (n > 1) { this.refs.set(index, n - 1); return; }
    this.refs.delete(index);
    if (!this.deferredRemoval.delete(index)) return;
    // Marked now, not when the queued removal starts, so no acquire slips in between.
    this.removing.add(index);
    await this.serial(() => this.removeNow(index));
  }

  /**
   * Removes committed snapshots except the newest `keepNewest` (default 3); those held by
   * {@link acquire} are removed on their last release instead.
   * @throws InvalidOperationError for `keepNewest` < 1; StorageError
   */
  removeOlderThan(keepNewest = 3): Promise<RemovalReport> {
    if (!Number.isInteger(keepNewest) || keepNewest < 1) return Promise.reject(new InvalidOperationError(`keepNewest must be >= 1, got ${keepNewest}`));
    return this.serial(async () => {
      const old = (await this.finalIndexes()).slice(0, -keepNewest);
      const removed: number[] = [], deferred: number[] = [];
      for (const index of old) {
        if ((this.refs.get(index) ?? 0) > 0) {
          this.deferredRemoval.add(index);
          deferred.push(index);
          this.logger.info('snapshot in use, removal deferred', { ...this.fields, index });
        } else {
          await this.removeNow(index);
          removed.push(index);
        }
      }
      return { removed, deferred };
    });
  }

  /** Commits; `known` holds the external files' CRCs when they are known already (not read then, only sized). */
  private async commitNow(meta: SnapshotMeta, env: SnapshotEnv, known?: ReadonlyMap<number, number>): Promise<SnapshotMeta> {
    if (meta.index !== env.index) throw new InvalidOperationError(`snapshot index ${meta.index} committed into the directory of ${env.index}`);
    const current = await this.committedAtOrAfter(env);
    if (current !== null) {
      await this.removeTemp(env);
      throw new SnapshotOutOfDateError(meta.index, current);
    }
    const crcs = new Map<number, number>();
    for (const f of meta.files) {
      const knownCrc = known?.get(f.fileId);
      const { crc, size } = knownCrc === undefined ? await fileCrc(this.fs, f.filepath) : { crc: knownCrc, size: await sizeOf(this.fs, f.filepath) };
      if (size !== f.fileSize) throw new CorruptionError(`external file ${f.filepath} is ${size} bytes, recorded ${f.fileSize}`, { file: f.filepath });
      crcs.set(f.fileId, crc);
    }
    await writeMetadataFile(env.tempDir, meta, crcs, this.fs);
    await fsyncDirTree(this.fs, env.tempDir);
    const aside = env.kind === EnvKind.Export ? await this.moveAsideExport(env) : null;
    await renameDurable(this.fs, env.tempDir, env.finalDir);
    if (aside !== null) await removeDirDurable(this.fs, aside);
    const moved = (p: string): string => (p === '' ? '' : path.join(env.finalDir, path.basename(p)));
    this.logger.info('snapshot committed', { ...this.fields, index: meta.index, kind: env.kind, dir: env.finalDir });
    return { ...meta, filepath: moved(meta.filepath), files: meta.files.map((f) => ({ ...f, filepath: moved(f.filepath) })) };
  }

  /**
   * An earlier export of the same index by this replica is renamed to a `.deleting` name so the
   * new one can take its place; returns that name, or null when there was none.
   */
  private async moveAsideExport(env: SnapshotEnv): Promise<string | null> {
    if (!this.fs.existsSync(env.finalDir)) return null;
    const root = path.dirname(env.finalDir);
    for (;;) {
      const aside = path.join(root, exportTempDirName(this.shardId, this.replicaId, env.index, DirKind.Deleting, this.unique++));
      if (this.fs.existsSync(aside)) continue;
      this.logger.info('replacing an earlier export of the same index', { ...this.fields, index: env.index, dir: env.finalDir });
      await renameDurable(this.fs, env.finalDir, aside);
      return aside;
    }
  }

  /** The index of a committed snapshot that makes `env` out of date, or null (never for exports). */
  private async committedAtOrAfter(env: SnapshotEnv): Promise<number | null> {
    if (env.kind === EnvKind.Export) return null;
    if (env.kind === EnvKind.Stream) return this.fs.existsSync(env.finalDir) ? env.index : null;
    const finals = await this.finalIndexes();
    const newest = finals[finals.length - 1];
    return newest !== undefined && newest >= env.index ? newest : null;
  }

  private async removeNow(index: number): Promise<void> {
    const final = path.join(this.dir, finalDirName(index));
    this.checkedOnReceipt.delete(index);
    this.removing.add(index);
    try {
      const doomed = path.join(this.dir, tempDirName(index, DirKind.Deleting, this.unique++));
      try {
        await renameDurable(this.fs, final, doomed);
      } catch (err) {
        if (isErrno((err as Error).cause, 'ENOENT')) return;
        throw err;
      }
      await removeDirDurable(this.fs, doomed);
      this.logger.info('snapshot removed', { ...this.fields, index });
    } finally {
      this.removing.delete(index);
    }
  }

  private async readValid(index: number): Promise<SnapshotMeta | null> {
    const dir = path.join(this.dir, finalDirName(index));
    try {
      return (await readSnapshotDir(dir, this.fs)).meta;
    } catch (err) {
      if (!(err instanceof CorruptionError || err instanceof SnapshotNotFoundError)) throw err;
      this.logger.warn('skipping invalid snapshot directory', { ...this.fields, dir, reason: err.message });
      return null;
    }
  }

  /** Indexes of final directories (by name), ascending. */
  private async finalIndexes(): Promise<number[]> {
    return (await this.entries()).filter((e) => e.kind === DirKind.Final).map((e) => e.index).sort((a, b) => a - b);
  }

  private entries(): Promise<SnapshotDirEntry[]> {
    return listSnapshotDirs(this.fs, this.dir);
  }

  private async makeTempDir(root: string, name: (unique: number) => string): Promise<string> {
    for (;;) {
      const dir = path.join(root, name(this.unique++));
      try {
        await this.fs.promises.mkdir(dir);
        return dir;
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw storageError(`create ${dir}`, err);
      }
    }
  }

  /** Runs `fn` after every earlier serial operation, whatever their outcome. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 1) throw new InvalidOperationError(`snapshot index must be a positive integer, got ${index}`);
}

/** The size of `file`. @throws StorageError */
async function sizeOf(fs: FileSystem, file: string): Promise<number> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch (err) {
    throw storageError(`stat ${file}`, err);
  }
}
