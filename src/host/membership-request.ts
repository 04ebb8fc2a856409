/**
 * A membership change request as the NodeHost calls make it: validated, then proposed through
 * the replica (which holds it until a leader may take it; `pending-config-change.ts`).
 */
import { ConfigChangeType } from '../core/types.js';
import { InvalidOptionError } from '../errors.js';
import { isMemberAddress } from './config.js';
import type { MembershipChangeOptions } from './call-options.js';
import type { Replica } from './replica.js';
import { throwIfAborted } from './request.js';

/**
 * Validates and proposes a change of `type` for `replicaId` at `address` ('' for a removal)
 * on the replica `replica()` finds; resolves once applied here.
 * @throws InvalidOptionError for an invalid replica id or address; what `replica()` throws;
 *   as `Replica.proposeConfigChange` otherwise.
 */
export async function changeMembership(replica: () => Replica, type: ConfigChangeType, replicaId: number, address: string,
  opts?: MembershipChangeOptions): Promise<void> {
  throwIfAborted(opts?.signal);
  if (!Number.isSafeInteger(replicaId) || replicaId <= 0) throw new InvalidOptionError(`replica id ${replicaId} is invalid`);
  if (type !== ConfigChangeType.RemoveReplica && !isMemberAddress(address)) throw new InvalidOptionError(`address '${address}' is not host:port or nhid-<host id>`);
  const r = replica();
  await r.proposeConfigChange({
    type, replicaId, address, configChangeId: opts?.configChangeId ?? 0, initialize: false, ordered: r.cfg.orderedConfigChange,
  }, opts, opts?.onCommitted, opts?.force === true);
}
