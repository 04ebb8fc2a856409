/**
 * An in-process network of many hosts for tests, with seeded fault injection: loss,
 * duplication, delay (and so reordering), batch shuffling, partitions and one-way partitions.
 * Every random choice comes from one {@link SeededRandom}, so a run with the same seed and the
 * same sequence of sends makes the same choices. Delays, the flush hand-off and snapshot file
 * copies use the network's runtime (default Node's: real timers), or a transport's own.
 */
import { SeededRandom } from '../core/random.js';
import type { Logger } from '../logger.js';
import { MemoryTransport } from './memory-transport.js';
import type { AddressResolver, TransportHandler } from '../contracts/transport.js';
import { realRuntime, type Runtime } from '../runtime/index.js';

/** Fault rates (probabilities in [0, 1]) applied to every message crossing the network. */
export interface Faults {
  /** Probability that a message is lost. */
  readonly dropRate?: number;
  /** Probability that a message is delivered twice. */
  readonly duplicateRate?: number;
  /** Probability that a message is held back for a random delay in [delayMinMs, delayMaxMs]. */
  readonly delayRate?: number;
  /** Shortest delay of a held-back message. Default 0. */
  readonly delayMinMs?: number;
  /** Longest delay of a held-back message. Default `delayMinMs`. */
  readonly delayMaxMs?: number;
  /** Probability that a batch's messages are shuffled before delivery. */
  readonly reorderRate?: number;
}

/** Options of {@link MemoryNetwork.createTransport}. */
export interface MemoryTransportOptions {
  /** This host's address on the network (any unique string). */
  readonly address: string;
  /** The host's upcalls: where delivered messages go. */
  readonly handler: TransportHandler;
  /** Batches between transports with different deployment ids are refused. Default 0. */
  readonly deploymentId?: number;
  /** Resolves replicas to addresses on the network; default: a static resolver filled by `setAddress`. */
  readonly resolver?: AddressResolver;
  /** Per-destination messages held within one event-loop turn before drops. Default 8192. */
  readonly maxSendQueue?: number;
  /**
   * Per-destination bytes (estimated encoded size) held within one event-loop turn before
   * drops, as the TCP transport's `maxSendQueueBytes`. 0 (the default): no byte bound.
   */
  readonly maxSendQueueBytes?: number;
  /**
   * Round-trip every batch through the binary codec (default true): catches unencodable
   * messages in tests and guarantees receivers never share objects with senders.
   */
  readonly encode?: boolean;
  /** Where the transport logs; default: no logging. */
  readonly logger?: Logger;
  /**
   * The timers (flush hand-off, delays) and file system (snapshot copies into this host) the
   * transport uses; default: the network's runtime. Give the runtime of the host it serves.
   */
  readonly runtime?: Runtime;
}

/** A network of {@link MemoryTransport}s. */
export class MemoryNetwork {
  /** The network's random source; exposed so tests can derive further choices from the seed. */
  readonly random: SeededRandom;
  /** The runtime its transports use unless given their own. */
  readonly runtime: Runtime;
  private faults: Faults;
  private readonly hosts = new Map<string, MemoryTransport>();
  /** Blocked directed links as `from\u0000to`. */
  private readonly blocked = new Set<string>();

  /**
   * Creates an empty network. `seed` (default 1) seeds every random choice; `faults` (default none)
   * applies to every message until changed; `runtime` (default {@link realRuntime}) is its
   * transports' unless they are given their own.
   */
  constructor(options: { seed?: number; faults?: Faults; runtime?: Runtime } = {}) {
    this.random = new SeededRandom(options.seed ?? 1);
    this.runtime = options.runtime ?? realRuntime;
    this.faults = options.faults ?? {};
  }

  /** Creates a transport on this network; it joins the network when started. */
  createTransport(options: MemoryTransportOptions): MemoryTransport {
    return new MemoryTransport(this, options);
  }

  /** Replaces the fault rates (affects messages sent from now on). */
  setFaults(faults: Faults): void {
    this.faults = faults;
  }

  /** The current fault rates. */
  get currentFaults(): Faults {
    return this.faults;
  }

  /** Cuts every link between a host of `a` and a host of `b`, both ways. */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) {
      for (const y of b) {
        this.blockOneWay(x, y);
        this.blockOneWay(y, x);
      }
    }
  }

  /** Cuts `address` off from every other known host, both ways. */
  isolate(address: string): void {
    this.partition([address], [...this.hosts.keys()].filter((h) => h !== address));
  }

  /** Drops messages from `from` to `to` only; the reverse direction still works. */
  blockOneWay(from: string, to: string): void {
    this.blocked.add(`${from}\u0000${to}`);
  }

  /** Removes every partition. */
  heal(): void {
    this.blocked.clear();
  }

  /** Whether messages from `from` can currently reach `to`. */
  linkUp(from: string, to: string): boolean {
    return !this.blocked.has(`${from}\u0000${to}`);
  }

  /** The started transport at `address`, if any. Internal to the in-memory transport. */
  host(address: string): MemoryTransport | undefined {
    return this.hosts.get(address);
  }

  /** Registers a started transport. @returns false if the address is taken. */
  join(t: MemoryTransport): boolean {
    if (this.hosts.has(t.address)) return false;
    this.hosts.set(t.address, t);
    return true;
  }

  /** Removes a closed transport. */
  leave(t: MemoryTransport): void {
    if (this.hosts.get(t.address) === t) this.hosts.delete(t.address);
  }

  /** True with probability `p`, drawn from the network's seed. */
  chance(p: number | undefined): boolean {
    return p !== undefined && p > 0 && this.random.float() < p;
  }
}
