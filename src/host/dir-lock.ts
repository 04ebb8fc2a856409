/**
 * Ownership of a NodeHost directory: one host process at a time, and always the same
 * identity (raft address and deployment id). A second host on the same directory, or the same
 * directory reused with another address or deployment, would corrupt or mix replicas' data.
 *
 * Node has no portable advisory lock, so the lock is a file created exclusively holding the
 * owner's pid; a lock whose pid is no longer alive was left by a crash and is taken over.
 */
import { mkdirSync, openSync, closeSync, readFileSync, readdirSync, writeFileSync, unlinkSync, fsyncSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOperationError, InvalidOptionError } from '../errors.js';

/** The name of the lock file in a host directory. */
export const LOCK = 'LOCK';
const IDENTITY = 'NODEHOST.json';

/** The identity a host directory is bound to. */
export interface HostIdentity {
  readonly raftAddress: string;
  readonly deploymentId: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

/** A held directory lock; `release` gives it back. */
export interface DirLock {
  /** The directory held nothing but the lock file when it was locked (a first start). */
  readonly fresh: boolean;
  release(): void;
}

/**
 * Locks `dir` (created if absent) for this process and checks its identity; a new directory
 * is bound to `id`.
 * @throws InvalidOperationError if another live process holds the directory.
 * @throws InvalidOptionError if the directory belongs to another address or deployment.
 */
export function lockHostDir(dir: string, id: HostIdentity): DirLock {
  mkdirSync(dir, { recursive: true });
  const lockPath = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeFileSync(fd, String(process.pid));
      fsyncSync(fd);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const pid = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) {
        throw new InvalidOperationError(`directory ${dir} is in use by another NodeHost (pid ${pid})`);
      }
      unlinkSync(lockPath);
    }
  }
  const fresh = readdirSync(dir).every((name) => name === LOCK);
  try {
    checkIdentity(dir, id);
  } catch (e) {
    unlinkSync(lockPath);
    throw e;
  }
  let released = false;
  return {
    fresh,
    release(): void {
      if (released) return;
      released = true;
      try { unlinkSync(lockPath); } catch { /* already gone */ }
    },
  };
}

function checkIdentity(dir: string, id: HostIdentity): void {
  const path = join(dir, IDENTITY);
  let stored: HostIdentity | undefined;
  try {
    stored = JSON.parse(readFileSync(path, 'utf8')) as HostIdentity;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidOperationError(`cannot read ${path}`, { cause: e });
  }
  if (stored === undefined) {
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ raftAddress: id.raftAddress, deploymentId: id.deploymentId }));
    const fd = openSync(tmp, 'r+');
    try { fsyncSync(fd); } finally { closeSync(fd); }
    renameSync(tmp, path);
    fsyncDir(dir);
    return;
  }
  if (stored.raftAddress !== id.raftAddress) {
    throw new InvalidOptionError(`directory ${dir} belongs to raft address ${stored.raftAddress}, not ${id.raftAddress}`);
  }
  if (stored.deploymentId !== id.deploymentId) {
    throw new InvalidOptionError(`directory ${dir} belongs to deployment ${stored.deploymentId}, not ${id.deploymentId}`);
  }
}
