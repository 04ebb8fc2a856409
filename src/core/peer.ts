/**
 * The driver of one replica's protocol: the only way a host talks to the core. Inputs are
 * `step` (a message) and `tick`; the output is one {@link Update} at a time, which the host
 * carries out and then acknowledges with `commit`.
 *
 * The host's duties for an update, in order:
 * 1. persist `snapshot` (if any), `entriesToSave` and `hardState` durably — one LogDB batch;
 *    Replicate messages from a leader may be sent before this write completes (thesis
 *    §10.2.1); every other message only after it;
 * 2. send `messages`;
 * 3. recover the state machine from `snapshot` (if any), then apply `committedEntries`;
 * 4. call `commit(update)`; and `notifyApplied` as the state machine applies.
 * Only one update may be outstanding: take the next one after acknowledging the last —
 * unless the config sets `asyncStorageWrites`: then the host may take updates while earlier
 * ones are still being written, must complete them (steps 1, 2 and 4) in the order taken,
 * and may apply an update's `committedEntries` at once (they are already persisted).
 */
import { resolveRaftConfig, type RaftConfigInput } from './config.js';
import { releaseDeferredProposals, step as stepRaft, tick as tickRaft } from './handlers.js';
import type { LogStorage } from './log-storage.js';
import { membershipOf } from './membership.js';
import { encodeConfigChange } from '../encoding/config-change.js';
import { PROPOSE_FORCE, Raft, Role, RoleName } from './raft.js';
import { quorumHealth, type QuorumHealth } from './quorum-health.js';
import {
  ConfigChangeType, EMPTY_HARD_STATE, EntryType, MessageType, emptyMembership, entry, message,
  type ConfigChange, type Entry, type HardState, type Membership, type Message, type ReadContext,
  type ReadyToRead, type SnapshotMeta,
} from './types.js';
import { InvalidOptionError } from '../errors.js';

/** What changed about leadership since the previous update. */
export interface SoftState {
  /** The leader's replica id; 0 when no leader is known. */
  readonly leaderId: number;
  /** This replica's role now. */
  readonly role: Role;
  /** The current term. */
  readonly term: number;
}

/** The work a host must do for one replica; see the module comment for the order. */
export interface Update {
  /** The shard of the replica the update is for. */
  readonly shardId: number;
  /** The replica the update is for. */
  readonly replicaId: number;
  /** Hard state to persist; null when unchanged. */
  readonly hardState: HardState | null;
  /** Entries to persist, in order; the first may overwrite the persisted tail. */
  readonly entriesToSave: readonly Entry[];
  /** A snapshot from the leader: persist its record, then recover the state machine from it. */
  readonly snapshot: SnapshotMeta | null;
  /** Messages to send, after persisting (Replicate from a leader may go before; see the module comment). */
  readonly messages: readonly Message[];
  /** Entries to apply, in order, after the entries above are persisted. */
  readonly committedEntries: readonly Entry[];
  /** Reads that may be served once the state machine has applied their index. */
  readonly readyToReads: readonly ReadyToRead[];
  /**
   * Proposals refused (no leader, transfer under way, rate limited, config change pending):
   * this replica's own as it proposed them (`term` 0), and those it forwarded that the leader
   * refused with a notice, without payload and with `term` the refusing leader's term (the
   * entry is in no log and never will be; `proposal-refusal.ts`).
   */
  readonly droppedEntries: readonly Entry[];
  /** Reads refused (no leader, or leadership lost before they were confirmed). */
  readonly droppedReads: readonly ReadContext[];
  /** Set when the leader or role changed. */
  readonly softState: SoftState | null;
}

/** How a replica starts. */
export interface PeerStart {
  /** Voters of a new shard. Only for a replica with an empty log; writes the bootstrap entries. */
  readonly initialMembers?: ReadonlyMap<number, string>;
  /** Persisted hard state of a restarting replica. */
  readonly hardState?: HardState;
  /** Membership as of `applied` (from the newest snapshot) for a restarting replica. */
  readonly membership?: Membership;
  /** Index the state machine has already applied (snapshot index, or an on-disk state machine's). */
  readonly applied?: number;
}

/** A snapshot of the replica's protocol state, for status pages and tests. */
export interface PeerStatus {
  /** The shard id. */
  readonly shardId: number;
  /** This replica's id. */
  readonly replicaId: number;
  /** The current term. */
  readonly term: number;
  /** The replica voted for in `term`; 0 for none. */
  readonly vote: number;
  /** The known leader; 0 for none. */
  readonly leaderId: number;
  /** The role's name (see {@link RoleName}). */
  readonly role: string;
  /** The highest index known committed. */
  readonly commit: number;
  /** The highest index the state machine has applied (as reported by the host). */
  readonly applied: number;
  /** The last index in the log (persisted or not). */
  readonly lastIndex: number;
  /** The first index still in the log (the one after the snapshot). */
  readonly firstIndex: number;
  /** Whether the replica is quiesced (idle shard: no election ticks, no heartbeats). */
  readonly quiesced: boolean;
  /** Leader only: the replica leadership is being transferred to; 0 for none. */
  readonly leaderTransferTarget: number;
  /**
   * Leader only: a membership change (or this term's first entry, which must apply before
   * any change) is in the log but not yet applied here; false on other roles.
   */
  readonly configChangePending: boolean;
  /** Leader only: match index of each remote. */
  readonly progress: ReadonlyMap<number, {
    /** The highest index known replicated on that replica. */
    match: number;
    /** The next index to send it. */
    next: number;
    /** How the leader replicates to it: one of {@link ProgressState}. */
    state: number;
    /** Replicate messages sent to it and not yet acknowledged. */
    inflightMsgs: number;
    /** Entry bytes in those messages. */
    inflightBytes: number;
  }>;
  /** Leader only (null otherwise): which voting members it heard from lately; see {@link QuorumHealth}. */
  readonly quorum: QuorumHealth | null;
  /** Elections this replica started since it was created (one per attempt, whether or not it began with a pre-vote round). */
  readonly campaigns: number;
}

/** One replica's protocol instance. */
export class Peer {
  private readonly r: Raft;
  private prevHard: HardState;

  /**
   * Creates the protocol instance of one replica over `storage` (its persisted log), starting
   * fresh with `start.initialMembers` or restarting from persisted state.
   * @throws InvalidOptionError for an invalid config or an inconsistent start (initial
   *   members given to a replica that already has a log).
   */
  constructor(config: RaftConfigInput, storage: LogStorage, start: PeerStart = {}) {
    const cfg = resolveRaftConfig(config);
    this.r = new Raft(cfg, storage);
    const r = this.r;
    const hs = start.hardState ?? EMPTY_HARD_STATE;
    const fresh = storage.lastIndex() === 0 && hs.term === 0;
    if (start.initialMembers !== undefined && start.initialMembers.size > 0) {
      if (!fresh) throw new InvalidOptionError(`replica ${cfg.replicaId} of shard ${cfg.shardId} already has a log; start it without initial members`);
      if (!start.initialMembers.has(cfg.replicaId) && !cfg.isNonVoting && !cfg.isWitness) {
        throw new InvalidOptionError(`initial members do not include replica ${cfg.replicaId}`);
      }
      this.bootstrap(start.initialMembers);
    } else {
      const ss = storage.snapshot();
      r.setMembership(start.membership ?? (ss.index > 0 ? ss.membership : emptyMembership()));
      r.becomeFollower(hs.term, 0);
      r.vote = hs.vote;
      if (hs.commit > 0) r.log.commitTo(Math.min(hs.commit, r.log.lastIndex()));
      const applied = Math.max(start.applied ?? 0, r.log.firstIndex() - 1);
      if (applied > r.log.lastIndex()) {
        throw new InvalidOptionError(`applied index ${applied} is past the last log index ${r.log.lastIndex()}`);
      }
      // An applied entry was committed; a commit-only hard state is not synced (see LogDB), so
      // the stored commit index may trail what an on-disk state machine applied.
      if (applied > r.log.committed) r.log.commitTo(applied);
      r.log.applied = applied;
      r.hostApplied = applied;
      r.rateLimiter.reset();
    }
    this.prevHard = hs;
  }

  /** §3.x bootstrap: the initial membership as committed config-change entries at term 1. */
  private bootstrap(members: ReadonlyMap<number, string>): void {
    const r = this.r;
    r.setMembership(membershipOf(members));
    r.becomeFollower(1, 0);
    const ids = [...members.keys()].sort((a, b) => a - b);
    const ents = ids.map((id, i) => entry({
      term: 1, index: i + 1, type: EntryType.ConfigChange,
      cmd: encodeConfigChange({ configChangeId: 0, type: ConfigChangeType.AddVoter, replicaId: id, address: members.get(id) ?? '', initialize: true }),
    }));
    r.log.append(ents);
    r.log.commitTo(ents.length);
  }

  /** The shard this replica belongs to. */
  get shardId(): number { return this.r.shardId; }
  /** This replica's id. */
  get replicaId(): number { return this.r.id; }
  /** The known leader's replica id; 0 when none is known. */
  get leaderId(): number { return this.r.leaderId; }
  /** The current term. */
  get term(): number { return this.r.term; }
  /** This replica's role. */
  get role(): Role { return this.r.role; }
  /** Whether this replica is the leader. */
  get isLeader(): boolean { return this.r.role === Role.Leader; }
  /** The shard's membership as this replica knows it (removed ids included). */
  get membership(): Membership { return this.r.membership; }
  /**
   * Whether the replica is quiesced: its shard was idle, so it neither ticks elections nor
   * heartbeats until a message wakes it.
   */
  get quiesced(): boolean { return this.r.quiesced; }

  /** Advances logical time by one tick. */
  tick(): void { tickRaft(this.r); }

  /** Steps a message received from another replica (or a local one built by the host). */
  step(m: Message): void {
    if (m.shardId !== 0 && m.shardId !== this.r.shardId) return;
    stepRaft(this.r, m);
  }

  /**
   * Proposes entries (their index and term are assigned by the leader). The Propose carries
   * this replica's current term in `logTerm`: a follower forwards it to the leader it knows
   * for that term, and a leader appends a forwarded Propose only in that same term. So an
   * entry proposed here at term T can only ever exist in logs as an entry of term T — the fact
   * the host's safe re-forwarding rests on (see `src/host/pending-proposals.ts`).
   * With `force`, its membership changes skip the leader's live-quorum check (`live-quorum.ts`).
   */
  propose(entries: readonly Entry[], force = false): void {
    this.step(message({ type: MessageType.Propose, from: this.r.id, entries, logTerm: this.r.term, hint: force ? PROPOSE_FORCE : 0 }));
  }

  /** Proposes a membership change with the host's proposal `key`. */
  proposeConfigChange(cc: ConfigChange, key: number): void {
    this.propose([entry({ term: 0, index: 0, type: EntryType.ConfigChange, key, cmd: encodeConfigChange(cc) })]);
  }

  /** Starts a linearizable read identified by `ctx`. */
  readIndex(ctx: ReadContext): void {
    this.step(message({ type: MessageType.ReadIndex, from: this.r.id, hint: ctx.low, hintHigh: ctx.high }));
  }

  /** Asks leadership to move to `target` (forwarded to the leader from a follower). */
  requestLeaderTransfer(target: number): void {
    this.step(message({ type: MessageType.LeaderTransfer, from: this.r.id, hint: target }));
  }

  /** Starts an election now (tests, and hosts that want a fast first leader). */
  campaign(): void {
    this.step(message({ type: MessageType.Election, from: this.r.id }));
  }

  /**
   * etcd's ForgetLeader: a follower (non-voting member, witness) forgets the leader it knows
   * and stays a leaderless follower in the same term, without campaigning. Having no leader,
   * it grants (pre-)votes at once instead of honouring the check-quorum lease, so when a
   * quorum of followers learns by other means that the leader is gone they elect a new one
   * without waiting out an election timeout. It follows the leader again as soon as it hears
   * from it. A no-op on a leader, on a replica that knows no leader, and in lease read mode
   * (as in etcd: the leader's lease counts on this replica refusing votes; see `lease.ts`).
   * @returns whether a leader was forgotten.
   */
  forgetLeader(): boolean {
    const r = this.r;
    if (r.role === Role.Leader || r.leaderId === 0 || r.cfg.readMode === 'lease') return false;
    r.leaderId = 0;
    r.softStateChanged = true;
    return true;
  }

  /** The transport could not reach `replicaId`: stop streaming to it. */
  reportUnreachable(replicaId: number): void {
    this.step(message({ type: MessageType.Unreachable, from: replicaId }));
  }

  /** The snapshot sent to `replicaId` was installed (or failed). */
  reportSnapshotStatus(replicaId: number, failed: boolean): void {
    this.step(message({ type: MessageType.SnapshotStatus, from: replicaId, reject: failed }));
  }

  /**
   * A committed config change was validated and applied by the state machine at `index`;
   * the protocol adopts the new membership.
   */
  applyConfigChange(cc: ConfigChange, index: number): void {
    this.r.applyConfigChange(cc, index);
  }

  /**
   * The state machine applied entries up to `index` (config changes among them already passed
   * to `applyConfigChange`). Drives rate limiting, and a leader's auto-leave of a joint
   * configuration: it proposes the leave once the host applied everything up to the last change.
   */
  notifyApplied(index: number): void {
    const r = this.r;
    r.rateLimiter.appliedTo(index);
    if (index > r.hostApplied) r.hostApplied = index;
    r.maybeAutoLeave();
  }

  /** True while proposals would be refused as busy (in-memory log over its limit). */
  rateLimited(): boolean { return this.r.rateLimiter.limited(); }

  private hardState(): HardState {
    return { term: this.r.term, vote: this.r.vote, commit: this.r.log.committed };
  }

  private hardStateChanged(): boolean {
    const h = this.prevHard;
    return h.term !== this.r.term || h.vote !== this.r.vote || h.commit !== this.r.log.committed;
  }

  /** Whether there is work for the host. */
  hasUpdate(): boolean {
    const r = this.r;
    return r.msgs.length > 0 || r.log.unstable.hasWork()
      || r.log.hasEntriesToApply() || r.readyToReads.length > 0 || r.droppedEntries.length > 0
      || r.droppedReads.length > 0 || r.softStateChanged || this.hardStateChanged();
  }

  /**
   * Takes the pending work; what it holds is not handed out again. Call `commit` with it once
   * persisted — before taking another, unless the config has `asyncStorageWrites` (then
   * several may be in flight, committed in the order taken).
   */
  getUpdate(): Update {
    const r = this.r;
    const u: Update = {
      shardId: r.shardId,
      replicaId: r.id,
      hardState: this.hardStateChanged() ? this.hardState() : null,
      entriesToSave: r.log.unstable.entriesToSave(),
      snapshot: r.log.unstable.snapshotToSave(),
      messages: r.msgs,
      committedEntries: r.log.entriesToApply(),
      readyToReads: r.readyToReads,
      droppedEntries: r.droppedEntries,
      droppedReads: r.droppedReads,
      softState: r.softStateChanged ? { leaderId: r.leaderId, role: r.role, term: r.term } : null,
    };
    r.msgs = [];
    r.readyToReads = [];
    r.droppedEntries = [];
    r.droppedReads = [];
    r.softStateChanged = false;
    // Accepted: the host owns this work now.
    r.log.unstable.acceptInProgress();
    if (u.hardState !== null) this.prevHard = u.hardState;
    if (u.snapshot !== null && u.snapshot.index > r.log.applied) r.log.applied = u.snapshot.index;
    const lastApplied = u.committedEntries[u.committedEntries.length - 1];
    if (lastApplied !== undefined && lastApplied.index > r.log.applied) {
      r.log.appliedTo(lastApplied.index);
      // A membership change held for the one just handed over is proposed now (next update).
      releaseDeferredProposals(r);
    }
    return u;
  }

  /** Acknowledges that the host persisted `u` (and sent its messages, handed its entries to apply). */
  commit(u: Update): void {
    const r = this.r;
    if (u.snapshot !== null) r.log.stableSnapTo(u.snapshot.index);
    const lastSaved = u.entriesToSave[u.entriesToSave.length - 1];
    if (lastSaved !== undefined) {
      r.log.stableTo(lastSaved.index, lastSaved.term);
      r.selfPersisted(lastSaved.index, lastSaved.term);
    }
  }

  /** The replica's protocol state. */
  status(): PeerStatus {
    const r = this.r;
    const progress = new Map<number, { match: number; next: number; state: number; inflightMsgs: number; inflightBytes: number }>();
    if (r.role === Role.Leader) {
      r.tracker.forEach((id, pr) => progress.set(id, {
        match: pr.match, next: pr.next, state: pr.state, inflightMsgs: pr.inflights.count, inflightBytes: pr.inflights.inflightBytes,
      }));
    }
    return {
      shardId: r.shardId, replicaId: r.id, term: r.term, vote: r.vote, leaderId: r.leaderId,
      role: RoleName[r.role], commit: r.log.committed, applied: r.log.applied,
      lastIndex: r.log.lastIndex(), firstIndex: r.log.firstIndex(), quiesced: r.quiesced,
      leaderTransferTarget: r.leaderTransferTarget, configChangePending: r.role === Role.Leader && r.pendingConfigIndex > r.log.applied, progress, quorum: quorumHealth(r), campaigns: r.campaigns,
    };
  }
}
