/**
 * One simulated cluster: N real NodeHosts over the simulated disk, network and clock, their
 * incarnations (crash, restart), and the agreement checks fed by every replica's applies.
 */
import { NodeHost } from '../../src/host/nodehost.js';
import { Scheduler } from './scheduler.js';
import { SimFs } from './sim-fs.js';
import { SimNetwork } from './sim-network.js';
import { SimRandom } from './sim-random.js';
import { SIM_PID_BASE, SIM_ROOT, SimRuntime, setSimWorld, type SimWorld } from './sim-runtime.js';
import { SimKv, type ApplyObserver } from './kv-sm.js';

/** One host slot: its directory, address and current incarnation. */
export interface HostSlot {
  readonly id: number;
  readonly dir: string;
  readonly address: string;
  incarnation: number;
  tag: string;
  nh: NodeHost | undefined;
  /** Starting or up. */
  up: boolean;
  /** (shard, replica id) pairs this host runs. */
  readonly replicas: Map<number, number>;
  /** Shards whose replica here joined an existing membership (restarted with join=true). */
  readonly joined: Set<number>;
  /** A byte of its data was flipped while it was down: its next start may refuse. */
  flipped: boolean;
  /** It refused to start on damaged data: it stays down (its disk would be replaced). */
  retired: boolean;
}

/** The simulated world of one seed. */
export class World implements ApplyObserver {
  readonly sched = new Scheduler();
  readonly random: SimRandom;
  readonly fs: SimFs;
  readonly net: SimNetwork;
  readonly pids = new Map<string, number>();
  readonly hosts: HostSlot[] = [];
  readonly violations: string[] = [];
  /** shard → index → command digest, as first applied anywhere. */
  private readonly log = new Map<number, Map<number, string>>();
  /** `shard/term` → the leader replicas learnt of. */
  private readonly leaders = new Map<string, number>();
  /** shard → index → state hash after a batch ending there. */
  private readonly hashes = new Map<number, Map<number, string>>();
  /** shard → replica → highest index applied. */
  readonly appliedBy = new Map<number, Map<string, number>>();
  private nextPid = SIM_PID_BASE;
  /** Incarnations given a disk fault: a replica or host failure there is expected. */
  readonly faulted = new Set<string>();
  /** Starts refused on damaged data (flipped bytes), with their errors. */
  readonly refusals: string[] = [];
  /** The world each host incarnation's runtime is made over. */
  private readonly world: SimWorld;
  /** Incarnations that failed (a replica or the host), with the first error. */
  readonly failStops = new Map<string, string>();

  constructor(readonly seed: number, nHosts: number, readonly rttMs = 10) {
    this.random = new SimRandom(seed);
    this.fs = new SimFs(this.sched, this.random.fork());
    this.net = new SimNetwork(this.sched, this.random.fork(), this.fs);
    const world: SimWorld = { sched: this.sched, fs: this.fs, random: this.random, pids: this.pids };
    this.world = world;
    setSimWorld(world);
    for (let i = 1; i <= nHosts; i++) {
      const dir = `${SIM_ROOT}/h${i}`;
      this.fs.mkdirDurable(dir);
      this.hosts.push({ id: i, dir, address: `10.0.0.${i}:26000`, incarnation: 0, tag: `h${i}.0`, nh: undefined, up: false, replicas: new Map(), joined: new Set(), flipped: false, retired: false });
    }
  }

  /** A violation (the seed fails). */
  violation(msg: string): void {
    if (this.violations.length < 20) this.violations.push(`t=${this.sched.now} ${msg}`);
  }

  applied(shardId: number, replica: string, index: number, digest: string): void {
    let m = this.log.get(shardId);
    if (m === undefined) this.log.set(shardId, (m = new Map()));
    const prev = m.get(index);
    if (prev === undefined) m.set(index, digest);
    else if (prev !== digest) this.violation(`shard ${shardId}: replica ${replica} applied ${digest} at index ${index}, another replica applied ${prev}`);
    let a = this.appliedBy.get(shardId);
    if (a === undefined) this.appliedBy.set(shardId, (a = new Map()));
    const last = a.get(replica) ?? 0;
    // A restarted replica re-applies from its snapshot; within one incarnation indexes rise.
    a.set(replica, Math.max(last, index));
  }

  hashed(shardId: number, replica: string, index: number, hash: string): void {
    let m = this.hashes.get(shardId);
    if (m === undefined) this.hashes.set(shardId, (m = new Map()));
    const prev = m.get(index);
    if (prev === undefined) m.set(index, hash);
    else if (prev !== hash) this.violation(`shard ${shardId}: state hash of replica ${replica} at index ${index} is ${hash}, another replica had ${prev}`);
  }

  /** Election safety: at most one leader per shard and term, as every replica learns it. */
  leaderSeen(shardId: number, term: number, leaderId: number, replica: string): void {
    if (leaderId === 0) return;
    const key = `${shardId}/${term}`;
    const prev = this.leaders.get(key);
    if (prev === undefined) this.leaders.set(key, leaderId);
    else if (prev !== leaderId) this.violation(`election safety: shard ${shardId} term ${term} has leaders ${prev} and ${leaderId} (as ${replica} learnt it)`);
  }

  /** Runs `fn` as host `h`'s code (its timers and fs calls belong to its incarnation). */
  asHost<T>(h: HostSlot, what: string, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.sched.schedule(0, () => { fn().then(resolve, reject); }, what, h.tag);
    });
  }

  /** Starts a new incarnation of host `h` and its replicas (`members` on a first start). */
  async start(h: HostSlot, members: Map<number, Map<number, string>> | null): Promise<void> {
    h.incarnation++;
    h.tag = `h${h.id}.${h.incarnation}`;
    this.pids.set(h.tag, this.nextPid++);
    h.up = true;
    const tag = h.tag;
    if (h.flipped) this.faulted.add(tag);
    h.flipped = false;
    try {
      const nh = await this.asHost(h, `start ${tag}`, () => NodeHost.create({
        nodeHostDir: h.dir, raftAddress: h.address, rttMillisecond: this.rttMs, runtime: new SimRuntime(this.world, tag),
        transportFactory: (handler) => this.net.create(h.address, tag, handler),
      }));
      if (h.tag !== tag) return;
      h.nh = nh;
      const failed = (what: string, err: unknown): void => {
        const msg = `${what}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
        this.sched.trace(`${tag} ${msg}`);
        if (!this.failStops.has(tag)) this.failStops.set(tag, msg);
        if (!this.faulted.has(tag)) this.violation(`host ${h.id} (${tag}) ${msg}, with no disk fault injected`);
      };
      nh.on('replica:failed', (p) => failed(`replica ${p.shardId}/${p.replicaId} failed`, p.error));
      nh.on('leader:updated', (p) => this.leaderSeen(p.shardId, p.term, p.leaderId, `${h.address}/${p.replicaId}`));
      nh.on('host:failed', (p) => failed('host failed', p.error));
      for (const [shardId, replicaId] of [...h.replicas]) {
        const join = h.joined.has(shardId);
        const m = join ? new Map<number, string>() : members?.get(shardId) ?? new Map<number, string>();
        await this.asHost(h, `start replica ${shardId}/${replicaId}`, () => this.startReplica(h, nh, shardId, replicaId, m, join));
      }
    } catch (err) {
      const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (h.tag !== tag) throw err;
      if (this.faulted.has(tag) && /corrupt|checksum|crc/i.test(msg)) {
        // Detected and refused: the expected outcome of a damaged disk.
        this.sched.trace(`${tag} refused to start: ${msg}`);
        this.refusals.push(msg);
        this.crash(h);
        h.retired = true;
      } else {
        this.violation(`host ${h.id} failed to start: ${msg}`);
      }
      throw err;
    }
  }

  /** Starts the replica `shardId`/`replicaId` on `nh` (host `h`) with the simulator's shard settings. */
  startReplica(h: HostSlot, nh: NodeHost, shardId: number, replicaId: number, members: Map<number, string>, join: boolean): Promise<unknown> {
    return nh.startReplica(members, join, () => new SimKv(shardId, `${h.address}/${replicaId}`, this),
      { shardId, replicaId, electionRTT: 10, heartbeatRTT: 1, checkQuorum: true, preVote: true, snapshotEntries: 40, compactionOverhead: 10 });
  }

  /** A power loss of host `h`: nothing of it runs again; its disk loses what was not synced. */
  crash(h: HostSlot): void {
    this.sched.kill(h.tag);
    this.pids.delete(h.tag);
    this.net.host(h.address)?.close().catch(() => undefined);
    this.fs.crash(h.dir);
    h.nh = undefined;
    h.up = false;
    this.sched.trace(`crash ${h.tag}`);
  }

  /**
   * Runs the scheduler until `p` settles (the driver awaits host calls this way).
   * @throws Error when the event queue empties first (nothing could settle it) or virtual
   *   time stalls (a busy loop).
   */
  async settle<T>(p: Promise<T>): Promise<T> {
    let done = false;
    const q = p.finally(() => { done = true; });
    q.catch(() => undefined);
    while (!done) {
      if (!await this.sched.step()) {
        if (this.sched.stalledAt !== undefined) throw new Error(`virtual time stalled at t=${this.sched.stalledAt}: ${this.sched.maxEventsAtOneTime} events ran without time passing (a busy loop)`);
        throw new Error('simulation ran out of events while waiting');
      }
    }
    return q;
  }

  /** The live hosts. */
  live(): HostSlot[] {
    return this.hosts.filter((h) => h.up && h.nh !== undefined);
  }
}
