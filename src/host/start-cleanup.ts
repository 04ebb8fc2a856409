/**
 * What a failed first start leaves behind, undone so that the corrected retry starts from
 * nothing; and the one such leftover of older versions repaired.
 *
 * - A NodeHost whose directories were empty or absent when it locked them removes what it
 *   created there if `create` fails, or when the application gives up on its first start
 *   ({@link FirstStartLock}). Otherwise a retry with a corrected raft address would be refused
 *   ("directory belongs to raft address …") by a directory that holds no data at all.
 * - A replica start that fails for a replica with no prior data removes that replica's
 *   bootstrap record, log data and snapshot directory ({@link ReplicaStarts}), so that the next
 *   start takes the bootstrap path again.
 * - A replica with a bootstrap record of a new shard but an empty log, no snapshot and no term
 *   (its first start stopped before the bootstrap entries were written) is bootstrapped again
 *   from the stored members ({@link membersToBootstrapAgain}), as dragonboat does: its
 *   `replayLog` calls such a replica new and `Launch` bootstraps it from the stored addresses.
 */
import { dirname, join, resolve } from 'node:path';
import { ShardAlreadyExistsError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Bootstrap, LogDB } from '../contracts/log-db.js';
import { LOCK, type DirLock } from './dir-lock.js';
import type { FileSystem } from '../runtime/index.js';

/** The topmost of `dir` and its parents that does not exist yet, or null when `dir` exists. */
function topmostMissing(fs: FileSystem, dir: string): string | null {
  let p = resolve(dir);
  let top: string | null = null;
  while (!fs.existsSync(p)) {
    top = p;
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  return top;
}

function isEmptyOrAbsent(fs: FileSystem, dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function fsyncDir(fs: FileSystem, dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  } catch { /* best effort: the directory may be gone */ }
}

/** A directory the first start found empty or absent, and the parents it had to create. */
interface FreshDir {
  readonly dir: string;
  /** The topmost directory created for it (itself or a parent), or null if it existed. */
  readonly createdFrom: string | null;
}

/**
 * The host directory's lock, which can undo a first start when released: while the start is
 * pending (from {@link FirstStartLock.before} until {@link FirstStartLock.started}) or once
 * abandoned, `release` first removes everything the host created in directories it found
 * empty or absent (the host directory, and a separate WAL directory), with the lock still
 * held, then removes the directories it created, then releases. Directories that held
 * anything when the host locked them are never touched.
 */
export class FirstStartLock implements DirLock {
  private undo = true;
  private released = false;

  private constructor(private readonly lock: DirLock, private readonly freshDirs: readonly FreshDir[], private readonly fs: FileSystem) {}

  /**
   * Locks `hostDir` with `lockDir` (which creates it), noting first which of `hostDir` and
   * `walDir` do not exist yet, and then which were empty: the directories a failed first start
   * may remove again. Every file call goes through `fs`.
   * @throws whatever `lockDir` throws (nothing is removed then).
   */
  static before(hostDir: string, walDir: string | undefined, lockDir: () => DirLock, fs: FileSystem): FirstStartLock {
    const hostTop = topmostMissing(fs, hostDir);
    const wal = walDir !== undefined && resolve(walDir) !== resolve(hostDir) ? walDir : undefined;
    const walTop = wal === undefined ? null : topmostMissing(fs, wal);
    const lock = lockDir();
    const fresh: FreshDir[] = [];
    // The WAL directory is not locked; it counts as fresh only if it is still empty now.
    if (wal !== undefined && isEmptyOrAbsent(fs, wal)) fresh.push({ dir: resolve(wal), createdFrom: walTop });
    if (lock.fresh) fresh.push({ dir: resolve(hostDir), createdFrom: hostTop });
    return new FirstStartLock(lock, fresh, fs);
  }

  /** {@inheritDoc DirLock.fresh} */
  get fresh(): boolean { return this.lock.fresh; }

  /** {@inheritDoc DirLock.identity} */
  get identity(): DirLock['identity'] { return this.lock.identity; }

  /** The first start succeeded: from now on `release` only releases. */
  started(): void { this.undo = false; }

  /**
   * The application gives up on this first start: `release` undoes it after all.
   * @returns whether there is anything to undo (the host found its directory fresh).
   */
  abandon(): boolean {
    this.undo = true;
    return this.freshDirs.length > 0;
  }

  /**
   * Undoes the first start if pending or abandoned (see the class comment), then releases.
   * Idempotent; never throws (what cannot be removed stays, as a failed start left it before).
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    const undo = this.undo;
    if (undo) {
      for (const f of this.freshDirs) {
        try { removeContents(this.fs, f.dir); } catch { /* best effort */ }
      }
    }
    this.lock.release();
    if (undo) for (const f of this.freshDirs) removeCreated(this.fs, f);
  }
}

/** Removes everything in `dir` but the lock file. */
function removeContents(fs: FileSystem, dir: string): void {
  let names: string[] = [];
  try { names = fs.readdirSync(dir); } catch { /* absent: nothing to remove */ }
  for (const name of names) if (name !== LOCK) fs.rmSync(join(dir, name), { recursive: true, force: true });
  fsyncDir(fs, dir);
}

/** Removes the directories created for `f`, innermost first, only while they are empty. */
function removeCreated(fs: FileSystem, f: FreshDir): void {
  if (f.createdFrom === null) return;
  for (let p = f.dir; ; p = dirname(p)) {
    try { fs.rmdirSync(p); } catch { break; } // not empty: another process put something there
    if (p === f.createdFrom) break;
  }
  fsyncDir(fs, dirname(f.createdFrom));
}

/**
 * The stored members of a replica whose first start stopped after its bootstrap record was
 * saved but before its bootstrap entries were: a new shard's record (not a join, members
 * given) and nothing else — no entries, no snapshot, term 0. Such a replica is still new, so it
 * is bootstrapped again from the record; restarting it from its empty log would leave it at
 * term 0 with no voters forever. Null for any other replica.
 */
export function membersToBootstrapAgain(logdb: LogDB, shardId: number, replicaId: number,
  stored: Bootstrap, logger: Logger): ReadonlyMap<number, string> | null {
  if (stored.join || stored.members.size === 0) return null;
  if (logdb.getEntryRange(shardId, replicaId) !== null || logdb.getSnapshot(shardId, replicaId) !== null) return null;
  const hs = logdb.readHardState(shardId, replicaId);
  if (hs.term !== 0 || hs.vote !== 0 || hs.commit !== 0) return null;
  logger.info('replica has a bootstrap record but an empty log: bootstrapping it again from the stored members',
    { shardId, replicaId, members: [...stored.members.keys()] });
  return stored.members;
}

/**
 * Replica starts in progress on a host, one per shard at a time; a start that fails for a
 * replica that had no data before it is undone.
 */
export class ReplicaStarts {
  private readonly inFlight = new Set<number>();

  /**
   * @param running whether a replica of (shard, replica) runs on the host now.
   * @param snapshotDir the replica's snapshot directory.
   * @param fs the file system a failed start's snapshot directory is removed through.
   */
  constructor(
    private readonly logdb: LogDB,
    private readonly running: (shardId: number, replicaId: number) => boolean,
    private readonly snapshotDir: (shardId: number, replicaId: number) => string,
    private readonly logger: Logger,
    private readonly fs: FileSystem,
  ) {}

  /**
   * Runs `start` for (shardId, replicaId). If it fails and the replica had no data before (no
   * bootstrap record, entries or snapshot record), whatever it stored is removed — durably
   * (LogDB.removeReplicaData) — with its snapshot directory; a failure to undo is logged and
   * the start's own error is what rejects.
   * @throws ShardAlreadyExistsError when a start of the same shard is in progress; else what `start` throws.
   */
  async run(shardId: number, replicaId: number, start: () => Promise<void>): Promise<void> {
    if (this.inFlight.has(shardId)) throw new ShardAlreadyExistsError(shardId);
    const hadData = this.hasData(shardId, replicaId);
    this.inFlight.add(shardId);
    try {
      await start();
    } catch (e) {
      if (!hadData && !this.running(shardId, replicaId)) await this.undo(shardId, replicaId, e);
      throw e;
    } finally {
      this.inFlight.delete(shardId);
    }
  }

  private hasData(shardId: number, replicaId: number): boolean {
    try {
      return this.logdb.getBootstrap(shardId, replicaId) !== null || this.logdb.getSnapshot(shardId, replicaId) !== null
        || this.logdb.getEntryRange(shardId, replicaId) !== null;
    } catch {
      return true; // unreadable (closed, bad ids): touch nothing
    }
  }

  private async undo(shardId: number, replicaId: number, cause: unknown): Promise<void> {
    const steps: Array<() => Promise<void>> = [
      async () => { if (this.hasData(shardId, replicaId)) await this.logdb.removeReplicaData(shardId, replicaId); },
      () => this.fs.promises.rm(this.snapshotDir(shardId, replicaId), { recursive: true, force: true }),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (e) {
        this.logger.warn('could not remove what a failed replica start stored', {
          shardId, replicaId, error: String(e), cause: String(cause),
        });
      }
    }
  }
}
