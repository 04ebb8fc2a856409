/**
 * What a KV data directory was created for: the replica id, the number of shards and the
 * state machine kind. The NodeHost already binds its directory to a raft address; this binds
 * the rest, because a directory reused with another replica id would impersonate a member,
 * and another shard count would route existing keys to the wrong shards.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError } from '../index.js';

/** The identity of a KV replica's data directory. */
export interface ReplicaIdentity {
  readonly replicaId: number;
  readonly shards: number;
  readonly stateMachine: 'memory' | 'disk';
}

const FILE = 'KV-REPLICA.json';

/** The identity stored in `dir`, or null when the directory has none yet. */
export function readIdentity(dir: string): ReplicaIdentity | null {
  const p = join(dir, FILE);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ReplicaIdentity;
  } catch {
    throw new InvalidOptionError(`data dir ${dir}: ${FILE} is unreadable`);
  }
}

/**
 * Checks `dir` against `id` without writing anything; a directory without an identity passes.
 * @throws InvalidOptionError naming the mismatch (another replica, shard count or kind).
 */
export function verifyIdentity(dir: string, id: ReplicaIdentity): void {
  const stored = readIdentity(dir);
  if (stored === null) return;
  if (stored.replicaId !== id.replicaId) {
    throw new InvalidOptionError(`data dir ${dir} belongs to replica ${stored.replicaId}, not ${id.replicaId}`);
  }
  if (stored.shards !== id.shards) {
    throw new InvalidOptionError(`data dir ${dir} was created with --shards ${stored.shards}, not ${id.shards}`);
  }
  if (stored.stateMachine !== id.stateMachine) {
    throw new InvalidOptionError(`data dir ${dir} holds a ${stored.stateMachine} state machine, not ${id.stateMachine}`);
  }
}

/**
 * Checks `dir` against `id` ({@link verifyIdentity}), recording `id` when the directory (which
 * must exist) has none.
 * @throws InvalidOptionError naming the mismatch; file system errors as they come.
 */
export function checkIdentity(dir: string, id: ReplicaIdentity): void {
  verifyIdentity(dir, id);
  if (readIdentity(dir) !== null) return;
  const p = join(dir, FILE);
  writeFileSync(`${p}.tmp`, JSON.stringify(id));
  renameSync(`${p}.tmp`, p);
}
