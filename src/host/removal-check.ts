/**
 * The check before a replica removal is proposed: the id must be a member of the shard. A
 * removal of a non-member would otherwise commit and tombstone an id that was never used.
 */
import type { Membership } from '../core/types.js';
import { ReplicaNotFoundError } from '../errors.js';

/**
 * Throws unless `replicaId` is a voter, non-voting replica or witness in `m` (the membership
 * read linearizably just before). A removal racing with another change is still validated
 * again when it applies (`validateConfigChange`), where it is rejected instead.
 * @throws ReplicaNotFoundError
 */
export function assertRemovable(m: Membership, shardId: number, replicaId: number): void {
  if (!m.voters.has(replicaId) && !m.nonVoting.has(replicaId) && !m.witnesses.has(replicaId)) {
    throw new ReplicaNotFoundError(shardId, replicaId);
  }
}
