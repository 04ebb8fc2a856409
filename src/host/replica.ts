/**
 * One replica on a host: the protocol instance, its log reader, its replicated state machine,
 * and the requests waiting on it (proposals, reads, membership changes). The engine moves
 * updates through it; its apply loop feeds committed entries to the state machine in order.
 */
import { randomInt } from 'node:crypto';
import { Peer } from '../core/peer.js';
import type { Update } from '../core/peer.js';
import { SeededRandom } from '../core/random.js';
import {
  EntryType, MessageType, NO_SESSION, entry,
  type ConfigChange, type Entry, type HardState, type Membership, type SnapshotMeta,
} from '../core/types.js';
import { encodeConfigChange } from '../core/membership.js';
import {
  ClosedError, DroppedError, RejectedError, StateMachineError, SystemBusyError, type ClusterIdentityMismatchError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import type { ApplyOutcome } from '../rsm/state-machine-manager.js';
import { StateMachineManager } from '../rsm/state-machine-manager.js';
import type { AnyStateMachine, SMResult } from '../statemachine.js';
import type { ResolvedShardConfig } from './config.js';
import type { LogReader } from './log-reader.js';
import { Pending, type RequestOptions } from './request.js';
import { PendingProposals } from './pending-proposals.js';
import { TickClock } from './tick-clock.js';
import { PendingReads, type PendingRead } from './pending-reads.js';
import type { SaveTarget, SnapshotWorker } from './snapshot-worker.js';
import type { Snapshotter } from '../snapshot/snapshotter.js';
import type { Message } from '../core/types.js';
import { rm } from 'node:fs/promises';

/** A session-carrying proposal's identity, or none. */
export interface ProposalSession {
  readonly clientId: number;
  readonly seriesId: number;
  readonly respondedTo: number;
}

/** What the replica needs from its host. */
export interface ReplicaHost {
  readonly logger: Logger;
  /** The replica has work for the engine. */
  setReady(r: Replica): void;
  /** Membership changed (addresses to the transport, an event to observers). */
  membershipChanged(r: Replica, m: Membership): void;
  /** The replica stopped because its state machine failed. */
  failed(r: Replica, err: Error): void;
  /** The replica learnt of a new leader or term. */
  softState(r: Replica, leaderId: number, term: number): void;
  readonly maxPending: number;
  readonly notifyCommit: boolean;
  /** Milliseconds per tick (the host's `rttMillisecond`). */
  readonly rttMillisecond: number;
  /** Runs snapshot work beside stepping and applying, with bounded concurrency. */
  runSnapshotWork(work: () => Promise<void>): void;
  /** A snapshot was created (or exported). */
  snapshotCreated(r: Replica, index: number, exported: boolean): void;
  /** The state machine was recovered from a snapshot received from the leader. */
  snapshotRecovered(r: Replica, index: number): void;
}

/** Monotonic counters of one replica since it started on this host, for metrics. */
export interface ReplicaCounters {
  /** Proposals (session registrations included) accepted by this replica for replication. */
  proposals: number;
  /** Proposals the protocol refused (leader transfer, rate limit, pending config change, witness). */
  proposalsDropped: number;
  /**
   * Proposals and membership changes proposed again after a leader change, once known never
   * to commit in the term they were first proposed in (see `pending-proposals.ts`).
   */
  proposalsReforwarded: number;
  /**
   * Linearizable reads the protocol refused (leadership lost before they were confirmed); they
   * are sent again to the next leader, except on a witness, where they fail.
   */
  readsDropped: number;
  /** Snapshots taken here (exported ones included). */
  snapshotsTaken: number;
  /** Snapshot streams to followers that completed. */
  snapshotsSent: number;
  /** Snapshot streams to followers that failed. */
  snapshotSendFailures: number;
  /** Snapshots received from the leader and committed. */
  snapshotsReceived: number;
  /** State machine recoveries from a snapshot (at restart, or from one received). */
  snapshotsRecovered: number;
  /** Messages refused because they came from another cluster identity, and peers' notices that they refused ours. */
  identityMismatches: number;
}

/** A user's snapshot request, waiting in the replica's one pending slot. */
export interface SnapshotRequest {
  readonly req: Pending<number>;
  readonly target: SaveTarget;
  /** The compaction index for a snapshot at `index`, or null for none. */
  readonly compactTo: (index: number) => number | null;
}

/** Work for the apply loop, in log order. */
type Task =
  | { readonly kind: 'entries'; readonly entries: readonly Entry[] }
  | { readonly kind: 'snapshot'; readonly request: SnapshotRequest | null }
  | { readonly kind: 'recover'; readonly ss: SnapshotMeta }
  | { readonly kind: 'stream'; readonly m: Message; readonly send: (m: Message) => boolean };

/** One replica of a shard hosted here. */
export class Replica {
  readonly peer: Peer;
  readonly rsm: StateMachineManager;
  private nextKey: number;
  /** Proposals and membership changes waiting: held without a leader, re-forwarded safely. */
  private readonly proposals = new PendingProposals();
  private readonly reads: PendingReads;
  /** Ticks to take at each timer firing; a lease-mode leader's keep up with real time. */
  private readonly clock: TickClock;
  /** The term of the last entry applied (or snapshot installed) here. */
  private appliedTerm = 0;
  private applyQueue: Task[] = [];
  private applying = false;
  /** Updates (taken, not yet persisted) whose committed entries `applyBeforePersist` already queued. */
  private readonly appliedEarly = new WeakSet<Update>();
  /** The one pending user snapshot request (SNAPSHOTS.md §1.4) and whether it was admitted. */
  private snapshotSlot: SnapshotRequest | null = null;
  private slotAdmitted = false;
  /** `lastApplied` when the last snapshot was requested (§2). */
  private reqSnapshotIndex = 0;
  /** A snapshot is being taken (§3). */
  private taking = false;
  private autoQueued = false;
  /** Aborted when the replica stops: long snapshot work is told through it. */
  readonly abort = new AbortController();
  /** Set by the host once the snapshot machinery is attached. */
  worker: SnapshotWorker | null = null;
  snapshotter: Snapshotter | null = null;
  /** Outgoing snapshot streams by target replica: what to release when each ends. */
  private readonly streams = new Map<number, { index: number; tempDir?: string }>();
  stopped = false;
  /** Set when the state machine failed; the replica no longer applies. */
  failure: Error | null = null;
  /** What this replica did, counted for metrics; the host counts snapshot streams and receipts. */
  readonly counters: ReplicaCounters = {
    proposals: 0, proposalsDropped: 0, proposalsReforwarded: 0, readsDropped: 0, snapshotsTaken: 0, snapshotsSent: 0,
    snapshotSendFailures: 0, snapshotsReceived: 0, snapshotsRecovered: 0, identityMismatches: 0,
  };
  /** The shard's cluster identity (see cluster-identity.ts); 0 while a joining replica has not learned it. */
  clusterId = 0;
  /** Set when another cluster lists this replica as a member: it stopped serving the shard. */
  identityConflict: ClusterIdentityMismatchError | null = null;

  constructor(
    readonly cfg: ResolvedShardConfig,
    readonly reader: LogReader,
    readonly sm: AnyStateMachine,
    private readonly host: ReplicaHost,
    start: { initialMembers?: ReadonlyMap<number, string>; hardState?: HardState; membership?: Membership; applied: number },
  ) {
    this.rsm = new StateMachineManager(sm, cfg.orderedConfigChange);
    this.rsm.lastApplied = start.applied;
    if (start.membership !== undefined) this.rsm.membership = start.membership;
    // Keys are unique per proposer: a random base makes a collision with another host's keys,
    // which arrive here when their entries are applied, vanishingly unlikely.
    this.nextKey = randomInt(1, 2 ** 47) * 8;
    this.reads = new PendingReads(randomInt(1, 2 ** 47));
    this.clock = new TickClock(host.rttMillisecond);
    this.peer = new Peer({
      shardId: cfg.shardId, replicaId: cfg.replicaId,
      electionTicks: cfg.electionRTT, heartbeatTicks: cfg.heartbeatRTT,
      checkQuorum: cfg.checkQuorum, preVote: cfg.preVote, maxInMemLogSize: cfg.maxInMemLogSize,
      orderedConfigChange: cfg.orderedConfigChange, isNonVoting: cfg.isNonVoting, isWitness: cfg.isWitness,
      quiesce: cfg.quiesce, random: new SeededRandom(randomInt(0, 2 ** 31)), asyncStorageWrites: true,
      readMode: cfg.readMode, leaseDriftTicks: cfg.leaseDriftTicks,
    }, reader, start.initialMembers !== undefined && start.initialMembers.size > 0
      ? { initialMembers: start.initialMembers }
      : { hardState: start.hardState, membership: start.membership, applied: start.applied });
    try {
      // A restarted replica may apply nothing new for a while (an idle shard).
      this.appliedTerm = start.applied > 0 ? reader.term(start.applied) : 0;
    } catch {
      this.appliedTerm = 0;
    }
  }

  get shardId(): number { return this.cfg.shardId; }

  /** Whether this replica leads a lease-mode shard: its clock must not run slow (`tick-clock.ts`). */
  private get leaseLeader(): boolean { return this.cfg.readMode === 'lease' && this.peer.isLeader; }

  /** Steps a message from another replica; before a forwarded read, {@link catchUpLease}. */
  stepInbound(m: Message): void {
    if (m.type === MessageType.ReadIndex) this.catchUpLease();
    this.peer.step(m);
  }

  /** A lease-mode leader takes the ticks it missed before a read: a stall must not leave a stale lease valid. */
  private catchUpLease(): void {
    if (this.leaseLeader && !this.peer.quiesced) for (let n = this.clock.owed(); n > 0; n--) this.peer.tick();
  }

  /**
   * Ticks to take at the host's tick timer: none while quiesced (the clock restarts from now,
   * so waking brings no backlog), else one, or a lease-mode leader's catch-up.
   */
  ticksDue(): number {
    if (this.peer.quiesced) {
      this.clock.atTimer(false);
      return 0;
    }
    return this.clock.atTimer(this.leaseLeader);
  }
  get replicaId(): number { return this.cfg.replicaId; }

  private pendingCount(): number {
    return this.proposals.size + this.reads.size;
  }

  private admit(): void {
    if (this.stopped) throw new ClosedError(`replica ${this.replicaId} of shard ${this.shardId} is stopped`);
    if (this.identityConflict !== null) throw this.identityConflict;
    if (this.failure !== null) throw new StateMachineError(`replica ${this.replicaId} of shard ${this.shardId} failed`, { cause: this.failure });
    if (this.pendingCount() >= this.host.maxPending) throw new SystemBusyError(`shard ${this.shardId} has too many pending requests`);
    if (this.peer.rateLimited()) throw new SystemBusyError(`shard ${this.shardId} is rate limited (in-memory log over its limit)`);
  }

  /**
   * Proposes `cmd`; resolves with the state machine's result once applied here (or once
   * committed, with the host's notifyCommit). While the shard has no leader the proposal is
   * held (counted against maxPending) and handed over once one is known; one forwarded to a
   * leader that is lost is re-forwarded only once it provably cannot commit
   * (`pending-proposals.ts`). Fails only at its deadline, unless refused or the replica stops.
   */
  propose(cmd: Uint8Array, session: ProposalSession | undefined, opts?: RequestOptions): Promise<SMResult> {
    this.admit();
    const key = this.nextKey++;
    this.counters.proposals++;
    const req = new Pending<SMResult>(opts, () => this.proposals.remove(key), (ms) => this.notAppended(key, ms));
    this.proposals.add({
      kind: 'proposal', req, term: 0,
      entry: entry({
        term: 0, index: 0, type: EntryType.Application, key, cmd,
        clientId: session?.clientId ?? NO_SESSION, seriesId: session?.seriesId ?? 0, respondedTo: session?.respondedTo ?? 0,
      }),
    });
    this.host.setReady(this);
    return req.promise;
  }

  /**
   * Proposes a membership change; resolves once applied. Held until a leader is known and
   * this replica has applied an entry of the leader's term (before that the leader refuses
   * any change), then handled like a proposal.
   */
  proposeConfigChange(cc: ConfigChange, opts?: RequestOptions): Promise<void> {
    this.admit();
    const key = this.nextKey++;
    const req = new Pending<void>(opts, () => this.proposals.remove(key), (ms) => this.notAppended(key, ms));
    this.proposals.add({
      kind: 'config', req, term: 0,
      entry: entry({ term: 0, index: 0, type: EntryType.ConfigChange, key, cmd: encodeConfigChange(cc) }),
    });
    this.host.setReady(this);
    return req.promise;
  }

  /**
   * At a proposal's deadline: DroppedError when it is certainly not in any log that can commit
   * (still held for a leader, or held again after a leader change proved the first copy can
   * never commit — safe to retry); otherwise undefined (TimeoutError: the outcome is unknown).
   */
  private notAppended(key: number, ms: number): Error | undefined {
    const w = this.proposals.get(key);
    if (w === undefined || w.term !== 0) return undefined;
    const why = w.kind === 'config' ? 'no leader (that had applied an entry of its term here)' : 'no leader';
    return new DroppedError(`shard ${this.shardId}: ${why} took the request within ${ms} ms; it was not applied`);
  }

  /**
   * Waits until a linearizable read may be served from the local state machine. Held while
   * the shard has no leader (failing with DroppedError at its deadline if none appears); sent
   * again if the leader it went to is replaced.
   */
  readIndex(opts?: RequestOptions): Promise<void> {
    this.admit();
    const holder: { pr?: PendingRead } = {};
    const req = new Pending<void>(opts, () => {
      if (holder.pr !== undefined) this.reads.remove(holder.pr);
    }, (ms) => (holder.pr !== undefined && this.reads.isHeld(holder.pr)
      ? new DroppedError(`shard ${this.shardId} had no leader to serve the read within ${ms} ms`) : undefined));
    const pr: PendingRead = { req };
    holder.pr = pr;
    this.reads.add(pr);
    this.host.setReady(this);
    return req.promise;
  }

  /**
   * Queues a user snapshot request in the replica's one pending slot.
   * @throws SystemBusyError when a request is already pending.
   */
  requestSnapshot(make: (cleanup: () => void) => SnapshotRequest): Promise<number> {
    if (this.stopped) throw new ClosedError(`replica ${this.replicaId} of shard ${this.shardId} is stopped`);
    if (this.snapshotSlot !== null) throw new SystemBusyError(`shard ${this.shardId} already has a pending snapshot request`);
    const request = make(() => {
      if (this.snapshotSlot === request) {
        this.snapshotSlot = null;
        this.slotAdmitted = false;
      }
    });
    this.snapshotSlot = request;
    this.host.setReady(this);
    return request.req.promise;
  }

  /**
   * Engine pass: admits a pending snapshot request (§2), hands held proposals to the core
   * (ONE Propose for the lot) and starts batched reads — both only once a leader is known.
   */
  handleEvents(): void {
    this.admitSnapshotRequest();
    this.proposals.flush(this.peer, this.appliedTerm === this.peer.term);
    this.catchUpLease();
    this.reads.flush(this.peer);
  }

  /**
   * §2. The "nothing new" rule is for local snapshots: an export is always taken (it is how a
   * shard whose quorum is lost, and so applies nothing new, is repaired), and it does not count
   * as the requested-snapshot index, so neither a failed nor a successful export holds back
   * a later local snapshot or export.
   */
  private admitSnapshotRequest(): void {
    const slot = this.snapshotSlot;
    if (slot === null || this.slotAdmitted) return;
    const exported = slot.target.kind === 'export';
    if (this.rsm.lastApplied === 0 || (!exported && this.rsm.lastApplied === this.reqSnapshotIndex)) {
      slot.req.reject(new RejectedError(`nothing new to snapshot in shard ${this.shardId} since index ${this.reqSnapshotIndex}`));
      return;
    }
    if (!exported) this.reqSnapshotIndex = this.rsm.lastApplied;
    this.slotAdmitted = true;
    this.applyQueue.push({ kind: 'snapshot', request: slot });
    void this.applyLoop();
  }

  /**
   * Engine, when `u` is taken (its write may take a while): when every committed entry of `u`
   * was persisted by an earlier update (no snapshot, nothing to save at or below the last
   * committed index — with async storage writes the core hands out nothing else), they go to
   * the apply loop now, so applying overlaps the write (dragonboat's fast apply).
   * `afterPersist` then does not queue them again.
   */
  applyBeforePersist(u: Update): void {
    const last = u.committedEntries[u.committedEntries.length - 1];
    if (last === undefined || u.snapshot !== null) return;
    const firstSaved = u.entriesToSave[0];
    if (firstSaved !== undefined && firstSaved.index <= last.index) return;
    this.queueCommitted(u.committedEntries);
    this.appliedEarly.add(u);
    void this.applyLoop();
  }

  private queueCommitted(ents: readonly Entry[]): void {
    this.applyQueue.push({ kind: 'entries', entries: ents });
    if (this.host.notifyCommit) this.notifyCommitted(ents);
  }

  /**
   * Engine: the update was persisted and its messages sent; hand out committed entries,
   * settle reads and dropped requests, and acknowledge it to the core.
   */
  afterPersist(u: Update): void {
    if (u.snapshot !== null) {
      this.reader.applySnapshot(u.snapshot);
      this.applyQueue.push({ kind: 'recover', ss: u.snapshot });
    }
    this.reader.append(u.entriesToSave);
    if (!this.appliedEarly.delete(u) && u.committedEntries.length > 0) this.queueCommitted(u.committedEntries);
    for (const rr of u.readyToReads) this.reads.ready(rr);
    // Reads the core refused (leadership lost) wait for the next leader.
    for (const c of u.droppedReads) this.counters.readsDropped += this.reads.dropped(c, this.peer.role);
    this.counters.proposalsDropped += u.droppedEntries.length;
    for (const e of u.droppedEntries) this.dropped(e);
    if (u.softState !== null) this.host.softState(this, u.softState.leaderId, u.softState.term);
    this.peer.commit(u);
    // Acknowledging may produce work at once (a leader whose own write completed a quorum).
    if (this.peer.hasUpdate()) this.host.setReady(this);
    this.releaseReads();
    void this.applyLoop();
  }

  /** The core refused `e` (never appended): its caller gets DroppedError. */
  private dropped(e: Entry): void {
    const w = this.proposals.refused(e);
    if (w === undefined) return;
    if (w.kind === 'config') w.req.reject(new DroppedError('membership change dropped: another change is pending, or a leader transfer'));
    else w.req.reject(new DroppedError('proposal dropped: a leader transfer, busy, or a witness'));
  }

  private notifyCommitted(ents: readonly Entry[]): void {
    for (const e of ents) {
      const w = this.proposals.get(e.key);
      if (w !== undefined && w.kind === 'proposal' && w.entry.clientId === e.clientId && w.entry.seriesId === e.seriesId) {
        w.req.resolve({ value: 0 });
      }
    }
  }

  private releaseReads(): void {
    this.reads.release(this.rsm.lastApplied);
  }

  /** Applies queued tasks in order: entries in batches, snapshot captures, recoveries. */
  private async applyLoop(): Promise<void> {
    if (this.applying || this.stopped || this.failure !== null) return;
    this.applying = true;
    try {
      while (this.applyQueue.length > 0 && !this.stopped) {
        const task = this.applyQueue.shift() as Task;
        if (task.kind === 'entries') {
          const outcomes = await this.rsm.apply(task.entries);
          for (const o of outcomes) this.settle(o);
          const last = task.entries[task.entries.length - 1];
          if (last !== undefined) {
            this.appliedTerm = last.term;
            // Anything proposed in an earlier term and still waiting can no longer commit.
            this.counters.proposalsReforwarded += this.proposals.appliedTerm(last.term);
          }
          this.maybeAutoSnapshot();
        } else if (task.kind === 'snapshot') {
          await this.takeSnapshot(task.request);
        } else if (task.kind === 'stream') {
          await this.streamImage(task.m, task.send);
        } else {
          await this.recover(task.ss);
        }
        this.peer.notifyApplied(this.rsm.lastApplied);
        this.releaseReads();
        this.host.setReady(this);
      }
    } catch (e) {
      if (!this.stopped) this.fail(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.applying = false;
    }
  }

  /** Automatic snapshots every `snapshotEntries` applied entries, through the same path. */
  private maybeAutoSnapshot(): void {
    const every = this.cfg.snapshotEntries;
    if (every === 0 || this.worker === null || this.taking || this.autoQueued) return;
    const since = Math.max(this.reader.snapshot().index, this.reqSnapshotIndex);
    if (this.rsm.lastApplied - since < every) return;
    this.autoQueued = true;
    this.applyQueue.push({ kind: 'snapshot', request: null });
  }

  /** §3: a snapshot task met in log order. */
  private async takeSnapshot(request: SnapshotRequest | null): Promise<void> {
    if (request === null) this.autoQueued = false;
    const worker = this.worker;
    if (this.taking || worker === null) {
      request?.req.reject(new RejectedError(`a snapshot of shard ${this.shardId} is already being taken`));
      return;
    }
    this.taking = true;
    const target: SaveTarget = request?.target ?? { kind: 'local' };
    const compactTo = request?.compactTo ?? ((i: number) => this.defaultCompactTo(i));
    const captured = await worker.capture(target);
    const work = async (): Promise<void> => {
      try {
        const index = await worker.save(captured, target, target.kind === 'local' ? compactTo(captured.index) : null);
        if (index === 0) request?.req.reject(new RejectedError(`nothing new to snapshot in shard ${this.shardId}`));
        else {
          request?.req.resolve(index);
          this.counters.snapshotsTaken++;
          this.host.snapshotCreated(this, index, target.kind === 'export');
        }
      } catch (e) {
        this.host.logger.error('snapshot failed', { shardId: this.shardId, replicaId: this.replicaId, error: (e as Error).message });
        request?.req.reject(e);
      } finally {
        this.taking = false;
      }
    };
    // A regular state machine cannot change while it is written: the apply loop waits.
    if (this.sm.kind === 'regular') await work();
    else this.host.runSnapshotWork(work);
  }

  /**
   * Starts streaming the snapshot of an InstallSnapshot message to a follower. The snapshot's
   * files are held until the stream ends; an on-disk state machine's metadata-only snapshot is
   * replaced by a full image of its live state, written first. False when refused at once.
   */
  streamSnapshot(m: Message, send: (m: Message) => boolean): boolean {
    const ss = m.snapshot;
    if (ss === null || this.snapshotter === null || this.streams.has(m.to)) return false;
    if (ss.dummy && this.sm.kind === 'on-disk') {
      this.streams.set(m.to, { index: ss.index });
      this.applyQueue.push({ kind: 'stream', m, send });
      void this.applyLoop();
      return true;
    }
    this.snapshotter.acquire(ss.index);
    this.streams.set(m.to, { index: ss.index });
    const ok = send(m);
    if (!ok) this.streamDone(m.to);
    return ok;
  }

  /** A stream to `to` ended (either way): release what it held. */
  streamDone(to: number): void {
    const s = this.streams.get(to);
    if (s === undefined) return;
    this.streams.delete(to);
    if (s.tempDir !== undefined) void rm(s.tempDir, { recursive: true, force: true });
    else void this.snapshotter?.release(s.index);
  }

  /** Writes a full image of an on-disk state machine's live state and streams it. */
  private async streamImage(m: Message, send: (m: Message) => boolean): Promise<void> {
    const worker = this.worker;
    const entry = this.streams.get(m.to);
    if (worker === null || entry === undefined) return;
    try {
      const { meta, dir } = await worker.writeStreamImage();
      entry.tempDir = dir;
      if (!send({ ...m, snapshot: meta })) {
        this.streamDone(m.to);
        this.peer.reportSnapshotStatus(m.to, true);
      }
    } catch (e) {
      this.host.logger.warn('snapshot image for a follower failed', { shardId: this.shardId, replicaId: this.replicaId, error: (e as Error).message });
      this.streamDone(m.to);
      this.peer.reportSnapshotStatus(m.to, true);
    }
  }

  /** The default compaction point after a snapshot at `index`, or null. */
  defaultCompactTo(index: number): number | null {
    if (this.cfg.disableAutoCompaction || index <= this.cfg.compactionOverhead) return null;
    return index - this.cfg.compactionOverhead;
  }

  private async recover(ss: SnapshotMeta): Promise<void> {
    if (this.worker === null) throw new StateMachineError('a snapshot arrived but snapshots are not attached');
    if (ss.index <= this.rsm.lastApplied) return;
    await this.worker.recover(ss, this.rsm.onDiskIndex);
    this.appliedTerm = ss.term;
    this.proposals.snapshotInstalled(ss.term);
    this.counters.snapshotsRecovered++;
    this.host.membershipChanged(this, this.rsm.membership);
    this.host.snapshotRecovered(this, ss.index);
  }

  private settle(o: ApplyOutcome): void {
    const w = o.key === 0 ? undefined : this.proposals.get(o.key);
    if (o.configChange !== undefined) {
      this.peer.applyConfigChange(o.configChange, o.index);
      this.host.membershipChanged(this, this.rsm.membership);
      if (w?.kind === 'config') w.req.resolve();
      return;
    }
    if (w === undefined) return;
    if (w.kind === 'config') {
      if (o.rejected) w.req.reject(new RejectedError(`membership change rejected: ${o.reason ?? ''}`));
      return;
    }
    if (o.rejected) w.req.reject(new RejectedError(o.reason ?? 'proposal rejected'));
    else w.req.resolve(o.result);
  }

  private fail(err: Error): void {
    this.failure = err;
    this.host.logger.error('state machine failed; replica stopped', { shardId: this.shardId, replicaId: this.replicaId, error: err.message });
    const e = new StateMachineError(`state machine of shard ${this.shardId} failed: ${err.message}`, { cause: err });
    this.rejectAll(e);
    this.host.failed(this, err);
  }

  /** Fails every waiting request with `err`. */
  rejectAll(err: Error): void {
    for (const w of this.proposals.all()) w.req.reject(err);
    this.reads.rejectAll(err);
  }

  /** Stops the replica: pending requests fail with a closed error; the state machine closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort(new ClosedError('replica stopping'));
    this.rejectAll(new ClosedError(`replica ${this.replicaId} of shard ${this.shardId} stopped`));
    this.snapshotSlot?.req.reject(new ClosedError(`replica ${this.replicaId} of shard ${this.shardId} stopped`));
    while (this.taking) await new Promise((r) => setTimeout(r, 1));
    while (this.applying) await new Promise((r) => setTimeout(r, 1));
    await this.sm.sm.close();
  }
}
