/**
 * One simulated cluster: N real NodeHosts over the simulated disk, network and clock, their
 * incarnations (crash, restart), and the checks fed by every replica's applies, elections and
 * votes: the same command and state hash at every index, one leader per term, one vote per
 * replica and term, and every new leader holding every entry applied anywhere.
 */
import { NodeHost } from '../../src/host/nodehost.js';
import { StorageError } from '../../src/errors.js';
import { Scheduler } from './scheduler.js';
import { SimFs } from './sim-fs.js';
import { SimNetwork } from './sim-network.js';
import { SimRandom } from './sim-random.js';
import { SIM_PID_BASE, SIM_ROOT, SimRuntime, setSimWorld, type SimWorld } from './sim-runtime.js';
import { SimKv, type ApplyObserver } from './kv-sm.js';
import { DriftingRuntime } from './drift-runtime.js';
import { leaderIncomplete } from './leader-check.js';
import { MessageType, type Message } from '../../src/core/types.js';
import type { Runtime } from '../../src/runtime/runtime.js';

/** How the shards read: ReadIndex, or lease reads with the drift bound the hosts' clocks call for. */
export interface ReadSettings {
  readonly readMode: 'read-index' | 'lease';
  /** Lease mode: the shards' `leaseDriftTicks`. */
  readonly leaseDriftTicks: number;
}

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
  /**
   * Shards whose removed replica this host still holds (the nemesis does not stop it): a new
   * replica of such a shard is never placed here, since it could not start beside the old one,
   * and a voter added where it cannot start can cost the shard its quorum for good.
   */
  readonly leftShards: Set<number>;
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
  /** shard → the highest index applied anywhere. */
  private readonly maxApplied = new Map<number, number>();
  /** `shard/term/voter` → the candidate it granted its vote to. */
  private readonly votes = new Map<string, number>();
  /** Host id → its clock's rate (local ms per virtual ms); absent: 1. */
  readonly clockRates = new Map<number, number>();
  /** How every shard reads (set by the seed before the hosts start). */
  reads: ReadSettings = { readMode: 'read-index', leaseDriftTicks: 1 };
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
    this.net.onSend = (m) => this.sent(m);
    setSimWorld(world);
    for (let i = 1; i <= nHosts; i++) {
      const dir = `${SIM_ROOT}/h${i}`;
      this.fs.mkdirDurable(dir);
      this.hosts.push({ id: i, dir, address: `10.0.0.${i}:26000`, incarnation: 0, tag: `h${i}.0`, nh: undefined, up: false, replicas: new Map(), joined: new Set(), leftShards: new Set(), flipped: false, retired: false });
    }
  }

  /** A violation (the seed fails). */
  violation(msg: string): void {
    if (this.violations.length < 20) this.violations.push(`t=${this.sched.now} ${msg}`);
  }

  applied(shardId: number, replica: string, index: number, digest: string): void {
    if (this.ghost()) return;
    let m = this.log.get(shardId);
    if (m === undefined) this.log.set(shardId, (m = new Map()));
    const prev = m.get(index);
    if (prev === undefined) m.set(index, digest);
    else if (prev !== digest) this.violation(`shard ${shardId}: replica ${replica} applied ${digest} at index ${index}, another replica applied ${prev}`);
    if ((this.maxApplied.get(shardId) ?? 0) < index) this.maxApplied.set(shardId, index);
    let a = this.appliedBy.get(shardId);
    if (a === undefined) this.appliedBy.set(shardId, (a = new Map()));
    const last = a.get(replica) ?? 0;
    // A restarted replica re-applies from its snapshot; within one incarnation indexes rise.
    a.set(replica, Math.max(last, index));
  }

  hashed(shardId: number, replica: string, index: number, hash: string): void {
    if (this.ghost()) return;
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

  /** The highest index of `shardId` applied anywhere so far: a read beginning now must see at least it. */
  appliedFloor(shardId: number): number {
    return this.maxApplied.get(shardId) ?? 0;
  }

  /**
   * Whether the running code is a crashed host's, finishing the turn in which its power failed
   * mid-sync (sim-fs `crashDuringNextSync`): nothing it does is observed.
   */
  private ghost(): boolean {
    return this.sched.isDead(this.sched.currentTag);
  }

  /** Vote safety: a replica grants at most one candidate its vote in a term (its vote is persisted first). */
  private sent(m: Message): void {
    if (this.ghost()) return;
    if (m.type !== MessageType.RequestVoteResp || m.reject) return;
    const key = `${m.shardId}/${m.term}/${m.from}`;
    const prev = this.votes.get(key);
    if (prev === undefined) this.votes.set(key, m.to);
    else if (prev !== m.to) this.violation(`vote safety: shard ${m.shardId} replica ${m.from} voted for ${prev} and ${m.to} in term ${m.term}`);
  }

  /** A replica on host `h` reported a leader: election safety, and leader completeness when it is the one. */
  private leaderUpdated(h: HostSlot, nh: NodeHost, p: { shardId: number; replicaId: number; leaderId: number; term: number }): void {
    if (this.ghost()) return;
    this.leaderSeen(p.shardId, p.term, p.leaderId, `${h.address}/${p.replicaId}`);
    if (p.leaderId !== p.replicaId) return;
    this.elections++;
    const v = leaderIncomplete(nh, p.shardId, p.replicaId, p.term, this.log.get(p.shardId), this.maxApplied.get(p.shardId) ?? 0);
    if (v !== undefined) this.violation(v);
  }

  /** New leaders checked for completeness. */
  elections = 0;

  /** The runtime of incarnation `tag` of host `h`: its clock drifts at the host's rate. */
  private runtimeFor(h: HostSlot, tag: string): Runtime {
    const base = new SimRuntime(this.world, tag);
    const rate = this.clockRates.get(h.id) ?? 1;
    return rate === 1 ? base : new DriftingRuntime(base, this.sched, rate);
  }

  /** Runs `fn` as host `h`'s code (its timers and fs calls belong to its incarnation). */
  asHost<T>(h: HostSlot, what: string, fn: () => Promise<T>): Promise<T> {
    const tag = h.tag;
    // A host that crashed answers nothing, even from the turn its power failed in.
    return new Promise<T>((resolve, reject) => {
      this.sched.schedule(0, () => {
        fn().then((v) => { if (!this.sched.isDead(tag)) resolve(v); }, (e: unknown) => { if (!this.sched.isDead(tag)) reject(e); });
      }, what, tag);
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
        nodeHostDir: h.dir, raftAddress: h.address, rttMillisecond: this.rttMs, runtime: this.runtimeFor(h, tag),
        transportFactory: (handler) => this.net.create(h.address, tag, handler),
      }));
      if (h.tag !== tag) return;
      h.nh = nh;
      const failed = (what: string, err: unknown): void => {
        if (this.sched.isDead(tag)) return;
        const msg = `${what}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
        this.sched.trace(`${tag} ${msg}`);
        if (!this.failStops.has(tag)) this.failStops.set(tag, msg);
        if (!this.faulted.has(tag)) this.violation(`host ${h.id} (${tag}) ${msg}, with no disk fault injected`);
      };
      nh.on('replica:failed', (p) => failed(`replica ${p.shardId}/${p.replicaId} failed`, p.error));
      nh.on('leader:updated', (p) => this.leaderUpdated(h, nh, p));
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
      } else if (this.faulted.has(tag) && err instanceof StorageError) {
        // EIO or ENOSPC injected while it started: it fail-stopped; the nemesis restarts it.
        this.sched.trace(`${tag} failed to start on a faulty disk: ${msg}`);
        if (!this.failStops.has(tag)) this.failStops.set(tag, msg);
      } else {
        this.violation(`host ${h.id} failed to start: ${msg}`);
      }
      throw err;
    }
  }

  /** Starts the replica `shardId`/`replicaId` on `nh` (host `h`) with the simulator's shard settings. */
  startReplica(h: HostSlot, nh: NodeHost, shardId: number, replicaId: number, members: Map<number, string>, join: boolean): Promise<unknown> {
    return nh.startReplica(members, join, () => new SimKv(shardId, `${h.address}/${replicaId}`, this),
      { shardId, replicaId, electionRTT: 10, heartbeatRTT: 1, checkQuorum: true, preVote: true, snapshotEntries: 40, compactionOverhead: 10, ...this.reads });
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
