/**
 * The core's property test world (test only: the host simulator, tools/simhost, runs the
 * real host): test-harness replicas (`sim-replica.ts`) of several shards over a simulated network with a
 * seeded random source and virtual time, under message loss, duplication, reordering and
 * delay, partitions (symmetric and one-way), crashes (including a leader that sent entries
 * before persisting them), restarts from persisted state, membership changes and leader
 * transfers. After every step it checks the safety properties of Raft; at the end it heals
 * everything and checks liveness. A failing seed replays exactly from its seed.
 *
 * Lease reads: a share of the seeds with check-quorum run `readMode: 'lease'`, and then every
 * host's clock drifts: each ticks at its own rate, drawn within ±`drift` of the nominal one,
 * with `leaseDriftTicks` set to the bound that drift calls for ({@link driftTicksFor}). The
 * read check (a read's index is at least every index applied anywhere before it began) then
 * covers lease reads served by a leader that may be partitioned.
 */
import {
  ConfigChangeType, EntryType, MessageType, SeededRandom, decodeConfigChange, entry, isMember,
  type ConfigChangeOp, type Entry, type Membership, type Message, type RaftConfigInput, type Update,
} from '../../../src/core/index.js';
import { SimReplica, entryDigest, isEarly, type ReplicaObserver, type SnapshotStore } from './sim-replica.js';

/** Settings of one simulation run. */
export interface SimOptions {
  readonly seed: number;
  /** Virtual steps of the faulty phase. */
  readonly steps?: number;
  readonly shards?: number;
  /** Initial voters per shard. */
  readonly replicas?: number;
  /** Turn the nemesis off (for debugging a seed). */
  readonly faults?: boolean;
  /**
   * Drive the replicas as the NodeHost engine does with `asyncStorageWrites`: updates are
   * taken while earlier writes are in flight (several per replica), completed in order, and
   * their committed entries applied when taken.
   */
  readonly asyncWrites?: boolean;
  /**
   * The read mode: 'random' (default) runs lease mode in about half the seeds that have
   * check-quorum; 'lease' forces check-quorum and lease mode; 'read-index' never leases.
   */
  readonly readMode?: 'random' | 'lease' | 'read-index';
  /**
   * Lease seeds: override the `leaseDriftTicks` derived from the drift (a negative control:
   * too small a bound must show up as read violations).
   */
  readonly leaseDriftTicks?: number;
}

/**
 * The `leaseDriftTicks` a clock drift of ±`drift` (a rate ratio, e.g. 0.1) calls for with
 * `electionTicks`: the leader's lease of L ticks must not outlast a follower's
 * `electionTicks − 1` ticks when the leader runs slowest and the follower fastest,
 * L·(1+drift) ≤ (electionTicks − 1)·(1−drift), plus one tick because the simulator's ticks
 * fall on whole steps (each tick up to one step, half a tick, late).
 */
export function driftTicksFor(electionTicks: number, drift: number): number {
  const lease = Math.floor(((electionTicks - 1) * (1 - drift)) / (1 + drift));
  return electionTicks - 1 - lease + 1;
}

/** Outcome of one run. */
export interface SimResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly stats: Readonly<Record<string, number>>;
}

interface Queued { due: number; seq: number; m: Message }

const TICK_EVERY = 2;

/** One simulated world; `run()` executes it. */
export class Simulation {
  private readonly rnd: SeededRandom;
  private readonly steps: number;
  private readonly shardCount: number;
  private readonly faults: boolean;
  private readonly store: SnapshotStore = new Map();
  /** Replicas by shard, then replica id. */
  private readonly shards = new Map<number, Map<number, SimReplica>>();
  private readonly down = new Set<number>();
  private readonly restartAt = new Map<number, number>();
  private cut = new Set<string>();
  private healAt = 0;
  private queue: Queued[] = [];
  private seq = 0;
  private time = 0;
  private nextHostId: number;
  private nextCmd = 1;
  private readonly violations: string[] = [];
  /** The membership each replica had after applying a config-change entry, by shard/index. */
  private readonly memberships = new Map<string, string>();
  private readonly stats: Record<string, number> = {};
  // Checkers' memory.
  private readonly leaders = new Map<string, number>();
  private readonly logEntries = new Map<string, number>();
  private readonly applied = new Map<string, { term: number; digest: number }>();
  private readonly maxApplied = new Map<number, number>();
  private readonly pendingReads = new Map<string, { shard: number; floor: number; at: number }>();
  private readonly finals = new Set<string>();
  private readonly votes = new Map<string, number>();
  private readonly writes = new Map<string, { u: Update; doneAt: number }>();
  /** Async writes: each replica's writes in flight, in the order taken. */
  private readonly writeQueues = new Map<string, Array<{ u: Update; doneAt: number }>>();
  private readonly intensity: number;
  private config: Partial<RaftConfigInput>;
  private dropRate: number;
  /** Lease seeds: each host's tick rate (ticks per TICK_EVERY steps) and its clock's phase. */
  private readonly tickRate = new Map<number, number>();
  private readonly tickPhase = new Map<number, number>();
  private readonly drift: number;
  private readonly leaseRnd: SeededRandom;
  private dupRate: number;
  private readonly maxDelay: number;

  constructor(private readonly opts: SimOptions) {
    this.rnd = new SeededRandom(opts.seed);
    this.steps = opts.steps ?? 1500;
    this.shardCount = opts.shards ?? 2;
    this.faults = opts.faults ?? true;
    const voters = opts.replicas ?? 3;
    this.nextHostId = voters + 1;
    this.config = {
      electionTicks: 10, heartbeatTicks: 1,
      checkQuorum: this.rnd.intn(2) === 0, preVote: this.rnd.intn(3) !== 0,
      maxInflightMsgs: 1 + this.rnd.intn(8), maxInflightBytes: 0,
      maxEntryBytesPerMsg: 100 + this.rnd.intn(400),
      asyncStorageWrites: opts.asyncWrites ?? false,
    };
    // Lease decisions draw from their own stream: read-index seeds replay as before.
    this.leaseRnd = new SeededRandom(opts.seed * 7 + 3);
    const mode = opts.readMode ?? 'random';
    const lease = mode === 'lease' || (mode === 'random' && this.config.checkQuorum === true && this.leaseRnd.intn(2) === 0);
    this.drift = lease ? this.leaseRnd.intn(11) / 100 : 0;
    if (lease) {
      this.config = {
        ...this.config, checkQuorum: true, readMode: 'lease',
        leaseDriftTicks: opts.leaseDriftTicks ?? driftTicksFor(10, this.drift),
      };
    }
    this.dropRate = this.faults ? this.rnd.intn(10) / 100 : 0;
    this.dupRate = this.faults ? this.rnd.intn(5) / 100 : 0;
    this.maxDelay = 1 + this.rnd.intn(6);
    this.intensity = 1 + this.rnd.intn(4);
    const members = new Map<number, string>();
    for (let id = 1; id <= voters; id++) members.set(id, `host-${id}`);
    const snapshotEvery = this.rnd.intn(3) === 0 ? 0 : 5 + this.rnd.intn(30);
    for (let s = 1; s <= this.shardCount; s++) {
      const m = new Map<number, SimReplica>();
      for (const id of members.keys()) m.set(id, this.makeReplica(s, id, members, snapshotEvery));
      this.shards.set(s, m);
    }
  }

  private snapshotEvery = 0;

  private makeReplica(shardId: number, id: number, members: ReadonlyMap<number, string> | undefined, snapshotEvery: number, witness = false): SimReplica {
    this.snapshotEvery = snapshotEvery;
    return new SimReplica({
      shardId, replicaId: id, seed: this.opts.seed, store: this.store, config: { ...this.config, isWitness: witness },
      snapshotEvery, compactionOverhead: this.rnd.intn(5), initialMembers: members, observer: this.observer(),
    });
  }

  private count(k: string, n = 1): void { this.stats[k] = (this.stats[k] ?? 0) + n; }

  private violation(msg: string): void {
    if (this.violations.length < 20) this.violations.push(`t=${this.time}: ${msg}`);
  }

  private observer(): ReplicaObserver {
    return {
      saved: (r, ents) => {
        if (r.isWitness) return; // witnesses hold metadata entries: same positions, no payload
        for (const e of ents) {
          const k = `${r.shardId}/${e.index}/${e.term}`;
          const d = entryDigest(e);
          const prior = this.logEntries.get(k);
          if (prior === undefined) this.logEntries.set(k, d);
          else if (prior !== d) this.violation(`log matching: shard ${r.shardId} entry ${e.index}/${e.term} differs on replica ${r.id}`);
        }
      },
      applied: (r, e) => {
        if (r.isWitness) return; // a witness applies metadata entries only
        const k = `${r.shardId}/${e.index}`;
        const d = entryDigest(e);
        const prior = this.applied.get(k);
        if (prior === undefined) {
          this.applied.set(k, { term: e.term, digest: d });
          // Joint configurations entered and left (counted once per entry, validated or not).
          if (e.type === EntryType.ConfigChange) {
            const t = decodeConfigChange(e.cmd).type;
            if (t === ConfigChangeType.EnterJoint && r.membership.configChangeId === e.index) this.count('jointEntered');
            if (t === ConfigChangeType.LeaveJoint && r.membership.configChangeId === e.index) this.count('jointLeft');
          }
        } else if (prior.digest !== d) this.violation(`state machine safety: shard ${r.shardId} index ${e.index} applied differently on replica ${r.id}`);
        if (e.type === EntryType.ConfigChange) {
          // Membership agreement: every replica applies a change to the same configuration.
          const m = r.membership;
          const f = `v${m.configChangeId} ${[...m.voters.keys()].sort().join(',')}|${[...(m.joint?.outgoing.keys() ?? [])].sort().join(',')}|${[...m.nonVoting.keys()].sort().join(',')}|${[...(m.joint?.nonVotingNext.keys() ?? [])].sort().join(',')}|${[...m.removed].sort().join(',')}`;
          const seen = this.memberships.get(k);
          if (seen === undefined) this.memberships.set(k, f);
          else if (seen !== f) this.violation(`membership agreement: shard ${r.shardId} after entry ${e.index}: ${seen} vs ${f} on replica ${r.id}`);
        }
        if (r.id === this.leaderOf(r.shardId)?.id && new TextDecoder().decode(e.cmd).startsWith('final-')) this.finals.add(String(r.shardId));
        if ((this.maxApplied.get(r.shardId) ?? 0) < e.index) this.maxApplied.set(r.shardId, e.index);
        this.count('applied');
      },
      becameLeader: (r, term) => {
        if (r.isWitness) this.violation(`witness ${r.id} of shard ${r.shardId} became leader`);
        const k = `${r.shardId}/${term}`;
        const prior = this.leaders.get(k);
        if (prior !== undefined && prior !== r.id) this.violation(`election safety: shard ${r.shardId} term ${term} has leaders ${prior} and ${r.id}`);
        this.leaders.set(k, r.id);
        this.count('elections');
        this.checkLeaderCompleteness(r);
      },
      read: (r, rr) => {
        const k = `${rr.ctx.low}:${rr.ctx.high}`;
        const p = this.pendingReads.get(k);
        if (p === undefined) return;
        this.pendingReads.delete(k);
        const how = this.config.readMode === 'lease' ? ' (lease mode)' : '';
        if (rr.index < p.floor) this.violation(`linearizable read${how}: shard ${p.shard} read index ${rr.index} < ${p.floor} committed or applied before the read began`);
        this.count('reads');
        // Released in the step it began, at the leader: no heartbeat round, so by lease.
        if (p.at === this.time && how !== '') this.count('leaseReads');
      },
      dropped: (_r, ents, reads) => {
        this.count('dropped', ents.length + reads.length);
        for (const c of reads) this.pendingReads.delete(`${c.low}:${c.high}`);
      },
    };
  }

  /** §5.4.3: a new leader holds every entry that was applied anywhere. */
  private checkLeaderCompleteness(r: SimReplica): void {
    const max = this.maxApplied.get(r.shardId) ?? 0;
    const first = r.storage.firstIndex();
    for (let i = Math.max(first, 1); i <= max; i++) {
      const a = this.applied.get(`${r.shardId}/${i}`);
      if (a === undefined) continue;
      let t = -1;
      try { t = r.storage.term(i); } catch { /* missing */ }
      if (t !== a.term) {
        this.violation(`leader completeness: shard ${r.shardId} leader ${r.id} lacks applied entry ${i}/${a.term}`);
        return;
      }
    }
  }

  private replicasOnHost(id: number): SimReplica[] {
    const out: SimReplica[] = [];
    for (const m of this.shards.values()) { const r = m.get(id); if (r) out.push(r); }
    return out;
  }

  private send(m: Message): void {
    if (m.type === MessageType.RequestVoteResp && !m.reject) {
      // A replica grants at most one candidate per term (the vote is persisted first).
      const k = `${m.shardId}/${m.term}/${m.from}`;
      const prior = this.votes.get(k);
      if (prior !== undefined && prior !== m.to) this.violation(`vote safety: shard ${m.shardId} replica ${m.from} voted for ${prior} and ${m.to} in term ${m.term}`);
      this.votes.set(k, m.to);
    }
    if (this.down.has(m.to) || this.down.has(m.from) || this.cut.has(`${m.from}->${m.to}`) || this.rnd.float() < this.dropRate) {
      this.count('lost');
      if (m.type === MessageType.InstallSnapshot) this.enqueue({ ...m, type: MessageType.SnapshotStatus, reject: true, to: m.from, from: m.to }, 1);
      return;
    }
    this.enqueue(m, 1 + this.rnd.intn(this.maxDelay));
    if (this.rnd.float() < this.dupRate) this.enqueue(m, 1 + this.rnd.intn(this.maxDelay * 2));
  }

  private enqueue(m: Message, delay: number): void {
    this.queue.push({ due: this.time + delay, seq: this.seq++, m });
  }

  private deliverDue(): void {
    const due = this.queue.filter((q) => q.due <= this.time).sort((a, b) => a.due - b.due || a.seq - b.seq);
    this.queue = this.queue.filter((q) => q.due > this.time);
    for (const { m } of due) {
      const r = this.shards.get(m.shardId)?.get(m.to);
      if (r === undefined || this.down.has(m.to)) {
        // The stream broke: the transport reports the failure to the sender.
        if (m.type === MessageType.InstallSnapshot) this.enqueue({ ...m, type: MessageType.SnapshotStatus, reject: true, to: m.from, from: m.to }, 1);
        continue;
      }
      if (m.type === MessageType.SnapshotStatus) {
        // A failed snapshot stream, reported locally to the sender.
        r.peer.reportSnapshotStatus(m.from, m.reject);
        continue;
      }
      r.peer.step(m);
      if (m.type === MessageType.InstallSnapshot) {
        this.count('snapshots');
        this.enqueue({ ...m, type: MessageType.SnapshotStatus, reject: false, to: m.from, from: m.to }, 1);
      }
    }
  }

  /**
   * Carries out updates the way the host's engine does: a leader's Replicate messages go out
   * at once, the write completes a little later (meanwhile messages keep being stepped), and
   * only then are the other messages sent, entries applied and the update acknowledged. A
   * crash while a write is in flight loses it.
   */
  private process(): void {
    for (const m of this.shards.values()) {
      for (const [id, r] of m) if (!this.down.has(id)) this.processReplica(r);
    }
  }

  /**
   * Carries out updates the way the host's engine does: a leader's Replicate messages go out
   * at once, the write completes a little later (meanwhile messages keep being stepped), and
   * only then are the other messages sent, entries applied and the update acknowledged. A
   * crash while a write is in flight loses it.
   */
  private processReplica(r: SimReplica): void {
    if (this.opts.asyncWrites === true) {
      this.processReplicaAsync(r);
      return;
    }
    const key = `${r.shardId}/${r.id}`;
    for (let i = 0; i < 8; i++) {
      const w = this.writes.get(key);
      if (w !== undefined) {
        if (w.doneAt > this.time) return;
        this.writes.delete(key);
        r.handle(w.u, (msg) => this.send(msg), true);
        continue;
      }
      if (!r.peer.hasUpdate()) return;
      const u = r.peer.getUpdate();
      for (const msg of u.messages) if (isEarly(msg)) this.send(msg);
      const slow = u.entriesToSave.length > 0 || u.hardState !== null || u.snapshot !== null;
      this.writes.set(key, { u, doneAt: this.time + (slow ? this.rnd.intn(3) : 0) });
    }
  }

  /**
   * The engine with async storage writes: completes the writes that are done (in order), then
   * takes new updates while others are in flight — sending a leader's Replicate messages and
   * applying committed entries at once — except past an update that installs a snapshot,
   * which must complete first.
   */
  private processReplicaAsync(r: SimReplica): void {
    const key = `${r.shardId}/${r.id}`;
    let q = this.writeQueues.get(key);
    if (q === undefined) this.writeQueues.set(key, (q = []));
    while (q.length > 0 && (q[0]?.doneAt ?? Infinity) <= this.time) {
      const w = q.shift() as { u: Update; doneAt: number };
      r.handle(w.u, (msg) => this.send(msg), true, true);
    }
    for (let i = 0; i < 8; i++) {
      if (q.some((w) => w.u.snapshot !== null) || !r.peer.hasUpdate()) return;
      const u = r.peer.getUpdate();
      for (const msg of u.messages) if (isEarly(msg)) this.send(msg);
      r.applyAccepted(u);
      const slow = u.entriesToSave.length > 0 || u.hardState !== null || u.snapshot !== null;
      const after = q[q.length - 1]?.doneAt ?? this.time;
      q.push({ u, doneAt: Math.max(after, this.time + (slow ? this.rnd.intn(4) : 0)) });
      if (this.rnd.intn(3) === 0) return;
    }
  }

  private crashHost(id: number): void {
    if (this.down.has(id)) return;
    this.down.add(id);
    for (const k of [...this.writes.keys()]) {
      if (k.endsWith(`/${id}`)) { this.writes.delete(k); this.count('writesLost'); }
    }
    for (const [k, q] of this.writeQueues) {
      if (k.endsWith(`/${id}`) && q.length > 0) { this.count('writesLost', q.length); q.length = 0; }
    }
    this.restartAt.set(id, this.time + 5 + this.rnd.intn(this.rnd.intn(2) === 0 ? 20 : 150));
    this.count('crashes');
  }

  private restartHost(id: number): void {
    this.down.delete(id);
    this.restartAt.delete(id);
    for (const r of this.replicasOnHost(id)) r.restart();
  }

  private hosts(): number[] {
    const s = new Set<number>();
    for (const m of this.shards.values()) for (const id of m.keys()) s.add(id);
    return [...s].sort((a, b) => a - b);
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[this.rnd.intn(xs.length)];
  }

  private leaderOf(shard: number): SimReplica | undefined {
    for (const [id, r] of this.shards.get(shard) ?? []) if (!this.down.has(id) && r.peer.isLeader) return r;
    return undefined;
  }

  private nemesis(): void {
    if (this.healAt > 0 && this.time >= this.healAt) { this.cut.clear(); this.healAt = 0; }
    for (const [id, at] of [...this.restartAt]) if (this.time >= at) this.restartHost(id);
    const hosts = this.hosts();
    const roll = this.rnd.float() / this.intensity;
    if (roll < 0.004 && this.healAt === 0) {
      this.partition(hosts);
    } else if (roll < 0.008) {
      const victim = this.rnd.intn(2) === 0 ? this.leaderOf(1 + this.rnd.intn(this.shardCount))?.id : this.pick(hosts);
      if (victim !== undefined && this.down.size < Math.floor(hosts.length / 2)) this.crashHost(victim);
    } else if (roll < 0.010) {
      this.membershipChange();
    } else if (roll < 0.012) {
      const shard = 1 + this.rnd.intn(this.shardCount);
      const l = this.leaderOf(shard);
      const target = this.pick([...(l?.membership.voters.keys() ?? [])]);
      if (l && target !== undefined) { l.peer.requestLeaderTransfer(target); this.count('transfers'); }
    }
  }

  private partition(hosts: number[]): void {
    const shuffled = [...hosts].sort(() => this.rnd.float() - 0.5);
    let side = new Set(shuffled.slice(0, 1 + this.rnd.intn(Math.max(1, hosts.length - 1))));
    // Lease seeds: often cut a leader off alone, the case a lease must survive.
    const l = this.leaderOf(1 + this.leaseRnd.intn(this.shardCount));
    if (this.config.readMode === 'lease' && l !== undefined && this.leaseRnd.intn(2) === 0) side = new Set([l.id]);
    const oneWay = this.rnd.intn(3) === 0;
    this.cut = new Set();
    for (const a of hosts) {
      for (const b of hosts) {
        if (side.has(a) && !side.has(b)) {
          this.cut.add(`${a}->${b}`);
          if (!oneWay) this.cut.add(`${b}->${a}`);
        }
      }
    }
    this.healAt = this.time + 30 + this.rnd.intn(250);
    this.count(oneWay ? 'oneWayPartitions' : 'partitions');
  }

  private membershipChange(): void {
    const shard = 1 + this.rnd.intn(this.shardCount);
    const l = this.leaderOf(shard);
    if (l === undefined) return;
    const mem = l.membership;
    const choice = this.rnd.intn(6);
    const replicas = this.shards.get(shard) as Map<number, SimReplica>;
    if (mem.joint !== undefined) {
      // An explicit leave (auto-leave ones leave by themselves, but a second leave is harmless:
      // it is refused when it applies).
      if (choice >= 4) {
        l.peer.proposeConfigChange({ configChangeId: 0, type: ConfigChangeType.LeaveJoint, replicaId: 0, address: '', initialize: false, ordered: false }, 0);
        this.count('jointLeaves');
      }
      return;
    }
    if (choice >= 4 && mem.voters.size >= 2) {
      this.jointChange(l, mem, replicas);
      return;
    }
    if (choice === 0 && mem.voters.size + mem.nonVoting.size < 6) {
      const id = this.nextHostId++;
      replicas.set(id, this.makeReplica(shard, id, undefined, this.snapshotEvery));
      const type = this.rnd.intn(2) === 0 ? ConfigChangeType.AddVoter : ConfigChangeType.AddNonVoting;
      l.peer.proposeConfigChange({ configChangeId: 0, type, replicaId: id, address: `host-${id}`, initialize: false }, 0);
      this.count('adds');
    } else if (choice === 1 && mem.nonVoting.size > 0) {
      const id = this.pick([...mem.nonVoting.keys()]) as number;
      l.peer.proposeConfigChange({ configChangeId: 0, type: ConfigChangeType.AddVoter, replicaId: id, address: mem.nonVoting.get(id) ?? '', initialize: false }, 0);
      this.count('promotions');
    } else if (choice === 2 && mem.voters.size > 3) {
      const id = this.pick([...mem.voters.keys()]) as number;
      l.peer.proposeConfigChange({ configChangeId: 0, type: ConfigChangeType.RemoveReplica, replicaId: id, address: '', initialize: false }, 0);
      this.count('removals');
    } else if (choice === 3 && mem.witnesses.size === 0) {
      // A witness votes and holds the log's shape (metadata entries) but never leads.
      const id = this.nextHostId++;
      replicas.set(id, this.makeReplica(shard, id, undefined, this.snapshotEvery, true));
      l.peer.proposeConfigChange({ configChangeId: 0, type: ConfigChangeType.AddWitness, replicaId: id, address: `host-${id}`, initialize: false }, 0);
      this.count('witnesses');
    }
  }

  /**
   * A random joint change (thesis §4.3): several voters added, removed, promoted or demoted
   * at once, with or without auto-leave.
   */
  private jointChange(l: SimReplica, mem: Membership, replicas: Map<number, SimReplica>): void {
    const ops: ConfigChangeOp[] = [];
    const voters = [...mem.voters.keys()];
    const adds = this.rnd.intn(3);
    for (let i = 0; i < adds && mem.voters.size + mem.nonVoting.size + i < 7; i++) {
      const id = this.nextHostId++;
      replicas.set(id, this.makeReplica(l.shardId, id, undefined, this.snapshotEvery));
      ops.push({ type: this.rnd.intn(3) === 0 ? ConfigChangeType.AddNonVoting : ConfigChangeType.AddVoter, replicaId: id, address: `host-${id}` });
    }
    for (const id of mem.nonVoting.keys()) {
      if (this.rnd.intn(2) === 0) ops.push({ type: ConfigChangeType.AddVoter, replicaId: id, address: '' });
    }
    // Remove or demote up to two voters, keeping at least three voters in the incoming half
    // (as the single removals do: smaller shards are left to the scenario tests).
    const incoming = voters.length + ops.filter((o) => o.type === ConfigChangeType.AddVoter).length;
    const out = Math.max(0, Math.min(this.rnd.intn(3), incoming - 3));
    for (let i = 0; i < out; i++) {
      const id = voters.splice(this.rnd.intn(voters.length), 1)[0] as number;
      ops.push({ type: this.rnd.intn(3) === 0 ? ConfigChangeType.AddNonVoting : ConfigChangeType.RemoveReplica, replicaId: id, address: '' });
    }
    if (ops.length === 0) return;
    const autoLeave = this.rnd.intn(3) !== 0;
    l.peer.proposeConfigChange({ configChangeId: 0, type: ConfigChangeType.EnterJoint, replicaId: 0, address: '', initialize: false, ops, autoLeave }, 0);
    this.count('jointChanges');
  }

  private clientOps(): void {
    if (this.rnd.float() < 0.3) {
      const shard = 1 + this.rnd.intn(this.shardCount);
      const r = this.pick([...(this.shards.get(shard)?.values() ?? [])]);
      if (r && !this.down.has(r.id)) {
        const cmd = new TextEncoder().encode(`c${this.nextCmd++}`);
        r.peer.propose([entry({ term: 0, index: 0, cmd, key: this.nextCmd } as Partial<Entry> & { term: number; index: number })]);
        this.count('proposals');
      }
    }
    const readRate = this.config.readMode === 'lease' ? 0.2 : 0.05;
    if (this.rnd.float() < readRate) {
      const shard = 1 + this.rnd.intn(this.shardCount);
      let r = this.pick([...(this.shards.get(shard)?.values() ?? [])]);
      // Lease seeds: half the reads go to a replica that believes it leads (maybe a stale one).
      if (this.config.readMode === 'lease' && this.leaseRnd.intn(2) === 0) r = this.pick([...(this.shards.get(shard)?.values() ?? [])].filter((x) => x.peer.isLeader)) ?? r;
      if (r && !this.down.has(r.id)) {
        const ctx = { low: this.seq++, high: this.opts.seed };
        this.pendingReads.set(`${ctx.low}:${ctx.high}`, { shard, floor: this.readFloor(shard), at: this.time });
        r.peer.readIndex(ctx);
      }
    }
  }

  /**
   * What a read beginning now must see: every index applied anywhere, and every index any
   * replica knows committed (with `notifyCommit` a host acknowledges a write at commit).
   */
  private readFloor(shard: number): number {
    let floor = this.maxApplied.get(shard) ?? 0;
    for (const r of this.shards.get(shard)?.values() ?? []) floor = Math.max(floor, r.peer.status().commit);
    return floor;
  }

  private stepOnce(withFaults: boolean, withClients: boolean): void {
    this.time++;
    if (this.drift > 0) {
      this.tickDrifting();
    } else if (this.time % TICK_EVERY === 0) {
      for (const m of this.shards.values()) for (const [id, r] of m) if (!this.down.has(id)) r.peer.tick();
    }
    this.deliverDue();
    if (withFaults) this.nemesis();
    if (withClients) this.clientOps();
    this.process();
  }

  /**
   * Lease seeds: every host's clock runs at its own rate within ±drift of the nominal one
   * (one tick per TICK_EVERY steps), starting at a random phase; a host ticks all its
   * replicas when its clock crosses a tick.
   */
  private tickDrifting(): void {
    for (const id of this.hosts()) {
      let rate = this.tickRate.get(id);
      if (rate === undefined) {
        rate = 1 + (this.leaseRnd.float() * 2 - 1) * this.drift;
        this.tickRate.set(id, rate);
        this.tickPhase.set(id, this.leaseRnd.float() * TICK_EVERY);
      }
      let phase = (this.tickPhase.get(id) ?? 0) + rate;
      if (phase >= TICK_EVERY) {
        phase -= TICK_EVERY;
        if (!this.down.has(id)) for (const r of this.replicasOnHost(id)) r.peer.tick();
      }
      this.tickPhase.set(id, phase);
    }
  }

  /** Runs the faulty phase, heals, and checks liveness. */
  run(): SimResult {
    try {
      for (let i = 0; i < this.steps && this.violations.length === 0; i++) this.stepOnce(this.faults, true);
      if (this.violations.length === 0) this.checkLiveness();
    } catch (e) {
      this.violation(`exception: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
    return { seed: this.opts.seed, violations: this.violations, stats: this.stats };
  }

  private checkLiveness(): void {
    this.cut.clear();
    this.healAt = 0;
    for (const id of [...this.down]) this.restartHost(id);
    const dropRate = this.dropRate;
    this.dropRate = 0;
    this.dupRate = 0;
    for (let i = 0; i < 400; i++) this.stepOnce(false, false);
    const marks = new Map<number, Uint8Array>();
    for (const shard of this.shards.keys()) {
      const l = this.leaderOf(shard);
      if (l === undefined) {
        if (process.env['SIM_DEBUG'] === '1') {
          for (const r of this.shards.get(shard)?.values() ?? []) {
            const st = r.peer.status();
            const m = r.membership;
            console.log(`  ${r.id}: ${st.role} term=${st.term} commit=${st.commit} applied=${st.applied} last=${st.lastIndex} removed=${String(r.removed)} down=${String(this.down.has(r.id))} v${m.configChangeId} voters=${[...m.voters.keys()].join(',')} out=${[...(m.joint?.outgoing.keys() ?? [])].join(',')} nv=${[...m.nonVoting.keys()].join(',')} w=${[...m.witnesses.keys()].join(',')} rm=${[...m.removed].join(',')}`);
          }
        }
        this.violation(`liveness: shard ${shard} has no leader after healing (drop rate was ${dropRate})`);
        continue;
      }
      const cmd = new TextEncoder().encode(`final-${shard}`);
      marks.set(shard, cmd);
      l.peer.propose([entry({ term: 0, index: 0, cmd })]);
    }
    for (let i = 0; i < 400; i++) this.stepOnce(false, false);
    for (const [shard, replicas] of this.shards) {
      const l = this.leaderOf(shard);
      if (l === undefined) continue;
      for (const [id, r] of replicas) {
        if (!isMember(l.membership, id) || r.removed || r.isWitness) continue;
        if (r.appliedIndex < l.appliedIndex - 0 || r.digest !== l.digest) {
          this.violation(`liveness: shard ${shard} replica ${id} applied ${r.appliedIndex}, leader ${l.id} applied ${l.appliedIndex}`);
          if (process.env['SIM_DEBUG'] === '1') {
            const m = r.membership, lm = l.membership;
            console.log(`  ${id}: ${r.peer.status().role} term=${r.peer.status().term} v${m.configChangeId}; leader v${lm.configChangeId} voters=${[...lm.voters.keys()].join(',')} out=${[...(lm.joint?.outgoing.keys() ?? [])].join(',')} nv=${[...lm.nonVoting.keys()].join(',')} w=${[...lm.witnesses.keys()].join(',')} rm=${[...lm.removed].join(',')} progress=${JSON.stringify(l.peer.status().progress.get(id))} last=${r.peer.status().lastIndex} commit=${r.peer.status().commit} lterm=${l.peer.status().term} first=${l.peer.status().firstIndex} down=${String(this.down.has(id))} cut=${[...this.cut].join(";")}`);
          }
        }
      }
      if (marks.has(shard) && !this.finals.has(String(shard))) this.violation(`liveness: shard ${shard} did not apply a proposal made after healing`);
    }
  }
}

/** Runs one seed. */
export function runSeed(opts: SimOptions): SimResult {
  return new Simulation(opts).run();
}
