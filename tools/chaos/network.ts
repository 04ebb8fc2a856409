/**
 * The chaos cluster's network: one {@link FaultProxy} in front of every replica's raft port,
 * and partitions as sets of cut directed links. Replica `i` dials from its own loopback
 * address ({@link dialHostOf}), so proxy `j` knows which replica a connection comes from; the
 * link i→j is cut by blocking i's address at proxy j, and only there.
 */
import { FaultProxy, type BlockMode } from './proxy.js';

/** The loopback address replica `id` dials from: 127.0.0.(10+id), carrying into the third byte past 255. */
export function dialHostOf(id: number): string {
  const n = 10 + id;
  if (!Number.isInteger(id) || id < 1 || n > 0xffff) throw new Error(`no dial host for replica id ${id}`);
  return `127.0.${n >> 8}.${n & 0xff}`;
}

/** A directed link that is cut: `from` cannot reach `to`. */
export interface Cut {
  readonly from: number;
  readonly to: number;
}

/** Every link between `a` and `b`, both ways. */
export function cutsBetween(a: readonly number[], b: readonly number[]): Cut[] {
  const out: Cut[] = [];
  for (const x of a) {
    for (const y of b) out.push({ from: x, to: y }, { from: y, to: x });
  }
  return out;
}

/** The proxies of a cluster and the partition in force. */
export class ChaosNetwork {
  private readonly proxies = new Map<number, FaultProxy>();
  private cuts: Cut[] = [];
  private blackholed = false;

  /** Starts the proxy of replica `id`: listening on `listen`, forwarding to the replica's real port `target`. */
  async add(id: number, listen: string, target: string): Promise<string> {
    if (this.proxies.has(id)) throw new Error(`replica ${id} has a proxy already`);
    const p = await FaultProxy.start(listen, target);
    this.proxies.set(id, p);
    return p.address;
  }

  /** Points the proxy of replica `id` at a new real address. */
  retarget(id: number, target: string): void {
    this.proxies.get(id)?.retarget(target);
  }

  /**
   * Replaces the proxy of replica `id` with one on a new port (forwarding to `target`, its
   * real port), and returns the new address: the replica's raft address moves. The old proxy
   * is stopped, so its address refuses connections from now on. Call with no cut in force.
   */
  async move(id: number, target: string): Promise<string> {
    const old = this.proxies.get(id);
    if (old === undefined) throw new Error(`replica ${id} has no proxy`);
    const p = await FaultProxy.start('127.0.0.1:0', target);
    this.proxies.set(id, p);
    await old.close();
    return p.address;
  }

  /** Stops the proxy of replica `id` (it left the cluster). */
  async remove(id: number): Promise<void> {
    const p = this.proxies.get(id);
    this.proxies.delete(id);
    this.cuts = this.cuts.filter((c) => c.from !== id && c.to !== id);
    await p?.close();
  }

  /**
   * Cuts the links `cuts` (in addition to those already cut): with `mode` 'reset' (the
   * default) connections are reset and refused, with 'blackhole' they go silent (packets
   * dropped, nobody told; see {@link FaultProxy}).
   */
  cut(cuts: readonly Cut[], mode: BlockMode = 'reset'): void {
    for (const c of cuts) {
      if (c.from === c.to) continue;
      this.proxies.get(c.to)?.block(dialHostOf(c.from), mode);
      this.cuts.push(c);
    }
    if (mode === 'blackhole' && cuts.length > 0) this.blackholed = true;
  }

  /** Restores every link. */
  heal(): void {
    for (const p of this.proxies.values()) p.heal();
    this.cuts = [];
    this.blackholed = false;
  }

  /** The links cut now, as `1>2 2>1 …`, with ` (blackhole)` when any of them drops silently. */
  describe(): string {
    return this.cuts.map((c) => `${c.from}>${c.to}`).join(' ') + (this.blackholed ? ' (blackhole)' : '');
  }

  /** Counters of every proxy, by replica. */
  stats(): Record<number, FaultProxy['stats']> {
    return Object.fromEntries([...this.proxies].map(([id, p]) => [id, { ...p.stats }]));
  }

  /** Stops every proxy. */
  async close(): Promise<void> {
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all(all.map((p) => p.close()));
  }
}
