/**
 * Ownership of a NodeHost directory: one host process at a time, and always the same
 * deployment. A second host on the same directory, or the same directory reused with another
 * deployment, would corrupt or mix replicas' data. The directory also holds the host's stable
 * identity: a random 64-bit host id made at first start (dragonboat's NodeHostID) and an
 * address incarnation, raised each time the host starts on another raft address, so that
 * peers can tell its newest address from older ones (see `transport/host-registry.ts`).
 *
 * Node has no portable advisory lock, so the lock is a file created exclusively holding the
 * owner's pid; a lock whose pid is no longer alive was left by a crash and is taken over.
 * The file calls, the pid, the liveness check and the host id's randomness come from a runtime
 * (the host's; default Node's).
 */
import { join } from 'node:path';
import { InvalidOperationError, InvalidOptionError } from '../errors.js';
import type { Logger } from '../logger.js';
import { realRuntime, type FileSystem, type RandomSource, type Runtime } from '../runtime/index.js';

/** The name of the lock file in a host directory. */
export const LOCK = 'LOCK';
const IDENTITY = 'NODEHOST.json';

/** The identity a host directory is bound to. */
export interface HostIdentity {
  readonly raftAddress: string;
  readonly deploymentId: number;
}

function fsyncDir(fs: FileSystem, dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

/** The identity stored in a host directory: what {@link HostIdentity} gave, plus the host's own id. */
export interface StoredHostIdentity extends HostIdentity {
  /** The host id: 16 lowercase hex digits, made once at first start and never changed. */
  readonly hostId: string;
  /** Raised by one each time the host starts on a raft address other than the stored one. */
  readonly incarnation: number;
  /** The stored raft address this start moved away from (not stored; only when it moved now). */
  readonly movedFrom?: string;
}

/** A held directory lock; `release` gives it back. */
export interface DirLock {
  /** The directory held nothing but the lock file when it was locked (a first start). */
  readonly fresh: boolean;
  /** The directory's identity as now stored (the raft address is the one just given). */
  readonly identity?: StoredHostIdentity;
  release(): void;
}

/** Whether `s` is a host id as {@link lockHostDir} makes them (16 lowercase hex digits). */
export function isHostId(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9a-f]{16}$/.test(s);
}

/** A new random host id (64 bits of `random`, as 16 hex digits; never all zeros). */
export function newHostId(random: RandomSource = realRuntime.random): string {
  for (;;) {
    const id = random.bytes(8).toString('hex');
    if (id !== '0000000000000000') return id;
  }
}

/**
 * Locks `dir` (created if absent) for this process and checks its identity; a new directory
 * is bound to `id` and given a new host id. A directory written by a release without host ids
 * gets one now. A directory started before on another raft address is accepted: the stored
 * address is replaced, the incarnation raised, and one line logged ("raft address changed
 * from A to B"). The identity file is replaced atomically (write, fsync, rename, fsync dir).
 * Files, pid, liveness and randomness come from `rt`.
 * @throws InvalidOperationError if another live process holds the directory, or its identity file is unreadable.
 * @throws InvalidOptionError if the directory belongs to another deployment.
 */
export function lockHostDir(dir: string, id: HostIdentity, logger?: Logger, rt: Runtime = realRuntime): DirLock {
  const { fs } = rt;
  fs.mkdirSync(dir, { recursive: true });
  const lockPath = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeFileSync(fd, String(rt.process.pid));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const pid = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (Number.isSafeInteger(pid) && pid > 0 && rt.process.isAlive(pid)) {
        throw new InvalidOperationError(`directory ${dir} is in use by another NodeHost (pid ${pid})`);
      }
      fs.unlinkSync(lockPath);
    }
  }
  const fresh = fs.readdirSync(dir).every((name) => name === LOCK);
  let identity: StoredHostIdentity;
  try {
    identity = checkIdentity(rt, dir, id, logger);
  } catch (e) {
    fs.unlinkSync(lockPath);
    throw e;
  }
  let released = false;
  return {
    fresh,
    identity,
    release(): void {
      if (released) return;
      released = true;
      try { fs.unlinkSync(lockPath); } catch { /* already gone */ }
    },
  };
}

function writeIdentity(fs: FileSystem, dir: string, path: string, id: StoredHostIdentity): void {
  const tmp = `${path}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ raftAddress: id.raftAddress, deploymentId: id.deploymentId, hostId: id.hostId, incarnation: id.incarnation }));
  const fd = fs.openSync(tmp, 'r+');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  fs.renameSync(tmp, path);
  fsyncDir(fs, dir);
}

function checkIdentity(rt: Runtime, dir: string, id: HostIdentity, logger: Logger | undefined): StoredHostIdentity {
  const { fs } = rt;
  const path = join(dir, IDENTITY);
  let stored: Partial<StoredHostIdentity> | undefined;
  try {
    stored = JSON.parse(fs.readFileSync(path, 'utf8')) as Partial<StoredHostIdentity>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidOperationError(`cannot read ${path}`, { cause: e });
  }
  if (stored === undefined) {
    const fresh = { raftAddress: id.raftAddress, deploymentId: id.deploymentId, hostId: newHostId(rt.random), incarnation: 0 };
    writeIdentity(fs, dir, path, fresh);
    return fresh;
  }
  if (stored.deploymentId !== id.deploymentId) {
    throw new InvalidOptionError(`directory ${dir} belongs to deployment ${stored.deploymentId}, not ${id.deploymentId}`);
  }
  const hostId = isHostId(stored.hostId) ? stored.hostId : newHostId(rt.random);
  const was = typeof stored.incarnation === 'number' && Number.isSafeInteger(stored.incarnation) && stored.incarnation >= 0 ? stored.incarnation : 0;
  const moved = stored.raftAddress !== id.raftAddress;
  const now = { raftAddress: id.raftAddress, deploymentId: id.deploymentId, hostId, incarnation: moved ? was + 1 : was };
  if (moved) {
    logger?.warn(`raft address changed from ${String(stored.raftAddress)} to ${id.raftAddress}`, { hostId, incarnation: now.incarnation });
  }
  if (moved || hostId !== stored.hostId || was !== stored.incarnation) writeIdentity(fs, dir, path, now);
  return moved && typeof stored.raftAddress === 'string' ? { ...now, movedFrom: stored.raftAddress } : now;
}
