/**
 * Registering and unregistering client sessions: each a proposal with a reserved series id
 * (as dragonboat), made through the replica like any other.
 */
import { SeriesId } from '../core/types.js';
import { InvalidOperationError, InvalidOptionError, RejectedError } from '../errors.js';
import type { ShardId } from '../contracts/ids.js';
import type { ProposalSession, Replica } from './replica.js';
import type { RequestOptions } from './request.js';
import { ClientSession } from './session.js';

/**
 * Registers a new client session on `r`'s shard.
 * @throws InvalidOperationError for an on-disk state machine (no sessions); RejectedError when
 *   the registration was refused; as `Replica.propose` otherwise.
 */
export async function registerSession(r: Replica, shardId: ShardId, opts?: RequestOptions): Promise<ClientSession> {
  if (r.sm.kind === 'on-disk') throw new InvalidOperationError('on-disk state machines do not support client sessions');
  const clientId = r.runtime.random.int(1, 2 ** 47);
  const res = await r.propose(new Uint8Array(0), { clientId, seriesId: SeriesId.Register, respondedTo: 0 }, opts);
  if (res.value !== clientId) throw new RejectedError(`session ${clientId} could not be registered`);
  return new ClientSession(shardId, clientId);
}

/** Unregisters `session` on `r`'s shard. @throws as `Replica.propose`. */
export async function unregisterSession(r: Replica, session: ClientSession, opts?: RequestOptions): Promise<void> {
  await r.propose(new Uint8Array(0), { clientId: session.clientId, seriesId: SeriesId.Unregister, respondedTo: 0 }, opts);
}

/**
 * The session fields a proposal to `r`'s shard carries for `session` (undefined: none).
 * @throws InvalidOptionError for a session of another shard; InvalidOperationError for a
 *   session on an on-disk state machine
 */
export function proposalSession(r: Replica, shardId: ShardId, session: ClientSession | undefined): ProposalSession | undefined {
  if (session === undefined) return undefined;
  if (session.shardId !== shardId) throw new InvalidOptionError(`session belongs to shard ${session.shardId}`);
  if (r.sm.kind === 'on-disk') throw new InvalidOperationError('on-disk state machines do not support client sessions');
  return { clientId: session.clientId, seriesId: session.seriesId, respondedTo: session.respondedTo };
}
