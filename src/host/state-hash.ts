/**
 * `NodeHost.verifyShard` (dragonboat's IHash, compared across replicas): proposes a state-hash
 * marker (`src/rsm/state-hash.ts`) through Raft; every replica that applies it records its
 * state machine's `getHash()` at the marker's index, shown as `stateHash` in
 * `getNodeHostInfo` (and the KV service's `/status`), so comparing replicas is a read of each
 * host. The caller gets this replica's record.
 */
import { EntryType } from '../core/types.js';
import { InvalidOperationError } from '../errors.js';
import { HASH_MARKER, formatHash, hasHash } from '../rsm/state-hash.js';
import type { Replica } from './replica.js';
import type { RequestOptions } from './request.js';

/** A replica's state-machine hash at an applied index. */
export interface StateHash {
  /** The log index of the marker: the state hashed is everything applied up to it. */
  readonly index: number;
  /** The hash, 16 hex digits (a 64-bit value). */
  readonly hash: string;
}

/** A hash as the 8 big-endian bytes a marker's result carries back to its proposer. */
export function hashBytes(h: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, h);
  return b;
}

/** The replica's newest state hash, as {@link StateHash}, or null. */
export function stateHashOf(r: Replica): StateHash | null {
  return r.stateHash === null ? null : { index: r.stateHash.index, hash: formatHash(r.stateHash.hash) };
}

/**
 * Proposes a marker and resolves with this replica's hash at its index once applied here.
 * @throws InvalidOperationError when the state machine has no `getHash`; as `propose` otherwise
 *   (NotLeaderError on a follower with proposal forwarding disabled).
 */
export async function verifyShard(r: Replica, opts?: RequestOptions): Promise<StateHash> {
  if (!hasHash(r.sm)) throw new InvalidOperationError(`the state machine of shard ${r.shardId} has no getHash()`);
  const res = await r.propose(HASH_MARKER, undefined, opts, undefined, EntryType.Metadata);
  if (res.data === undefined || res.data.length !== 8) throw new InvalidOperationError(`the state machine of shard ${r.shardId} has no getHash()`);
  return { index: res.value, hash: formatHash(new DataView(res.data.buffer, res.data.byteOffset, 8).getBigUint64(0)) };
}
