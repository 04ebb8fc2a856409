/**
 * Rebuilding a replica from an exported snapshot: the repair for a shard whose quorum is lost
 * for good (dragonboat's `tools.ImportSnapshot`). Every surviving (or new) member imports the
 * same exported snapshot with the same new membership, then starts its replica without
 * initial members; the shard continues from the snapshot's state.
 */
import { join, basename } from 'node:path';
import type { Membership, SnapshotMeta } from '../core/types.js';
import { ImportRollbackError, InvalidOperationError, InvalidOptionError } from '../errors.js';
import type { LogDB } from '../contracts/log-db.js';
import { WalLogDB } from '../logdb/wal-log-db.js';
import { verifySnapshotDir } from '../snapshot/snapshot-dir.js';
import { Snapshotter } from '../snapshot/snapshotter.js';
import { isMemberAddress } from './config.js';
import { realRuntime, type Runtime } from '../runtime/index.js';

/** What to import, and where. */
export interface ImportSnapshotOptions {
  /** The stopped host's directory. */
  readonly nodeHostDir: string;
  /** The host's separate WAL directory, if it has one. */
  readonly walDir?: string;
  /** The exported snapshot directory (`<exportPath>/snapshot-<index>`). */
  readonly from: string;
  /** The replica to rebuild on this host. */
  readonly replicaId: number;
  /** The shard's new voters (replica id → raft address); must include `replicaId`. */
  readonly members: ReadonlyMap<number, string>;
  /** When given, the snapshot must belong to this shard. */
  readonly shardId?: number;
  /**
   * Import even when the replica already holds a newer index than the snapshot (rolling it
   * back, and losing what it committed after the snapshot). Default false.
   */
  readonly force?: boolean;
  /**
   * Where the import takes its file system and process liveness from (the lock check); default
   * {@link realRuntime}. Give the runtime the host runs with.
   */
  readonly runtime?: Runtime;
}

/**
 * The newest index a replica's data holds: its snapshot's index or its persisted commit index,
 * whichever is larger (0 for a replica the LogDB does not know). Entries past the commit index
 * are not counted: they may never have been committed.
 */
export function heldIndex(logdb: LogDB, shardId: number, replicaId: number): number {
  return Math.max(logdb.getSnapshot(shardId, replicaId)?.index ?? 0, logdb.readHardState(shardId, replicaId).commit);
}

/**
 * The membership an import installs: the new voters; every former member that is not among
 * them is recorded as removed (so it can never return); the version moves to the snapshot's
 * index so every importer derives the same value.
 * @throws InvalidOptionError when a new member's id was removed from the shard before.
 */
export function importedMembership(old: Membership, members: ReadonlyMap<number, string>, index: number): Membership {
  const removed = new Set(old.removed);
  for (const id of [...old.voters.keys(), ...old.nonVoting.keys(), ...old.witnesses.keys()]) {
    if (!members.has(id)) removed.add(id);
  }
  for (const id of members.keys()) {
    if (removed.has(id)) throw new InvalidOptionError(`replica ${id} was removed from the shard and cannot be a member again`);
  }
  return { configChangeId: index, voters: new Map(members), nonVoting: new Map(), witnesses: new Map(), removed };
}

async function hostIsRunning(rt: Runtime, dir: string): Promise<number> {
  try {
    const pid = Number((await rt.fs.promises.readFile(join(dir, 'LOCK'), 'utf8')).trim());
    if (!Number.isSafeInteger(pid) || pid <= 0) return 0;
    return rt.process.isAlive(pid) ? pid : 0;
  } catch {
    return 0;
  }
}

/**
 * Imports the exported snapshot `from` as the whole state of a replica on a stopped host.
 * The replica's previous log and snapshots are replaced. A replica that already holds a newer
 * index (its snapshot index or persisted commit index, whichever is larger) is refused unless `force` is set: nothing is changed then.
 * @returns the installed snapshot record.
 * @throws ImportRollbackError when it would roll the replica back (without `force`);
 *   InvalidOptionError for bad members or a snapshot of another shard;
 *   InvalidOperationError when the host is running; CorruptionError for a damaged snapshot.
 */
export async function importSnapshot(o: ImportSnapshotOptions): Promise<SnapshotMeta> {
  if (!o.members.has(o.replicaId)) throw new InvalidOptionError(`members do not include replica ${o.replicaId}`);
  for (const [id, addr] of o.members) {
    if (!Number.isSafeInteger(id) || id <= 0) throw new InvalidOptionError(`member id ${id} is invalid`);
    if (!isMemberAddress(addr)) throw new InvalidOptionError(`member ${id} has an invalid address '${addr}'`);
  }
  const rt = o.runtime ?? realRuntime;
  const pid = await hostIsRunning(rt, o.nodeHostDir);
  if (pid !== 0) throw new InvalidOperationError(`the NodeHost in ${o.nodeHostDir} is running (pid ${pid}); stop it first`);
  const { meta } = await verifySnapshotDir(o.from, rt.fs);
  if (o.shardId !== undefined && meta.shardId !== o.shardId) {
    throw new InvalidOptionError(`the snapshot belongs to shard ${meta.shardId}, not ${o.shardId}`);
  }
  const membership = importedMembership(meta.membership, o.members, meta.index);
  const logdb = await WalLogDB.open({ dir: o.walDir ?? join(o.nodeHostDir, 'wal'), runtime: rt });
  try {
    const held = heldIndex(logdb, meta.shardId, o.replicaId);
    if (held > meta.index && o.force !== true) throw new ImportRollbackError(meta.shardId, o.replicaId, held, meta.index);
    const dir = join(o.nodeHostDir, 'snapshots', `shard-${meta.shardId}-replica-${o.replicaId}`);
    await rt.fs.promises.rm(dir, { recursive: true, force: true });
    const snapshotter = new Snapshotter({ dir, shardId: meta.shardId, replicaId: o.replicaId, runtime: rt });
    await snapshotter.cleanupAtStart();
    const env = snapshotter.prepareReceive(meta);
    const dataPath = meta.filepath === '' ? '' : join(env.tempDir, basename(meta.filepath));
    if (dataPath !== '') await rt.fs.promises.copyFile(meta.filepath, dataPath);
    const files = [];
    for (const f of meta.files) {
      const to = join(env.tempDir, basename(f.filepath));
      await rt.fs.promises.copyFile(f.filepath, to);
      files.push({ ...f, filepath: to });
    }
    const imported: SnapshotMeta = { ...meta, membership, filepath: dataPath, files, imported: true };
    const committed = await snapshotter.commitReceived(imported, env);
    await logdb.importSnapshot(committed, o.replicaId);
    return committed;
  } finally {
    await logdb.close();
  }
}
