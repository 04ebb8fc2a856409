/**
 * The replica addresses a host has given its transport, by shard and replica. A host learns
 * an address from many places (starts, membership changes, handshakes), mostly the same one
 * again: the transport is told only when an address is new or changed.
 */
import type { Transport } from '../contracts/transport.js';

/** One host's addresses of replicas (its own and its peers'). */
export class AddressBook {
  private readonly byReplica = new Map<string, string>();

  /** @param transport the host's transport, read at each change (it may be made after this book). */
  constructor(private readonly transport: () => Pick<Transport, 'setAddress' | 'removeAddress'>) {}

  /** Whether an address of the replica is known. */
  knows(shardId: number, replicaId: number): boolean {
    return this.byReplica.has(`${shardId}:${replicaId}`);
  }

  /** Records the replica's address, telling the transport if it is new or changed. */
  set(shardId: number, replicaId: number, address: string): void {
    const key = `${shardId}:${replicaId}`;
    if (this.byReplica.get(key) === address) return;
    this.byReplica.set(key, address);
    this.transport().setAddress(shardId, replicaId, address);
  }

  /** Forgets the replica's address, here and in the transport. */
  remove(shardId: number, replicaId: number): void {
    this.byReplica.delete(`${shardId}:${replicaId}`);
    this.transport().removeAddress(shardId, replicaId);
  }
}
