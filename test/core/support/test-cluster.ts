/**
 * A synchronous test cluster: replicas of one shard whose messages are delivered in rounds
 * until the cluster is quiet, with filters for cut links and isolated replicas. It is the
 * stage for the scenario tests and the scripted interaction tests (etcd's `network`).
 */
import { MessageType, entry, type Message, type RaftConfigInput } from '../../../src/core/index.js';
import { SimReplica, type ReplicaObserver, type SnapshotStore } from './sim-replica.js';

/** Options for a {@link TestCluster}. */
export interface TestClusterOptions {
  readonly shardId?: number;
  /** Replica ids that form the initial voters. */
  readonly voters: readonly number[];
  /** Extra replicas started without initial members (to be added by config change). */
  readonly joiners?: ReadonlyArray<{ id: number; config?: Partial<RaftConfigInput> }>;
  readonly config?: Partial<RaftConfigInput>;
  /** Settings of single initial voters, over `config` (e.g. one replica that never campaigns). */
  readonly voterConfig?: Readonly<Record<number, Partial<RaftConfigInput>>>;
  readonly seed?: number;
  readonly snapshotEvery?: number;
  readonly compactionOverhead?: number;
  readonly observer?: ReplicaObserver;
}

/** A cluster of replicas with deterministic, synchronous message delivery. */
export class TestCluster {
  readonly replicas = new Map<number, SimReplica>();
  readonly store: SnapshotStore = new Map();
  /** Links cut as "from->to". */
  private readonly cut = new Set<string>();
  private readonly down = new Set<number>();
  /** Every message delivered, for assertions and transcripts. */
  readonly trace: Message[] = [];
  /** Optional filter: return false to drop a message. */
  filter: ((m: Message) => boolean) | null = null;
  readonly shardId: number;

  constructor(opts: TestClusterOptions) {
    this.shardId = opts.shardId ?? 1;
    const members = new Map(opts.voters.map((id) => [id, `addr-${id}`] as const));
    const make = (id: number, config: Partial<RaftConfigInput> | undefined, init: boolean): SimReplica => new SimReplica({
      shardId: this.shardId, replicaId: id, seed: opts.seed ?? 1, store: this.store,
      config: { ...opts.config, ...config }, initialMembers: init ? members : undefined,
      snapshotEvery: opts.snapshotEvery, compactionOverhead: opts.compactionOverhead, observer: opts.observer,
    });
    for (const id of opts.voters) this.replicas.set(id, make(id, opts.voterConfig?.[id], true));
    for (const j of opts.joiners ?? []) this.replicas.set(j.id, make(j.id, j.config, false));
  }

  /** The replica `id`. @throws Error when unknown. */
  get(id: number): SimReplica {
    const r = this.replicas.get(id);
    if (r === undefined) throw new Error(`no replica ${id}`);
    return r;
  }

  /** Cuts the links between `a` and `b`, both ways. */
  cutLink(a: number, b: number): void { this.cut.add(`${a}->${b}`); this.cut.add(`${b}->${a}`); }
  /** Cuts one direction only. */
  cutOneWay(from: number, to: number): void { this.cut.add(`${from}->${to}`); }
  /** Cuts `id` off from everyone. */
  isolate(id: number): void { for (const o of this.replicas.keys()) if (o !== id) this.cutLink(id, o); }
  /** Restores every link. */
  heal(): void { this.cut.clear(); }
  /** Stops a replica: it neither sends nor receives until `restart`. */
  crash(id: number): void { this.down.add(id); }
  /** Restarts a crashed replica from its persisted state. */
  restart(id: number): void { this.down.delete(id); this.get(id).restart(); }
  isDown(id: number): boolean { return this.down.has(id); }

  private deliverable(m: Message): boolean {
    if (this.down.has(m.to) || this.down.has(m.from)) return false;
    if (this.cut.has(`${m.from}->${m.to}`)) return false;
    return this.filter === null || this.filter(m);
  }

  /**
   * Processes updates and delivers messages until nothing moves (bounded). Snapshot messages
   * are reported to the sender as delivered or failed.
   */
  stabilize(maxRounds = 200): void {
    for (let round = 0; round < maxRounds; round++) {
      const out: Message[] = [];
      for (const [id, r] of this.replicas) {
        if (this.down.has(id)) continue;
        r.process((m) => out.push(m));
      }
      if (out.length === 0) return;
      for (const m of out) this.deliver(m);
    }
    throw new Error('cluster did not stabilise');
  }

  private deliver(m: Message): void {
    const ok = this.deliverable(m);
    if (ok) {
      this.trace.push(m);
      this.replicas.get(m.to)?.peer.step(m);
    }
    if (m.type === MessageType.InstallSnapshot && !this.down.has(m.from)) {
      this.get(m.from).peer.reportSnapshotStatus(m.to, !ok);
    }
  }

  /** Ticks `id` (or every live replica) `n` times, stabilising after each tick. */
  tick(n = 1, id?: number): void {
    for (let i = 0; i < n; i++) {
      for (const [rid, r] of this.replicas) {
        if (this.down.has(rid) || (id !== undefined && rid !== id)) continue;
        r.peer.tick();
      }
      this.stabilize();
    }
  }

  /** Makes `id` campaign and settles the election. */
  elect(id: number): void {
    this.get(id).peer.campaign();
    this.stabilize();
  }

  /** Proposes a command at `id` and settles. */
  propose(id: number, cmd: string): void {
    this.get(id).peer.propose([entry({ term: 0, index: 0, cmd: new TextEncoder().encode(cmd) })]);
    this.stabilize();
  }

  /** The current leader among live replicas, or 0. */
  leader(): number {
    for (const [id, r] of this.replicas) if (!this.down.has(id) && r.peer.isLeader) return id;
    return 0;
  }
}
