/**
 * The check before a replica removal is proposed: the id must be a member of the shard. A
 * removal of a non-member would otherwise commit and tombstone an id that was never used.
 */
import type { Membership } from '../core/types.js';
import { isMember } from '../core/membership.js';
import { ReplicaNotFoundError } from '../errors.js';

/**
 * Throws unless `replicaId` is a voter, non-voting replica or witness in `m` (either half of a joint one; the membership
 * read linearizably just before). A removal racing with another change is still validated
 * again when it applies (`validateConfigChange`), where it is rejected instead.
 * @throws ReplicaNotFoundError
 */
export function assertRemovable(m: Membership, shardId: number, replicaId: number): void {
  if (!isMember(m, replicaId)) {
    throw new ReplicaNotFoundError(shardId, replicaId);
  }
}
