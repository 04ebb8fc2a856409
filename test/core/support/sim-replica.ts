/**
 * The core's test harness (etcd raft's `rafttest` plays this part): a replica driven the way
 * the `Peer` contract prescribes, with memory standing in for the disk — it persists, sends,
 * applies and acknowledges each update. Only the core's tests use it (scenario, scripted
 * interaction and the core property test); the real host (src/host) runs under the host
 * simulator (`npm run sim:host`, tools/simhost), which is where host behaviour is checked.
 *
 * The "state machine" is a running digest of applied entries, so two replicas that applied
 * the same entries in the same order have the same digest, and a snapshot carries the digest.
 */
import {
  EntryType, MessageType, MemoryLogStorage, Peer, SeededRandom, applyConfigChange, decodeConfigChange, emptyMembership,
  emptySnapshot, validateConfigChange,
  type Entry, type Membership, type Message, type RaftConfigInput, type ReadyToRead, type SnapshotMeta,
  type Update, type ReadContext,
} from '../../../src/core/index.js';

/** The state a snapshot restores: digest and membership at its index. */
export interface SmImage {
  readonly digest: number;
  readonly membership: Membership;
  readonly count: number;
}

/** Where the simulated world keeps snapshot images (they stand for snapshot files). */
export type SnapshotStore = Map<string, SmImage>;

/** Hooks the replica reports to (the simulator's checkers). */
export interface ReplicaObserver {
  saved?(r: SimReplica, ents: readonly Entry[]): void;
  applied?(r: SimReplica, e: Entry, digest: number): void;
  read?(r: SimReplica, rr: ReadyToRead): void;
  becameLeader?(r: SimReplica, term: number): void;
  dropped?(r: SimReplica, ents: readonly Entry[], reads: readonly ReadContext[]): void;
  snapshotRestored?(r: SimReplica, ss: SnapshotMeta): void;
}

/** Settings of a simulated replica. */
export interface SimReplicaOptions {
  readonly shardId: number;
  readonly replicaId: number;
  readonly seed: number;
  readonly config?: Partial<RaftConfigInput>;
  /** Take a snapshot every N applied entries; 0 for never. */
  readonly snapshotEvery?: number;
  /** Entries kept in the log below a snapshot. */
  readonly compactionOverhead?: number;
  readonly initialMembers?: ReadonlyMap<number, string>;
  readonly store: SnapshotStore;
  readonly observer?: ReplicaObserver;
}

function mix(h: number, v: number): number {
  h ^= v >>> 0;
  return Math.imul(h, 0x01000193) >>> 0;
}

/** Digest of one entry's identity (index, term, type, payload). */
export function entryDigest(e: Entry): number {
  let h = 0x811c9dc5;
  h = mix(h, e.index);
  h = mix(h, e.term);
  h = mix(h, e.type);
  for (const b of e.cmd) h = mix(h, b);
  return h;
}

/** One simulated replica: protocol + memory "disk" + digest state machine. */
export class SimReplica {
  readonly storage: MemoryLogStorage;
  peer: Peer;
  digest = 0x811c9dc5;
  appliedIndex = 0;
  appliedCount = 0;
  membership: Membership = emptyMembership();
  removed = false;
  private readonly opts: SimReplicaOptions;
  private restarts = 0;

  constructor(opts: SimReplicaOptions) {
    this.opts = opts;
    this.storage = new MemoryLogStorage(opts.shardId);
    this.peer = this.makePeer(opts.initialMembers);
  }

  get id(): number { return this.opts.replicaId; }
  get shardId(): number { return this.opts.shardId; }
  /** Whether this replica was started as a witness. */
  get isWitness(): boolean { return this.opts.config?.isWitness === true; }

  private config(): RaftConfigInput {
    return {
      shardId: this.opts.shardId, replicaId: this.opts.replicaId,
      random: new SeededRandom(this.opts.seed * 7919 + this.opts.replicaId * 104729 + this.restarts),
      ...this.opts.config,
    };
  }

  private makePeer(initialMembers?: ReadonlyMap<number, string>): Peer {
    const ss = this.storage.snapshot();
    if (ss.index > 0) {
      const img = this.image(ss.index, ss.term);
      this.digest = img.digest;
      this.appliedCount = img.count;
      this.membership = ss.membership;
    } else {
      this.digest = 0x811c9dc5;
      this.appliedCount = 0;
      this.membership = emptyMembership();
    }
    this.appliedIndex = ss.index;
    const fresh = this.storage.lastIndex() === 0 && this.storage.hardState.term === 0;
    if (fresh && initialMembers !== undefined) return new Peer(this.config(), this.storage, { initialMembers });
    return new Peer(this.config(), this.storage, {
      hardState: this.storage.hardState, membership: this.membership, applied: ss.index,
    });
  }

  /** The state machine image of a snapshot; a witness has none of its own. */
  private image(index: number, term: number): SmImage {
    const img = this.opts.store.get(snapshotKey(this.shardId, index, term));
    if (img !== undefined) return img;
    if (this.isWitness) return { digest: 0, membership: emptyMembership(), count: 0 };
    throw new Error(`sim: snapshot image ${index}/${term} missing`);
  }

  /** Loses everything not persisted and starts again from the "disk". */
  restart(): void {
    this.restarts++;
    this.peer = this.makePeer(this.opts.initialMembers);
  }

  /**
   * Carries out pending updates (bounded), sending messages through `send`. Returns how many
   * updates it handled.
   */
  process(send: (m: Message) => void, maxRounds = 16): number {
    let n = 0;
    while (n < maxRounds && this.peer.hasUpdate()) {
      this.handle(this.peer.getUpdate(), send);
      n++;
    }
    return n;
  }

  /** Async writes: applies an update's committed entries when it is taken (they are persisted already). */
  applyAccepted(u: Update): void {
    for (const e of u.committedEntries) this.apply(e);
  }

  /**
   * Does one update's work, in the order `Peer` documents. With `replicateSentEarly`, the
   * leader's Replicate messages already went out before the write (the host's pipelining);
   * with `appliedWhenTaken`, its committed entries were applied when it was taken.
   */
  handle(u: Update, send: (m: Message) => void, replicateSentEarly = false, appliedWhenTaken = false): void {
    const obs = this.opts.observer;
    if (u.snapshot !== null) {
      this.storage.applySnapshot(u.snapshot);
      const img = this.image(u.snapshot.index, u.snapshot.term);
      this.digest = img.digest;
      this.appliedCount = img.count;
      this.membership = u.snapshot.membership;
      this.appliedIndex = u.snapshot.index;
      obs?.snapshotRestored?.(this, u.snapshot);
    }
    if (u.entriesToSave.length > 0) {
      this.storage.append(u.entriesToSave);
      obs?.saved?.(this, u.entriesToSave);
    }
    if (u.hardState !== null) this.storage.hardState = u.hardState;
    for (const m of u.messages) if (!replicateSentEarly || !isEarly(m)) send(m);
    if (!appliedWhenTaken) for (const e of u.committedEntries) this.apply(e);
    for (const rr of u.readyToReads) obs?.read?.(this, rr);
    if (u.droppedEntries.length > 0 || u.droppedReads.length > 0) obs?.dropped?.(this, u.droppedEntries, u.droppedReads);
    if (u.softState !== null && u.softState.leaderId === this.id && u.softState.role === 3) {
      obs?.becameLeader?.(this, u.softState.term);
    }
    this.peer.commit(u);
    this.peer.notifyApplied(this.appliedIndex);
    this.maybeSnapshot();
  }

  private apply(e: Entry): void {
    if (e.index <= this.appliedIndex) return;
    if (e.index !== this.appliedIndex + 1) throw new Error(`sim: replica ${this.id} applies ${e.index} after ${this.appliedIndex}`);
    this.appliedIndex = e.index;
    if (e.type === EntryType.ConfigChange) {
      const cc = decodeConfigChange(e.cmd);
      const ordered = this.opts.config?.orderedConfigChange ?? false;
      if (validateConfigChange(this.membership, cc, ordered) === null) {
        this.membership = applyConfigChange(this.membership, cc, e.index);
        this.peer.applyConfigChange(cc, e.index);
        if (this.membership.removed.has(this.id)) this.removed = true;
      }
    }
    this.digest = mix(this.digest, entryDigest(e));
    this.appliedCount++;
    this.opts.observer?.applied?.(this, e, this.digest);
  }

  /** Takes a snapshot of the applied state when due, and compacts the log behind it. */
  maybeSnapshot(force = false): void {
    const every = this.opts.snapshotEvery ?? 0;
    const last = this.storage.snapshot().index;
    if (this.appliedIndex <= last) return;
    if (!force && (every === 0 || this.appliedIndex - last < every)) return;
    if (this.appliedIndex > this.storage.lastIndex()) return;
    const term = this.storage.term(this.appliedIndex);
    const key = snapshotKey(this.shardId, this.appliedIndex, term);
    const img: SmImage = { digest: this.digest, membership: this.membership, count: this.appliedCount };
    const prior = this.opts.store.get(key);
    if (this.isWitness) {
      // A witness's snapshot is metadata only: it has no state machine to record.
    } else if (prior !== undefined && prior.digest !== img.digest) {
      throw new Error(`sim: replica ${this.id} snapshot at ${this.appliedIndex} differs from another replica's`);
    } else {
      this.opts.store.set(key, img);
    }
    this.storage.setSnapshot({ ...emptySnapshot(this.shardId), index: this.appliedIndex, term, membership: this.membership });
    const overhead = this.opts.compactionOverhead ?? 0;
    if (this.appliedIndex > overhead) this.storage.compact(this.appliedIndex - overhead);
  }
}

/** Key of a snapshot image in a {@link SnapshotStore}. */
export function snapshotKey(shardId: number, index: number, term: number): string {
  return `${shardId}/${index}/${term}`;
}

/** Messages a leader may send before its own write completes (thesis §10.2.1). */
export function isEarly(m: Message): boolean {
  return m.type === MessageType.Replicate;
}
