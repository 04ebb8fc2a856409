/**
 * A bounded set of the most recent proposal keys a leader appended from forwarded proposals,
 * so that a forwarded Propose the network delivers twice is appended once: the transport
 * contract allows duplicates (the in-memory network injects them), and a write without a
 * client session would otherwise be applied twice. Keys are unique per proposing replica
 * (the host draws a random base and counts up), so the key of a message's first entry names
 * the message.
 */
export class RecentKeys {
  private readonly ring: number[];
  private readonly set = new Set<number>();
  private next = 0;

  /** @param capacity how many keys are remembered (oldest forgotten first). */
  constructor(private readonly capacity: number) {
    this.ring = new Array<number>(capacity).fill(0);
  }

  /** Records `key`; false if it was already among the recent ones (then nothing changes). */
  add(key: number): boolean {
    if (this.set.has(key)) return false;
    const old = this.ring[this.next]!;
    if (old !== 0) this.set.delete(old);
    this.ring[this.next] = key;
    this.set.add(key);
    this.next = (this.next + 1) % this.capacity;
    return true;
  }

  /** Forgets every key (a new term: forwarded proposals of another term are never appended). */
  clear(): void {
    if (this.set.size === 0) return;
    this.set.clear();
    this.ring.fill(0);
    this.next = 0;
  }
}
