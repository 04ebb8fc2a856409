/** The default {@link AddressResolver}: a table filled from membership. */
import type { AddressResolver } from '../contracts/transport.js';

/**
 * Maps (shard, replica) to a host address. Lookups are two Map reads with no string building,
 * since one happens for every message sent.
 */
export class StaticAddressResolver implements AddressResolver {
  private readonly shards = new Map<number, Map<number, string>>();

  /** Returns the recorded address or undefined. */
  resolve(shardId: number, replicaId: number): string | undefined {
    return this.shards.get(shardId)?.get(replicaId);
  }

  /** Records or replaces an address. */
  set(shardId: number, replicaId: number, address: string): void {
    let m = this.shards.get(shardId);
    if (m === undefined) this.shards.set(shardId, (m = new Map()));
    m.set(replicaId, address);
  }

  /** Forgets an address; unknown entries are ignored. */
  remove(shardId: number, replicaId: number): void {
    const m = this.shards.get(shardId);
    if (m === undefined) return;
    m.delete(replicaId);
    if (m.size === 0) this.shards.delete(shardId);
  }
}
