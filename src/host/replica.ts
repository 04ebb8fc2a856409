/**
 * One replica on a host: the protocol instance, its log reader, its replicated state machine,
 * and the wiring between the collaborators that hold what waits on it — proposals
 * (`pending-proposals.ts`), membership changes (`pending-config-change.ts`), reads
 * (`pending-reads.ts`) and the snapshot side (`replica-snapshots.ts`). The engine moves
 * updates through it; its apply loop feeds committed entries to the state machine in order.
 */
import { Peer } from '../core/peer.js';
import { Role } from '../core/raft.js';
import type { Update } from '../core/peer.js';
import { SeededRandom } from '../core/random.js';
import {
  EntryType, MessageType, NO_SESSION, entry,
  type ConfigChange, type Entry, type HardState, type Membership, type Message, type SnapshotMeta,
} from '../core/types.js';
import { encodeConfigChange } from '../encoding/config-change.js';
import {
  ClosedError, DroppedError, NotLeaderError, RejectedError, ReplicaRemovedError, StateMachineError, StorageError, SystemBusyError, type ClusterIdentityMismatchError,
} from '../errors.js';
import type { ApplyOutcome, ApplySink } from '../rsm/state-machine-manager.js';
import { hashBytes } from './state-hash.js';
import { decodeEntries, encodeCommand } from './entry-compression.js';
import { StateMachineManager } from '../rsm/state-machine-manager.js';
import type { AnyStateMachine, SMResult } from '../contracts/state-machine.js';
import type { Snapshotter } from '../snapshot/snapshotter.js';
import type { ResolvedShardConfig } from './config.js';
import type { LogReader } from './log-reader.js';
import { ProposalWaiter } from './proposal-waiter.js';
import { Pending, type RequestOptions } from './request.js';
import { outcomeUnknown } from './outcome-unknown.js';
import { PendingConfigChange } from './pending-config-change.js';
import { PendingProposals } from './pending-proposals.js';
import { TickClock } from './tick-clock.js';
import { PendingReads, type PendingRead } from './pending-reads.js';
import type { SnapshotRequest } from './pending-snapshot.js';
import { newReplicaCounters, type ReplicaCounters } from './replica-counters.js';
import type { ReplicaHost } from './replica-host.js';
import type { Deadlines } from './deadlines.js';
import { sleep, type Runtime } from '../runtime/index.js';
import { ReplicaSnapshots, type SnapshotTask } from './replica-snapshots.js';
import type { SnapshotWorker } from './snapshot-worker.js';

/** A session-carrying proposal's identity, or none. */
export interface ProposalSession {
  readonly clientId: number;
  readonly seriesId: number;
  readonly respondedTo: number;
}

/** Work for the apply loop, in log order. */
type Task =
  | { readonly kind: 'entries'; readonly entries: readonly Entry[] }
  | { readonly kind: 'recover'; readonly ss: SnapshotMeta }
  | SnapshotTask;

/** One replica of a shard hosted here. */
export class Replica {
  readonly peer: Peer;
  readonly rsm: StateMachineManager;
  private nextKey: number;
  /** Proposals waiting: held without a leader, re-forwarded safely. */
  private readonly proposals = new PendingProposals();
  /** Membership changes waiting, likewise, once the leader may take one. */
  private readonly configChanges = new PendingConfigChange();
  private readonly reads: PendingReads;
  /** The snapshot request, flags and streams. */
  readonly snapshots: ReplicaSnapshots;
  /** Ticks to take at each timer firing; a lease-mode leader's keep up with real time. */
  private readonly clock: TickClock;
  /** The term of the last entry applied (or snapshot installed) here. */
  private appliedTerm = 0;
  private applyQueue: Task[] = [];
  private applying = false;
  /** Updates (taken, not yet persisted) whose committed entries `applyBeforePersist` already queued. */
  private readonly appliedEarly = new WeakSet<Update>();
  /** Aborted when the replica stops: long snapshot work is told through it. */
  readonly abort = new AbortController();
  /** Set by the host once the snapshot machinery is attached. */
  worker: SnapshotWorker | null = null;
  snapshotter: Snapshotter | null = null;
  stopped = false;
  /** Set when the state machine or the replica's storage failed; the replica no longer applies. */
  failure: Error | null = null;
  /** What this replica did, counted for metrics; the host counts snapshot streams and receipts. */
  readonly counters: ReplicaCounters = newReplicaCounters();
  /** The shard's cluster identity (see cluster-identity.ts); 0 while a joining replica has not learned it. */
  clusterId = 0;
  /** Set when another cluster lists this replica as a member: it stopped serving the shard. */
  identityConflict: ClusterIdentityMismatchError | null = null;
  /** Whether the replica learned it was removed from the shard (see {@link markRemoved}). */
  removed = false;
  /** The state machine's hash at the newest state-hash marker applied here (`verifyShard`), or null. */
  stateHash: { readonly index: number; readonly hash: bigint } | null = null;

  constructor(
    readonly cfg: ResolvedShardConfig,
    readonly reader: LogReader,
    readonly sm: AnyStateMachine,
    private readonly host: ReplicaHost,
    start: { initialMembers?: ReadonlyMap<number, string>; hardState?: HardState; membership?: Membership; applied: number },
  ) {
    this.rsm = new StateMachineManager(sm, cfg.orderedConfigChange, undefined, host.applyBudget.forReplica());
    this.rsm.lastApplied = start.applied;
    if (start.membership !== undefined) this.rsm.membership = start.membership;
    // Keys are unique per proposer: a random base makes a collision with another host's keys,
    // which arrive here when their entries are applied, vanishingly unlikely.
    const { random, clock } = host.runtime;
    this.nextKey = random.int(1, 2 ** 47) * 8;
    this.reads = new PendingReads(random.int(1, 2 ** 47), cfg.electionRTT);
    this.snapshots = new ReplicaSnapshots(this, host, (t) => {
      this.applyQueue.push(t);
      void this.applyLoop();
    });
    this.clock = new TickClock(host.rttMillisecond, () => clock.now());
    this.peer = new Peer({
      shardId: cfg.shardId, replicaId: cfg.replicaId,
      electionTicks: cfg.electionRTT, heartbeatTicks: cfg.heartbeatRTT,
      checkQuorum: cfg.checkQuorum, preVote: cfg.preVote, maxInMemLogSize: cfg.maxInMemLogSize,
      orderedConfigChange: cfg.orderedConfigChange, isNonVoting: cfg.isNonVoting, isWitness: cfg.isWitness,
      quiesce: cfg.quiesce, disableProposalForwarding: cfg.disableProposalForwarding, strictMembershipCheck: cfg.strictMembershipCheck, neverCampaign: cfg.priorities.get(cfg.replicaId) === 0,
      random: new SeededRandom(random.int(0, 2 ** 31)), asyncStorageWrites: true, readMode: cfg.readMode, leaseDriftTicks: cfg.leaseDriftTicks,
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
  /** The host's runtime (randomness for session ids, timers). */
  get runtime(): Runtime { return this.host.runtime; }
  /** The host's request deadlines (snapshot requests wait on them too). */
  get deadlines(): Deadlines { return this.host.deadlines; }
  get replicaId(): number { return this.cfg.replicaId; }

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
   * The host's tick timer, once per tick whether or not the replica is quiesced: reads whose
   * ReadIndex went unanswered for an election timeout are queued again (`pending-reads.ts`).
   * Returns whether any was, so the replica needs an engine pass.
   */
  tickReads(): boolean {
    const n = this.reads.tick();
    this.counters.readsResent += n;
    return n > 0;
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
  private admit(): void {
    if (this.stopped) throw new ClosedError(`replica ${this.replicaId} of shard ${this.shardId} is stopped`);
    if (this.identityConflict !== null) throw this.identityConflict;
    if (this.removed) throw new ReplicaRemovedError(this.shardId, this.replicaId);
    if (this.failure instanceof StorageError) throw this.failure;
    if (this.failure !== null) throw new StateMachineError(`replica ${this.replicaId} of shard ${this.shardId} failed`, { cause: this.failure });
    if (this.proposals.size + this.reads.size >= this.host.maxPending) throw new SystemBusyError(`shard ${this.shardId} has too many pending requests`);
    if (this.peer.rateLimited()) throw new SystemBusyError(`shard ${this.shardId} is rate limited (in-memory log over its limit)`);
  }

  /**
   * Proposes `cmd`; resolves with the state machine's result once applied here (or once
   * committed, with the host's notifyCommit). While the shard has no leader the proposal is
   * held (counted against maxPending) and handed over once one is known; one forwarded to a
   * leader that is lost is re-forwarded only once it provably cannot commit
   * (`pending-proposals.ts`). Fails only at its deadline, unless refused or the replica stops.
   */
  propose(cmd: Uint8Array, session: ProposalSession | undefined, opts?: RequestOptions,
    onCommitted?: (index: number) => void, type: EntryType = EntryType.Application): Promise<SMResult> {
    this.admit();
    const key = this.nextKey++;
    this.counters.proposals++;
    // A user command is compressed here, once, if the shard says so (`entry-compression.ts`).
    // No object per proposal when the shard does not compress (the default).
    const stored = type === EntryType.Application && this.cfg.entryCompression !== 'none' ? encodeCommand(cmd, this.cfg.entryCompression) : null;
    // Every field, in `entry()`'s order (one shape for all entries), without its argument object.
    const e: Entry = {
      term: 0, index: 0, type: stored?.type ?? type, key, clientId: session?.clientId ?? NO_SESSION,
      seriesId: session?.seriesId ?? 0, respondedTo: session?.respondedTo ?? 0, cmd: stored?.cmd ?? cmd,
    };
    const w = new ProposalWaiter(this.host.deadlines, opts, this.proposals, this.shardId, e, onCommitted);
    this.proposals.add(w);
    this.host.setReady(this);
    return w.promise;
  }

  /**
   * Proposes a membership change; resolves once applied. Held until a leader is known and
   * this replica has applied an entry of the leader's term (before that the leader refuses
   * any change), then handled like a proposal (`pending-config-change.ts`). With `force` it
   * skips the leader's live-quorum check.
   */
  proposeConfigChange(cc: ConfigChange, opts?: RequestOptions, onCommitted?: (index: number) => void, force = false): Promise<void> {
    this.admit();
    const key = this.nextKey++;
    const req = new Pending<void>(this.host.deadlines, opts, () => this.configChanges.remove(key), (ms) => this.configChanges.expired(key, this.shardId, ms));
    this.configChanges.add(req, entry({ term: 0, index: 0, type: EntryType.ConfigChange, key, cmd: encodeConfigChange(cc) }), onCommitted, force);
    this.host.setReady(this);
    return req.promise;
  }

  /**
   * Waits until a linearizable read may be served from the local state machine. Held while
   * the shard has no leader (failing with DroppedError at its deadline if none appears); sent
   * again if the leader it went to is replaced.
   */
  readIndex(opts?: RequestOptions): Promise<void> {
    this.admit();
    const holder: { pr?: PendingRead } = {};
    const req = new Pending<void>(this.host.deadlines, opts, () => {
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
   * Queues a user snapshot request in the replica's one pending slot (`pending-snapshot.ts`).
   * @throws ClosedError when stopped; SystemBusyError when a request is already pending.
   */
  requestSnapshot(make: (cleanup: () => void) => SnapshotRequest): Promise<number> {
    if (this.stopped) throw new ClosedError(`replica ${this.replicaId} of shard ${this.shardId} is stopped`);
    return this.snapshots.request(make);
  }

  /** The default compaction point after a snapshot at `index`, or null. */
  defaultCompactTo(index: number): number | null {
    return this.snapshots.defaultCompactTo(index);
  }

  /**
   * Starts streaming the snapshot of an InstallSnapshot message to a follower (see
   * {@link ReplicaSnapshots.stream}). False when refused at once.
   */
  streamSnapshot(m: Message, send: (m: Message) => boolean): boolean {
    return this.snapshots.stream(m, send);
  }

  /** A stream to `to` ended (either way): release what it held. */
  streamDone(to: number): void {
    this.snapshots.streamDone(to);
  }

  /**
   * Engine pass: admits a pending snapshot request (§2), hands held proposals to the core
   * (ONE Propose for the lot) and held membership changes, and starts batched reads — only
   * once a leader is known.
   */
  handleEvents(): void {
    this.snapshots.admit();
    this.proposals.flush(this.peer);
    this.configChanges.flush(this.peer, this.appliedTerm === this.peer.term);
    this.catchUpLease();
    this.reads.flush(this.peer);
  }

  /**
   * Whether the last entry `u` commits was proposed here and still waits: its client, once the
   * entry is applied, is likely to propose again at once, so the engine may let the new
   * commit index ride the next Replicate (`bare-commits.ts`). False for entries forwarded from
   * another replica, whose proposer waits for its own replica to learn the commit index.
   */
  committedLocalProposal(u: Update): boolean {
    const last = u.committedEntries[u.committedEntries.length - 1];
    return last !== undefined && last.key !== 0 && this.proposals.get(last.key) !== undefined;
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
    if (this.host.notifyCommit || this.proposals.size > 0 || this.configChanges.size > 0) this.notifyCommitted(ents);
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
    // A leader's notice (term set) counts only when it failed a request still waiting on it.
    for (const e of u.droppedEntries) if (this.dropped(e) || e.term === 0) this.counters.proposalsDropped++;
    if (u.softState !== null) this.host.softState(this, u.softState.leaderId, u.softState.term);
    this.peer.commit(u);
    // Acknowledging may produce work at once (a leader whose own write completed a quorum).
    if (this.peer.hasUpdate()) this.host.setReady(this);
    this.reads.release(this.rsm.lastApplied);
    void this.applyLoop();
  }

  /**
   * The core refused `e` (never appended), here or — `e.term` set — by the leader it was
   * forwarded to in that term: its caller gets DroppedError. Returns whether a request failed.
   */
  private dropped(e: Entry): boolean {
    // With forwarding disabled a follower refuses its own requests: say where the leader is.
    const notLeader = e.term === 0 && this.cfg.disableProposalForwarding && this.peer.role !== Role.Leader
      ? new NotLeaderError(this.shardId, this.peer.leaderId, 'a proposal (proposal forwarding is disabled)') : undefined;
    const where = e.term === 0 ? '' : ` by the leader of term ${e.term}`;
    if (e.type === EntryType.ConfigChange) {
      return this.configChanges.dropped(e, notLeader ?? this.configChanges.liveQuorumRefusal(e, this.shardId) ?? new DroppedError(`membership change dropped${where}: another change is pending, or a leader transfer; it was not applied`));
    }
    const w = this.proposals.refused(e);
    w?.req.reject(notLeader ?? new DroppedError(`proposal dropped${where}: a leader transfer, busy, or a witness; it was not applied`));
    return w !== undefined;
  }

  /**
   * Committed entries (persisted here, not yet applied): tracked requests are told their index
   * (dragonboat's CommittedC); with the host's notifyCommit, untracked proposals resolve now
   * with `{ value: 0 }`.
   */
  private notifyCommitted(ents: readonly Entry[]): void {
    for (const e of ents) {
      if (e.key === 0) continue;
      if (e.type === EntryType.ConfigChange) {
        this.configChanges.committed(e);
        continue;
      }
      const w = this.proposals.get(e.key);
      if (w === undefined || w.entry.type !== e.type || w.entry.clientId !== e.clientId || w.entry.seriesId !== e.seriesId) continue;
      if (w.onCommitted !== undefined) w.onCommitted(e.index);
      else if (this.host.notifyCommit && (e.type === EntryType.Application || e.type === EntryType.Encoded)) w.req.resolve({ value: 0 });
    }
  }

  /** Applies queued tasks in order: entries in batches, snapshot saves and images, recoveries. */
  private async applyLoop(): Promise<void> {
    if (this.applying || this.stopped || this.failure !== null) return;
    this.applying = true;
    try {
      while (this.applyQueue.length > 0 && !this.stopped) {
        const task = this.applyQueue.shift() as Task;
        if (task.kind === 'entries') {
          await this.applyEntries(task.entries);
          this.reader.applied(this.rsm.lastApplied);
        }
        else if (task.kind === 'snapshot') await this.snapshots.save(task.request);
        else if (task.kind === 'stream') await this.snapshots.writeImage(task.m, task.send);
        else await this.recover(task.ss);
        this.peer.notifyApplied(this.rsm.lastApplied);
        this.reads.release(this.rsm.lastApplied);
        this.host.setReady(this);
      }
    } catch (e) {
      if (!this.stopped) this.fail(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.applying = false;
    }
  }

  private async applyEntries(entries: readonly Entry[]): Promise<void> {
    // Compressed commands are decoded here, by the entry's own header (CodecError fails the replica).
    await this.rsm.apply(decodeEntries(entries), this.applySink);
    const last = entries[entries.length - 1];
    if (last !== undefined) {
      this.appliedTerm = last.term;
      // Anything proposed in an earlier term and still waiting can no longer commit.
      this.counters.proposalsReforwarded += this.proposals.appliedTerm(last.term) + this.configChanges.appliedTerm(last.term);
    }
    this.snapshots.maybeAuto();
  }

  /** A snapshot received from the leader, met in log order. */
  private async recover(ss: SnapshotMeta): Promise<void> {
    if (!(await this.snapshots.recover(ss))) return;
    this.appliedTerm = ss.term;
    this.proposals.snapshotInstalled(ss.term);
    this.configChanges.snapshotInstalled(ss.term);
    this.host.membershipChanged(this, this.rsm.membership);
    this.host.snapshotRecovered(this, ss.index);
    if (this.rsm.membership.removed.has(this.replicaId)) this.markRemoved('a snapshot says it was removed');
  }

  /** Settles applied entries' requests as the state machine manager reports them (`settle`). */
  private readonly applySink: ApplySink = {
    // An entry the user's state machine answered: a proposal of this replica's, if any, resolves.
    applied: (key, result) => {
      if (key !== 0) this.proposals.get(key)?.req.resolve(result);
    },
    outcome: (o) => this.settle(o),
  };

  private settle(o: ApplyOutcome): void {
    if (o.configChange !== undefined) {
      this.peer.applyConfigChange(o.configChange, o.index);
      this.host.membershipChanged(this, this.rsm.membership);
    }
    if (this.configChanges.applied(o) || o.configChange !== undefined) {
      if (o.configChange !== undefined && this.rsm.membership.removed.has(this.replicaId)) this.markRemoved('it applied its removal');
      return;
    }
    if (o.hash !== undefined) this.stateHash = o.hash === null ? null : { index: o.index, hash: o.hash };
    const w = o.key === 0 ? undefined : this.proposals.get(o.key);
    if (w === undefined) return;
    if (o.hash !== undefined) w.req.resolve({ value: o.index, data: o.hash === null ? undefined : hashBytes(o.hash) });
    else if (o.rejected) w.req.reject(new RejectedError(o.reason ?? 'proposal rejected'));
    else w.req.resolve(o.result);
  }

  /**
   * The replica was removed from its shard (it applied its removal, or a member that did told
   * it): pending and later requests fail with ReplicaRemovedError. It stays loaded until
   * stopped, so its state can still be inspected.
   */
  markRemoved(why: string): void {
    if (this.removed) return;
    this.removed = true;
    this.host.logger.warn(`replica ${this.replicaId} was removed from shard ${this.shardId} (${why}); it no longer serves requests: stop it and remove its data`,
      { shardId: this.shardId, replicaId: this.replicaId });
    this.configChanges.removedSelf(this.replicaId);
    const err = new ReplicaRemovedError(this.shardId, this.replicaId);
    this.rejectAll(err, outcomeUnknown(err));
  }

  private fail(err: Error): void {
    this.failure = err;
    this.host.logger.error('state machine failed; replica stopped', { shardId: this.shardId, replicaId: this.replicaId, error: err.message });
    const e = new StateMachineError(`state machine of shard ${this.shardId} failed: ${err.message}`, { cause: err });
    this.rejectAll(e);
    this.host.failed(this, err);
  }

  /**
   * Its own storage failed (fail-stop.ts): it takes no further part (the engine skips it, the
   * apply loop stops), and pending and later requests fail with `err`.
   */
  failStorage(err: StorageError): void {
    this.failure = err;
    this.rejectAll(err);
  }

  /**
   * Fails every waiting request with `err`; with `inFlight`, the proposals and membership
   * changes already handed to the core fail with it instead (their outcome is unknown).
   */
  rejectAll(err: Error, inFlight: Error = err): void {
    this.proposals.rejectAll(err, inFlight);
    this.configChanges.rejectAll(err, inFlight);
    this.reads.rejectAll(err);
  }

  /**
   * Stops the replica: pending requests fail with a closed error; snapshot work not started is
   * dropped, work under way is told through `abort` and waited for; the state machine closes.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const msg = `replica ${this.replicaId} of shard ${this.shardId} stopped`;
    this.abort.abort(new ClosedError('replica stopping'));
    const closed = new ClosedError(msg);
    this.rejectAll(closed, outcomeUnknown(closed));
    await this.snapshots.stop(msg);
    while (this.applying) await sleep(this.host.runtime.timers, 1);
    await this.sm.sm.close();
  }
}
