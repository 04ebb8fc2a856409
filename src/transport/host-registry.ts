/**
 * The host registry: which raft address each host (by its stable host id) has now, learned
 * from handshakes and a small gossip, and persisted in the host directory. It is how addresses
 * are learned instead of configured forever.
 *
 * The transport asks it to route every message: membership names a replica by an address (or
 * by `nhid-<host id>`, dragonboat's AddressByNodeHostID); the registry turns that into the
 * host's current address — through the host that replica was last heard from, or through the
 * host that address used to belong to — so a host that restarts on a new address (same
 * directory) is reached there without any membership change, and its old address is no longer
 * dialled.
 *
 * Newer wins by incarnation (memberlist's rule): a host raises its incarnation each time it
 * starts on another address (`host/dir-lock.ts`), and only it does; an entry with an equal
 * incarnation and another address is a conflict and ignored. A host's own entry is never
 * taken from others.
 */
import { noopLogger, type Logger } from '../logger.js';
import { MAX_FORMER, type HostEntry } from './handshake.js';
import { realRuntime, type Runtime, type TimerHandle } from '../runtime/index.js';

/** The prefix of a membership address that names a host by id (`nhid-` and 16 hex digits). */
export const HOST_ID_ADDRESS_PREFIX = 'nhid-';

/** Whether `a` names a host by id (`nhid-` followed by 16 lowercase hex digits). */
export function isHostIdAddress(a: string): boolean {
  return /^nhid-[0-9a-f]{16}$/.test(a);
}

/** Options of a {@link HostRegistry}. */
export interface HostRegistryOptions {
  /** This host's own entry. */
  readonly self: HostEntry;
  /** A JSON file to load entries from and keep them in (written atomically); none: memory only. */
  readonly file?: string;
  /** Most hosts remembered besides this one; newer hosts beyond it are ignored. Default 1024. */
  readonly maxEntries?: number;
  /** Where the registry logs (moves learned, unreadable or unwritable files); default: nowhere. */
  readonly logger?: Logger;
  /** Where the file is read and written and the save timer runs; default {@link realRuntime}. */
  readonly runtime?: Runtime;
}

/** Called after the registry changed; `rerouted` are addresses no longer dialled. */
export type RegistryListener = (rerouted: readonly string[]) => void;

/** See the module comment. */
export class HostRegistry {
  private readonly hosts = new Map<string, HostEntry>();
  /** Former addresses of a host → its id (addresses that are no host's current one). */
  private readonly aliases = new Map<string, string>();
  /** shard → replica → the host id its messages last came from. */
  private readonly replicas = new Map<number, Map<number, string>>();
  private readonly listeners = new Set<RegistryListener>();
  private readonly logger: Logger;
  private readonly maxEntries: number;
  private selfEntry: HostEntry;
  private saveTimer: TimerHandle | null = null;
  private full = false;
  private readonly rt: Runtime;

  /** Loads `file` when given (a missing or unreadable file starts empty, logged). */
  constructor(private readonly opts: HostRegistryOptions) {
    this.rt = opts.runtime ?? realRuntime;
    this.logger = opts.logger ?? noopLogger;
    this.maxEntries = opts.maxEntries ?? 1024;
    this.selfEntry = opts.self;
    if (opts.file !== undefined) this.load(opts.file);
  }

  /** This host's own entry. */
  get self(): HostEntry {
    return this.selfEntry;
  }

  /**
   * Sets this host's own address (the transport's advertised one, known once it listens). Its
   * id and incarnation stay.
   */
  setSelfAddress(address: string): void {
    if (address === this.selfEntry.address) return;
    this.selfEntry = { ...this.selfEntry, address, former: this.selfEntry.former.filter((a) => a !== address) };
    this.aliases.delete(address);
  }

  /** Every other host known, in no particular order. */
  entries(): HostEntry[] {
    return [...this.hosts.values()];
  }

  /** The host whose current or former address `address` is, if known. */
  hostIdOf(address: string): string | undefined {
    if (address === this.selfEntry.address) return this.selfEntry.hostId;
    for (const e of this.hosts.values()) if (e.address === address) return e.hostId;
    return this.aliases.get(address);
  }

  /** The current address of host `hostId`, if known. */
  addressOf(hostId: string): string | undefined {
    return hostId === this.selfEntry.hostId ? this.selfEntry.address : this.hosts.get(hostId)?.address;
  }

  /**
   * Where to dial for replica (`shardId`, `replicaId`) whose membership address is `address`:
   * the current address of the host that replica was last heard from; else, for `nhid-…`, of
   * that host (undefined while unknown); else of the host `address` formerly belonged to (this
   * host's own former addresses lead to itself); else `address` itself. Two Map reads in the common case (nothing moved).
   */
  route(shardId: number, replicaId: number, address: string): string | undefined {
    const heard = this.replicas.get(shardId)?.get(replicaId);
    if (heard !== undefined) {
      const a = this.addressOf(heard);
      if (a !== undefined) return a;
    }
    if (address.startsWith(HOST_ID_ADDRESS_PREFIX)) return this.addressOf(address.slice(HOST_ID_ADDRESS_PREFIX.length));
    const moved = this.aliases.get(address);
    if (moved !== undefined) return this.addressOf(moved) ?? address;
    return this.selfEntry.former.includes(address) ? this.selfEntry.address : address;
  }

  /** Records that replica (`shardId`, `replicaId`) sent from host `hostId`. O(1) when unchanged. */
  bindReplica(shardId: number, replicaId: number, hostId: string): void {
    let m = this.replicas.get(shardId);
    if (m === undefined) this.replicas.set(shardId, (m = new Map()));
    if (m.get(replicaId) !== hostId) m.set(replicaId, hostId);
  }

  /** Forgets which host replica (`shardId`, `replicaId`) was heard from (it left the shard). */
  unbindReplica(shardId: number, replicaId: number): void {
    this.replicas.get(shardId)?.delete(replicaId);
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(fn: RegistryListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Merges what a handshake said: the dialer's own entry and its gossip. Returns the addresses
   * no longer dialled because a host moved away from them (empty when nothing moved).
   */
  learn(entries: readonly HostEntry[]): string[] {
    const rerouted: string[] = [];
    let changed = false;
    for (const e of entries) {
      const r = this.merge(e);
      if (r === null) continue;
      changed = true;
      rerouted.push(...r);
    }
    if (changed) {
      this.scheduleSave();
      for (const fn of this.listeners) {
        try { fn(rerouted); } catch (err) { this.logger.error('host registry: listener threw', { error: String(err) }); }
      }
    }
    return rerouted;
  }

  /** Writes the file now if a write is pending. Call at close. */
  flush(): void {
    if (this.saveTimer === null) return;
    this.rt.timers.clearTimeout(this.saveTimer);
    this.saveTimer = null;
    this.save();
  }

  /** Null when nothing changed, else the addresses the host moved away from. */
  private merge(e: HostEntry): string[] | null {
    if (e.hostId === this.selfEntry.hostId) return null;
    const old = this.hosts.get(e.hostId);
    if (old !== undefined && e.incarnation < old.incarnation) return null;
    if (old !== undefined && e.incarnation === old.incarnation) {
      if (e.address !== old.address) return null; // a conflict: the first one heard stays
      // Only what fits is news: a merge that changes nothing must not count as a change, or
      // two hosts would re-send their handshakes to each other for ever.
      const extra = e.former.filter((a) => !old.former.includes(a) && a !== old.address).slice(0, MAX_FORMER - old.former.length);
      if (extra.length === 0) return null;
      this.hosts.set(e.hostId, { ...old, former: [...old.former, ...extra] });
      for (const a of extra) this.alias(a, e.hostId);
      return [];
    }
    if (old === undefined && this.hosts.size >= this.maxEntries) {
      if (!this.full) this.logger.warn('host registry: full, new hosts ignored', { maxEntries: this.maxEntries });
      this.full = true;
      return null;
    }
    const former = [...(old !== undefined && old.address !== e.address ? [old.address] : []), ...e.former, ...(old?.former ?? [])]
      .filter((a, i, all) => a !== e.address && all.indexOf(a) === i).slice(0, MAX_FORMER);
    const entry: HostEntry = { hostId: e.hostId, address: e.address, incarnation: e.incarnation, former };
    this.hosts.set(e.hostId, entry);
    // The new address is nobody's former one any more; the former ones lead here.
    this.aliases.delete(e.address);
    for (const a of former) this.alias(a, e.hostId);
    if (old !== undefined && old.address !== e.address) {
      this.logger.info(`host ${e.hostId} moved from ${old.address} to ${e.address}`, { hostId: e.hostId, incarnation: e.incarnation });
      return [old.address];
    }
    return e.former.filter((a) => this.aliases.get(a) === e.hostId);
  }

  private alias(address: string, hostId: string): void {
    if (address === this.selfEntry.address) return;
    for (const o of this.hosts.values()) if (o.address === address) return;
    this.aliases.set(address, hostId);
  }

  private load(file: string): void {
    let raw: string;
    try {
      raw = this.rt.fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn('host registry: cannot read, starting empty', { file, error: String(err) });
      return;
    }
    try {
      const o = JSON.parse(raw) as { hosts?: HostEntry[] };
      for (const e of o.hosts ?? []) {
        if (e.hostId === this.selfEntry.hostId) {
          // Where this host was before (a registry written at an older address).
          const former = [e.address, ...e.former, ...this.selfEntry.former]
            .filter((a, i, all) => a !== this.selfEntry.address && all.indexOf(a) === i).slice(0, MAX_FORMER);
          this.selfEntry = { ...this.selfEntry, former };
        } else this.merge(e);
      }
    } catch (err) {
      this.logger.warn('host registry: unreadable, starting empty', { file, error: String(err) });
    }
  }

  private scheduleSave(): void {
    if (this.opts.file === undefined || this.saveTimer !== null) return;
    this.saveTimer = this.rt.timers.setTimeout(() => {
      this.saveTimer = null;
      this.save();
    }, 200).unref();
  }

  private save(): void {
    const file = this.opts.file;
    if (file === undefined) return;
    try {
      const tmp = `${file}.tmp`;
      this.rt.fs.writeFileSync(tmp, JSON.stringify({ version: 1, hosts: [this.selfEntry, ...this.hosts.values()] }));
      this.rt.fs.renameSync(tmp, file);
    } catch (err) {
      this.logger.warn('host registry: cannot write', { file, error: String(err) });
    }
  }
}
