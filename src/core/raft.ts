/**
 * The Raft state of one replica: term, vote, role, log, the leader's view of its remotes,
 * and the role transitions. Message handling lives in `handlers.ts`, dispatched by role
 * through a table; this file holds what those handlers share.
 *
 * Time enters only through `tick()`; randomness only through the configured source.
 */
import { RecentKeys } from './recent-keys.js';
import { dropDeferredChanges } from './proposal-refusal.js';
import { leaseTicks, type RaftConfig } from './config.js';
import { LeaderLease } from './lease.js';
import { RaftLog } from './raft-log.js';
import type { LogStorage } from './log-storage.js';
import { applyConfigChange } from './membership.js';
import { Progress, ProgressState } from './progress.js';
import { VoteResult } from './quorum.js';
import { ProgressTracker } from './tracker.js';
import { encodeConfigChange } from '../encoding/config-change.js';
import { RateLimiter } from './rate-limit.js';
import { ReadOnly } from './read-only.js';
import {
  ConfigChangeType, EMPTY_BYTES, EntryType, entrySize, MessageType, emptyMembership, message,
  type ConfigChange, type Entry, type Membership, type Message, type ReadContext, type ReadyToRead,
  type SnapshotMeta,
} from './types.js';
import { CompactedError } from './errors.js';

/** Roles a replica can be in. */
export const Role = {
  /** A voter following a leader (or waiting for one). */
  Follower: 0,
  /** A voter running a pre-vote round: it asks without raising its term. */
  PreCandidate: 1,
  /** A voter running an election in a new term. */
  Candidate: 2,
  /** The replica that accepts proposals and replicates the log. */
  Leader: 3,
  /** A non-voting member: receives the log, never votes or campaigns. */
  NonVoting: 4,
  /** A witness: votes and receives entries without payload; never leads. */
  Witness: 5,
} as const;
/** One of {@link Role}. */
export type Role = (typeof Role)[keyof typeof Role];

/** Role names for logs and scripts. */
export const RoleName: Readonly<Record<Role, string>> = {
  0: 'follower', 1: 'pre-candidate', 2: 'candidate', 3: 'leader', 4: 'non-voting', 5: 'witness',
};

/** `hint` value on a RequestVote sent because of a leader transfer: bypasses the lease. */
export const HINT_TRANSFER = 1;

/**
 * `hint` value on a Propose: its membership changes skip the leader's live-quorum check
 * (`live-quorum.ts`; the operator's override). A leader of an earlier release ignores it.
 */
export const PROPOSE_FORCE = 1;

/** One replica's protocol state. Driven only through `Peer`. */
export class Raft {
  readonly id: number;
  readonly shardId: number;
  term = 0;
  vote = 0;
  leaderId = 0;
  role: Role = Role.Follower;
  readonly log: RaftLog;
  membership: Membership = emptyMembership();
  /** The leader's view of every replica (its own included) and the configuration counting them. */
  readonly tracker = new ProgressTracker((next) => this.newProgress(next));
  votes = new Map<number, boolean>();
  msgs: Message[] = [];
  readonly readOnly = new ReadOnly();
  /** Lease mode: the leader's read lease (`lease.ts`). */
  readonly lease = new LeaderLease();
  /** Reads that arrived before the leader committed an entry of its term. */
  pendingReads: Array<{ ctx: ReadContext; from: number }> = [];
  readyToReads: ReadyToRead[] = [];
  droppedEntries: Entry[] = [];
  droppedReads: ReadContext[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  leaderTransferTarget = 0;
  /** Index of the newest config change proposed by this leader; none may follow until applied. */
  pendingConfigIndex = 0;
  /**
   * Leader: membership changes waiting for the pending one to be handed to the host
   * (`proposal-refusal.ts`); dropped at any term or role change.
   */
  deferredChanges: Message[] = [];
  /**
   * Keys of the forwarded proposals this leader appended or refused in this term: a copy
   * delivered later is dropped.
   */
  readonly forwardedKeys = new RecentKeys(4096);
  /**
   * What the host reports its state machine applied (`Peer.notifyApplied`): unlike
   * `log.applied` (entries handed to the host), the membership is up to date to here.
   */
  hostApplied = 0;
  readonly rateLimiter: RateLimiter;
  quiesced = false;
  idleTicks = 0;
  /** Logical time: ticks taken while not quiesced. Only ever grows; stamps remotes' answers. */
  ticks = 0;
  /** The tick (`ticks`) at which this replica last became leader. */
  leaderSinceTick = 0;
  /** Elections this replica started (one per attempt, whether or not it began with a pre-vote round), for metrics. */
  campaigns = 0;
  /** Set when the role or leader changed since the last update was taken. */
  softStateChanged = true;

  constructor(readonly cfg: RaftConfig, storage: LogStorage) {
    this.id = cfg.replicaId;
    this.shardId = cfg.shardId;
    this.log = new RaftLog(storage, cfg.maxApplyBytes, cfg.asyncStorageWrites);
    this.rateLimiter = new RateLimiter(cfg.maxInMemLogSize, cfg.electionTicks);
    this.resetRandomizedElectionTimeout();
  }

  // ---- membership -------------------------------------------------------------------------

  /** Installs `m` as the membership: remotes are added or dropped to match it. */
  setMembership(m: Membership): void {
    this.membership = m;
    this.tracker.setConfig(m, this.log.lastIndex() + 1);
    this.updateSelfRole();
  }

  private newProgress(next: number): Progress {
    return new Progress(next, this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes);
  }

  /** Applies a committed, validated config change at `index`. */
  applyConfigChange(cc: ConfigChange, index: number): void {
    // A snapshot installed since the host took this entry already holds a newer membership.
    if (index <= this.membership.configChangeId) return;
    const wasLeader = this.role === Role.Leader;
    this.setMembership(applyConfigChange(this.membership, cc, index));
    if (this.leaderTransferTarget !== 0 && !this.tracker.isIncomingVoter(this.leaderTransferTarget)) {
      this.leaderTransferTarget = 0;
    }
    if (!wasLeader) return;
    // The quorum may have changed: only acknowledgements of heartbeats sent from now on count.
    this.lease.restart(this.ticks);
    if (!this.tracker.isVoter(this.id)) {
      // A leader that is a voter of neither half hands over by stepping down; the rest elect
      // anew. One that is only in the outgoing half of a joint configuration leads on until the
      // joint configuration is left (thesis §4.3; etcd's stepDownOnRemoval).
      this.becomeFollower(this.term, 0);
      return;
    }
    // The quorum changed: entries may now be committed, or be waiting on fewer replicas.
    if (this.tryCommit()) this.broadcastReplicate();
    this.maybeAutoLeave();
  }

  /**
   * Leader only: once the entry that entered a joint configuration with auto-leave is applied
   * by the host (and every change this leader proposed, or its term's first entry), proposes
   * the change that leaves it (etcd's auto-leave).
   */
  maybeAutoLeave(): void {
    const j = this.membership.joint;
    if (this.role !== Role.Leader || j === undefined || !j.autoLeave) return;
    // Entries handed to the host but not applied yet may hold the leave already.
    if (this.pendingConfigIndex > this.hostApplied || this.leaderTransferTarget !== 0) return;
    this.pendingConfigIndex = this.log.lastIndex() + 1;
    this.appendEntries([{
      term: this.term, index: 0, type: EntryType.ConfigChange, key: 0, clientId: 0, seriesId: 0, respondedTo: 0,
      cmd: encodeConfigChange({ configChangeId: 0, type: ConfigChangeType.LeaveJoint, replicaId: 0, address: '', initialize: false, ordered: false }),
    }]);
    this.broadcastReplicate();
  }

  /** Keeps the replica's own role consistent with the membership. */
  private updateSelfRole(): void {
    if (this.role === Role.Leader) return;
    if (this.tracker.isWitness(this.id)) this.role = Role.Witness;
    else if (this.tracker.isNonVoting(this.id)) this.role = Role.NonVoting;
    else if (this.role === Role.Witness || this.role === Role.NonVoting) this.role = Role.Follower;
  }

  /** Ids that vote: voters and witnesses of either half. */
  votingIds(): ReadonlySet<number> {
    return this.tracker.votingIds();
  }

  /** The votes that form a majority of the (incoming) voting members. */
  quorum(): number { return this.tracker.quorumSize(); }

  /** The progress of `id` in any role. */
  progressOf(id: number): Progress | undefined {
    return this.tracker.get(id);
  }

  /** Whether this replica may start an election. */
  canCampaign(): boolean {
    return this.tracker.isVoter(this.id) && this.role !== Role.Witness && this.role !== Role.NonVoting && !this.cfg.neverCampaign;
  }

  // ---- role transitions -----------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = 0;
    }
    this.leaderId = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.votes = new Map();
    this.leaderTransferTarget = 0;
    this.pendingConfigIndex = 0;
    dropDeferredChanges(this);
    this.rateLimiter.clearFollowers();
    this.lease.reset(this.ticks);
    this.dropPendingReads();
    // Every match starts at 0, the leader's own included: it counts only what the host
    // acknowledges as persisted (see selfPersisted), never entries still in memory.
    this.tracker.resetAll(this.log.lastIndex() + 1);
  }

  private dropPendingReads(): void {
    for (const r of this.readOnly.drain()) if (r.from === this.id) this.droppedReads.push(r.ctx);
    for (const r of this.pendingReads) if (r.from === this.id) this.droppedReads.push(r.ctx);
    this.pendingReads = [];
  }

  private setRole(role: Role, leaderId: number): void {
    if (this.role !== role || this.leaderId !== leaderId) this.softStateChanged = true;
    this.role = role;
    this.leaderId = leaderId;
  }

  becomeFollower(term: number, leaderId: number): void {
    this.reset(term);
    let role: Role = Role.Follower;
    const t = this.tracker;
    if (t.isWitness(this.id) || (this.cfg.isWitness && !t.isVoter(this.id))) role = Role.Witness;
    else if (t.isNonVoting(this.id) || (this.cfg.isNonVoting && !t.isVoter(this.id))) role = Role.NonVoting;
    this.setRole(role, leaderId);
  }

  becomePreCandidate(): void {
    // Pre-vote does not change the term or the vote, so a partitioned replica stays harmless.
    this.votes = new Map();
    this.electionElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.setRole(Role.PreCandidate, 0);
  }

  becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.setRole(Role.Candidate, 0);
  }

  becomeLeader(): void {
    this.reset(this.term);
    this.forwardedKeys.clear();
    this.setRole(Role.Leader, this.id);
    this.leaderSinceTick = this.ticks;
    // Only the leader itself counts as heard from: a leader cut off right after winning steps
    // down at the first check-quorum.
    const self = this.progressOf(this.id);
    if (self !== undefined) self.recentActive = true;
    // Until the no-op of this term is applied, no config change may be proposed: this is the
    // 2015 fix for single-server changes (a leader must commit an entry of its term first).
    this.pendingConfigIndex = this.log.lastIndex() + 1;
    this.appendEntries([{ term: this.term, index: 0, type: EntryType.Application, key: 0, clientId: 0, seriesId: 0, respondedTo: 0, cmd: EMPTY_BYTES }]);
    // Announce the new term at once: followers learn the leader and receive the no-op.
    this.tryCommit();
    this.broadcastReplicate();
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.cfg.electionTicks + this.cfg.random.intn(this.cfg.electionTicks);
  }

  // ---- elections --------------------------------------------------------------------------

  /** Starts an election (a pre-vote round first when enabled, unless `transfer`). */
  campaign(transfer: boolean): void {
    if (this.canCampaign()) this.campaigns++;
    this.startElection(this.cfg.preVote && !transfer, transfer);
  }

  private startElection(pre: boolean, transfer: boolean): void {
    if (!this.canCampaign()) return;
    if (pre) this.becomePreCandidate();
    else this.becomeCandidate();
    const term = pre ? this.term + 1 : this.term;
    this.votes.set(this.id, true);
    if (this.checkVotes(pre)) return;
    const type = pre ? MessageType.RequestPreVote : MessageType.RequestVote;
    for (const id of this.votingIds()) {
      if (id === this.id) continue;
      this.send(message({
        type, to: id, term, logIndex: this.log.lastIndex(), logTerm: this.log.lastTerm(),
        hint: transfer ? HINT_TRANSFER : 0,
      }));
    }
  }

  /** Acts on the tally; true when the election ended. */
  checkVotes(pre: boolean): boolean {
    const result = this.tracker.voteResult(this.votes);
    if (result === VoteResult.Won) {
      if (pre) this.startElection(false, false);
      else this.becomeLeader();
      return true;
    }
    if (result === VoteResult.Lost) {
      this.becomeFollower(this.term, 0);
      return true;
    }
    return false;
  }

  // ---- leader: replication ------------------------------------------------------------------

  /** Appends proposals to the leader's log. */
  appendEntries(ents: Entry[]): void {
    let li = this.log.lastIndex();
    const term = this.term;
    const stamped = ents.map((e): Entry => ({
      term, index: ++li, type: e.type, key: e.key, clientId: e.clientId, seriesId: e.seriesId, respondedTo: e.respondedTo, cmd: e.cmd,
    }));
    this.log.append(stamped);
    this.rateLimiter.appended(stamped);
  }

  /**
   * Advances the commit index to what a quorum of voters and witnesses has persisted, counting
   * only entries of the current term (§5.4.2). The leader's own match is its persisted index,
   * so nothing counts as committed before a quorum made it durable.
   */
  tryCommit(): boolean {
    const idx = this.tracker.committed();
    const committed = this.log.maybeCommit(idx, this.term);
    if (committed) this.releasePendingReads();
    return committed;
  }

  /** Whether the leader has committed an entry of its own term. */
  committedInTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private releasePendingReads(): void {
    if (this.pendingReads.length === 0 || !this.committedInTerm()) return;
    const reads = this.pendingReads;
    this.pendingReads = [];
    for (const r of reads) this.startRead(r.ctx, r.from);
  }

  /** Begins confirming leadership for a read (the leader has committed in its term). */
  startRead(ctx: ReadContext, from: number): void {
    if (this.tracker.isSoleVoter(this.id) || this.leaseValid()) {
      this.respondRead(ctx, from, this.log.committed);
      return;
    }
    this.readOnly.add(ctx, from, this.log.committed, this.id);
    this.broadcastHeartbeat(ctx);
  }

  /**
   * Lease mode: whether this leader may answer a read at once (`lease.ts`): it leads, has
   * committed an entry of its term, is not quiesced, and its lease covers the current tick.
   */
  leaseValid(): boolean {
    return this.cfg.readMode === 'lease' && this.role === Role.Leader && !this.quiesced && this.committedInTerm()
      && this.lease.valid(this.tracker.incomingIds(), this.tracker.outgoingIds(), this.id, this.ticks, leaseTicks(this.cfg));
  }

  respondRead(ctx: ReadContext, from: number, index: number): void {
    if (from === this.id || from === 0) {
      this.readyToReads.push({ index, ctx });
    } else {
      this.send(message({ type: MessageType.ReadIndexResp, to: from, logIndex: index, hint: ctx.low, hintHigh: ctx.high }));
    }
  }

  /** Sends what `to` is missing: entries, or the snapshot when they are compacted. */
  sendReplicate(to: number, pr: Progress, allowEmpty = false): boolean {
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    let ents: Entry[];
    try {
      if (prevTerm === 0 && prevIndex > 0) throw new CompactedError(prevIndex);
      ents = this.log.entries(pr.next, this.cfg.maxEntryBytesPerMsg);
    } catch (e) {
      if (!(e instanceof CompactedError)) throw e;
      return this.sendSnapshot(to, pr);
    }
    if (ents.length === 0 && !allowEmpty && pr.state === ProgressState.Replicate) return false;
    if (this.tracker.isWitness(to)) ents = ents.map(toMetadataEntry);
    this.send(message({ type: MessageType.Replicate, to, logIndex: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed }));
    const last = ents[ents.length - 1];
    if (last !== undefined) {
      if (pr.state === ProgressState.Replicate) {
        pr.optimisticUpdate(last.index);
        let bytes = 0;
        for (const e of ents) bytes += entrySize(e);
        pr.inflights.add(last.index, bytes);
      } else if (pr.state === ProgressState.Probe) {
        pr.probeSent = true;
      }
    } else if (pr.state === ProgressState.Probe) {
      pr.probeSent = true;
    }
    return true;
  }

  private sendSnapshot(to: number, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    let ss: SnapshotMeta = this.log.snapshot();
    if (ss.index === 0) return false; // nothing to send yet: the host has not recorded one
    if (this.tracker.isWitness(to)) ss = { ...ss, witness: true, filepath: '', fileSize: 0, files: [], checksum: EMPTY_BYTES };
    pr.becomeSnapshot(ss.index);
    this.send(message({ type: MessageType.InstallSnapshot, to, snapshot: ss }));
    return true;
  }

  forEachRemote(fn: (id: number, pr: Progress) => void): void {
    this.tracker.forEach((id, pr) => { if (id !== this.id) fn(id, pr); });
  }

  /** Sends new entries, or the new commit index, to every remote that is not paused. */
  broadcastReplicate(): void {
    this.forEachRemote((id, pr) => { this.sendReplicate(id, pr, true); });
  }

  broadcastHeartbeat(ctx?: ReadContext): void {
    const c = ctx ?? this.readOnly.lastPending();
    // Lease mode: the send tick (+1; 0 = none), echoed back in HeartbeatResp to renew the lease.
    const sentTick = this.cfg.readMode === 'lease' ? this.ticks + 1 : 0;
    this.forEachRemote((id, pr) => {
      this.send(message({
        type: MessageType.Heartbeat, to: id, commit: Math.min(pr.match, this.log.committed),
        hint: c?.low ?? 0, hintHigh: c?.high ?? 0, logIndex: sentTick,
      }));
    });
  }

  /** Sends TimeoutNow to the transfer target (it is caught up). */
  sendTimeoutNow(to: number): void {
    // The target campaigns at once with HINT_TRANSFER, which bypasses the followers' lease:
    // this leader's lease ends here, for the rest of its term (the message may arrive late).
    this.lease.revoke();
    this.send(message({ type: MessageType.TimeoutNow, to }));
  }

  // ---- plumbing -----------------------------------------------------------------------------

  /** Queues a message from this replica; network messages carry the current term. */
  send(m: Message): void {
    const local = m.type === MessageType.Propose || m.type === MessageType.ReadIndex || m.type === MessageType.LeaderTransfer;
    const voteKind = m.type === MessageType.RequestVote || m.type === MessageType.RequestPreVote
      || m.type === MessageType.RequestPreVoteResp;
    const term = local ? 0 : voteKind ? m.term : this.term;
    this.msgs.push({ ...m, from: this.id, shardId: this.shardId, term });
  }

  /**
   * The host persisted the log up to (index, term). A leader's own copy counts toward the
   * commit quorum only from here: entries still in memory never make anything committed.
   */
  selfPersisted(index: number, term: number): void {
    if (this.role !== Role.Leader || this.log.term(index) !== term) return;
    const self = this.progressOf(this.id);
    if (self === undefined) return;
    if (self.maybeUpdate(index) && this.tryCommit()) this.broadcastReplicate();
  }

  /** Records activity that ends or prevents quiescence. */
  activity(): void {
    this.idleTicks = 0;
    if (this.quiesced) {
      this.quiesced = false;
      // Time did not advance while quiesced: acknowledgements from before are of unknown age.
      this.lease.restart(this.ticks);
      this.electionElapsed = 0;
      this.heartbeatElapsed = 0;
    }
  }
}

/** The entry a witness receives: position and type only, config changes kept whole. */
export function toMetadataEntry(e: Entry): Entry {
  if (e.type === EntryType.ConfigChange) return e;
  return { ...e, type: EntryType.Metadata, cmd: EMPTY_BYTES, key: 0, clientId: 0, seriesId: 0, respondedTo: 0 };
}
