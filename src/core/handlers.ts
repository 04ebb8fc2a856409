/**
 * Message handling, dispatched by role through one table per role. Each table names every
 * message kind (the type system refuses a missing one, and `checkHandlerTables` verifies it
 * again at load), with `ignore` where a role has nothing to do: no long switch, no silent gap.
 */
import { HINT_TRANSFER, PROPOSE_FORCE, Role, type Raft } from './raft.js';
import { encodeShortfall, liveQuorumShortfall } from './live-quorum.js';
import { ProgressState } from './progress.js';
import {
  deferConfigChanges, isRefusalNotice, onRefusalNotice, refuseProposal, releaseDeferredChanges, shouldDeferConfigChange,
} from './proposal-refusal.js';
import { EntryType, MessageType, message, type Entry, type Message, type ReadContext } from './types.js';

type Handler = (r: Raft, m: Message) => void;
type Table = Readonly<Record<MessageType, Handler>>;

const ignore: Handler = () => {};

function ctxOf(m: Message): ReadContext {
  return { low: m.hint, high: m.hintHigh };
}

function isLocalOrigin(r: Raft, m: Message): boolean {
  return m.from === r.id || m.from === 0;
}

/** Drops a proposal; only the replica that received it from its client can report it. */
function dropProposal(r: Raft, m: Message): void {
  if (isLocalOrigin(r, m)) for (const e of m.entries) r.droppedEntries.push(e);
}

function dropRead(r: Raft, m: Message): void {
  if (isLocalOrigin(r, m)) r.droppedReads.push(ctxOf(m));
}

// ---- shared by every role ---------------------------------------------------------------------

/** §5.2, §5.4.1 and §9.6: grant a vote (or pre-vote) to an up-to-date candidate. */
const onVoteRequest: Handler = (r, m) => {
  // A non-voting member answers too (as etcd's learners do): it may have been promoted without
  // knowing it yet, and a candidate counts only the votes of those it holds to be voters.
  const pre = m.type === MessageType.RequestPreVote;
  const canVote = r.vote === m.from || (r.vote === 0 && r.leaderId === 0) || (pre && m.term > r.term);
  const respType = pre ? MessageType.RequestPreVoteResp : MessageType.RequestVoteResp;
  if (canVote && r.log.isUpToDate(m.logIndex, m.logTerm)) {
    r.send(message({ type: respType, to: m.from, term: pre ? m.term : r.term }));
    if (!pre) {
      r.electionElapsed = 0;
      r.vote = m.from;
    } else if (r.role === Role.PreCandidate && m.term === r.term + 1 && m.from < r.id) {
      // Two replicas whose timeouts fire together (the leader's last heartbeat reset both: after
      // a leader's crash in a three-replica shard the survivors are such a pair) would each
      // grant the other's pre-vote, both stand at the next term, split the vote and lose another
      // election timeout. Granting a lower replica id's pre-vote, a pre-candidate steps back
      // instead: of the two, one goes on (the other's grant, sent after its own request on the
      // same link, finds it no longer campaigning). Nothing is refused, so no replica that
      // could win is held back; pre-vote decides nothing about safety.
      r.becomeFollower(r.term, 0);
    }
  } else {
    r.send(message({ type: respType, to: m.from, term: r.term, reject: true }));
  }
};

const onElection: Handler = (r) => {
  // Lease mode: a replica within its lease does not campaign on request either (a leader's
  // lease counts on it); its own timer fires only past the lease.
  if (r.role !== Role.Leader && !(r.cfg.readMode === 'lease' && inFollowerLease(r))) r.campaign(false);
};

/**
 * Whether `r` keeps the lease it gives its leader (thesis §6.2, check-quorum): it heard from a
 * leader within the last `electionTicks` of its ticks, or — lease mode — it started less than
 * `electionTicks` ticks ago (it may have heard from a leader before it stopped, and forgotten).
 * Within it, vote requests of higher terms are ignored, unless sent for a leader transfer.
 */
export function inFollowerLease(r: Raft): boolean {
  if (!r.cfg.checkQuorum) return false;
  if (r.leaderId !== 0 && r.electionElapsed < r.cfg.electionTicks) return true;
  return r.cfg.readMode === 'lease' && r.ticks < r.cfg.electionTicks;
}

// ---- follower, non-voting, witness --------------------------------------------------------

function followLeader(r: Raft, m: Message): void {
  r.electionElapsed = 0;
  if (r.leaderId !== m.from) {
    r.leaderId = m.from;
    r.softStateChanged = true;
  }
}

/** §5.3: the consistency check, with the fast back-off hint on rejection. */
const onReplicate: Handler = (r, m) => {
  followLeader(r, m);
  if (m.logIndex < r.log.committed) {
    r.send(message({ type: MessageType.ReplicateResp, to: m.from, logIndex: r.log.committed }));
    return;
  }
  const last = r.log.maybeAppend(m.logIndex, m.logTerm, m.commit, m.entries);
  if (last >= 0) {
    r.rateLimiter.appended(m.entries);
    r.send(message({ type: MessageType.ReplicateResp, to: m.from, logIndex: last }));
    return;
  }
  const hintIndex = r.log.findConflictByTerm(Math.min(m.logIndex, r.log.lastIndex()), m.logTerm);
  r.send(message({
    type: MessageType.ReplicateResp, to: m.from, reject: true, logIndex: m.logIndex,
    hint: hintIndex, logTerm: r.log.term(hintIndex),
  }));
};

const onHeartbeat: Handler = (r, m) => {
  followLeader(r, m);
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
  // Echo the leader's send tick (lease mode): proof of a message sent at or after it.
  r.send(message({ type: MessageType.HeartbeatResp, to: m.from, hint: m.hint, hintHigh: m.hintHigh, logIndex: m.logIndex }));
};

/** Installs the leader's snapshot unless the log already covers it. */
const onInstallSnapshot: Handler = (r, m) => {
  followLeader(r, m);
  const ss = m.snapshot;
  if (ss === null) return;
  if (ss.index <= r.log.committed) {
    r.send(message({ type: MessageType.ReplicateResp, to: m.from, logIndex: r.log.committed }));
    return;
  }
  if (r.log.matchTerm(ss.index, ss.term)) {
    // The log already holds the snapshot's position: fast-forward the commit instead. Answer
    // with the commit index, not the last index: entries past the snapshot may be of an older
    // term, and must not be counted toward a commit.
    r.log.commitTo(ss.index);
    r.send(message({ type: MessageType.ReplicateResp, to: m.from, logIndex: r.log.committed }));
    return;
  }
  r.log.restore(ss);
  r.rateLimiter.reset();
  r.setMembership(ss.membership);
  r.send(message({ type: MessageType.ReplicateResp, to: m.from, logIndex: ss.index }));
};

const forwardToLeader = (drop: Handler): Handler => (r, m) => {
  if (r.leaderId === 0 || r.leaderId === r.id) {
    drop(r, m);
    return;
  }
  r.send({ ...m, to: r.leaderId });
};

/**
 * A follower forwards its own client's proposal to the leader of its term (the Propose keeps
 * the term it was made in, `logTerm`). A proposal forwarded to it by another replica is not
 * passed on: that replica believed this one led, and only the leader of the proposal's term
 * may append it, so it is dropped here (silently: its proposer learns of it when an entry of a
 * later term commits, and re-forwards it then). With `disableProposalForwarding` the
 * replica's own proposals are dropped (reported) instead of forwarded.
 */
const onFollowerPropose: Handler = (r, m) => {
  if (!isLocalOrigin(r, m)) return;
  // etcd's DisableProposalForwarding: refused here, so the proposer learns at once.
  if (r.leaderId === 0 || r.leaderId === r.id || r.cfg.disableProposalForwarding) {
    dropProposal(r, m);
    return;
  }
  r.send({ ...m, to: r.leaderId });
};

const onReadIndexResp: Handler = (r, m) => {
  r.readyToReads.push({ index: m.logIndex, ctx: ctxOf(m) });
};

const onTimeoutNow: Handler = (r) => {
  // §3.10: the leader chose us; campaign at once, skipping pre-vote and the lease.
  if (r.canCampaign()) r.campaign(true);
};

const onQuiesce: Handler = (r) => {
  if (r.cfg.quiesce) r.quiesced = true;
};

const dropLeaderTransfer: Handler = () => {};

const followerTable: Table = {
  [MessageType.LocalTick]: ignore,
  [MessageType.Election]: onElection,
  [MessageType.LeaderHeartbeat]: ignore,
  [MessageType.Propose]: onFollowerPropose,
  [MessageType.SnapshotStatus]: ignore,
  [MessageType.Unreachable]: ignore,
  [MessageType.CheckQuorum]: ignore,
  [MessageType.ReadIndex]: forwardToLeader(dropRead),
  [MessageType.LeaderTransfer]: forwardToLeader(dropLeaderTransfer),
  [MessageType.Replicate]: onReplicate,
  [MessageType.ReplicateResp]: ignore,
  [MessageType.RequestVote]: onVoteRequest,
  [MessageType.RequestVoteResp]: ignore,
  [MessageType.RequestPreVote]: onVoteRequest,
  [MessageType.RequestPreVoteResp]: ignore,
  [MessageType.InstallSnapshot]: onInstallSnapshot,
  [MessageType.Heartbeat]: onHeartbeat,
  [MessageType.HeartbeatResp]: ignore,
  [MessageType.ReadIndexResp]: onReadIndexResp,
  [MessageType.TimeoutNow]: onTimeoutNow,
  [MessageType.Quiesce]: onQuiesce,
  [MessageType.RateLimit]: ignore,
  [MessageType.ClusterIdentityMismatch]: ignore,
  [MessageType.ReplicaRemoved]: ignore,
};

const nonVotingTable: Table = {
  ...followerTable,
  [MessageType.Election]: ignore,
  [MessageType.TimeoutNow]: ignore,
};

/** Witnesses vote and keep the log's shape, but serve no client. */
const witnessTable: Table = {
  ...followerTable,
  [MessageType.Election]: ignore,
  [MessageType.TimeoutNow]: ignore,
  [MessageType.Propose]: dropProposal,
  [MessageType.ReadIndex]: dropRead,
  [MessageType.LeaderTransfer]: ignore,
  [MessageType.ReadIndexResp]: ignore,
};

// ---- candidates ----------------------------------------------------------------------------

/** A candidate that hears from a leader of its term (§5.2) returns to follower. */
const stepDownThen = (h: Handler): Handler => (r, m) => {
  r.becomeFollower(m.term, m.from);
  h(r, m);
};

const onVoteResp = (pre: boolean): Handler => (r, m) => {
  r.votes.set(m.from, !m.reject);
  r.checkVotes(pre);
};

const candidateTable: Table = {
  ...followerTable,
  [MessageType.Propose]: dropProposal,
  [MessageType.ReadIndex]: dropRead,
  [MessageType.LeaderTransfer]: dropLeaderTransfer,
  [MessageType.Replicate]: stepDownThen(onReplicate),
  [MessageType.Heartbeat]: stepDownThen(onHeartbeat),
  [MessageType.InstallSnapshot]: stepDownThen(onInstallSnapshot),
  [MessageType.RequestVoteResp]: onVoteResp(false),
  [MessageType.TimeoutNow]: ignore,
  [MessageType.Quiesce]: ignore,
  [MessageType.ReadIndexResp]: ignore,
};

const preCandidateTable: Table = {
  ...candidateTable,
  [MessageType.RequestVoteResp]: ignore,
  [MessageType.RequestPreVoteResp]: onVoteResp(true),
};

// ---- leader --------------------------------------------------------------------------------

const onPropose: Handler = (r, m) => {
  // A proposal forwarded for another term is never appended in this one: an entry keeps the
  // term it was proposed in (0: a peer that does not say, taken as before).
  if (!isLocalOrigin(r, m) && m.logTerm !== 0 && m.logTerm !== r.term) return;
  // A forwarded proposal the network delivered twice is appended once, and one refused is
  // never appended afterwards: its key is recorded before anything is decided (key 0: a peer
  // that does not key its proposals).
  const firstKey = m.entries[0]?.key ?? 0;
  if (!isLocalOrigin(r, m) && firstKey !== 0 && !r.forwardedKeys.add(firstKey)) return;
  acceptProposal(r, m);
};

/** The leader's decision on a Propose that passed the term and duplicate checks (`proposal-refusal.ts`). */
function acceptProposal(r: Raft, m: Message): void {
  if (r.leaderTransferTarget !== 0 || r.rateLimiter.limited()) {
    refuseProposal(r, m, m.entries);
    return;
  }
  const accepted: Entry[] = [];
  const refused: Entry[] = [];
  const deferred: Entry[] = [];
  for (const e of m.entries) {
    if (e.type === EntryType.ConfigChange) {
      // One change at a time, and none before the no-op of this term is applied: held when
      // the pending one is committed (it is handed to the host soon), refused otherwise.
      if (r.pendingConfigIndex > r.log.applied) {
        (shouldDeferConfigChange(r) ? deferred : refused).push(e);
        continue;
      }
      // The live-quorum check (`live-quorum.ts`). A leader that has led for less than an
      // election timeout may not have heard from every live member yet: it holds the change
      // and asks again at each tick, refusing only once its view is a full timeout old.
      const short = m.hint === PROPOSE_FORCE ? null : liveQuorumShortfall(r, e);
      if (short !== null) {
        if (r.ticks - r.leaderSinceTick < r.cfg.electionTicks) deferred.push(e);
        else refused.push({ ...e, cmd: encodeShortfall(short) });
        continue;
      }
      r.pendingConfigIndex = r.log.lastIndex() + accepted.length + 1;
    }
    accepted.push(e);
  }
  refuseProposal(r, m, refused);
  deferConfigChanges(r, m, deferred);
  if (accepted.length === 0) return;
  r.appendEntries(accepted);
  r.broadcastReplicate();
}

/**
 * Leader, after entries were handed to the host: membership changes held for the pending one
 * are proposed again once it is handed over (`proposal-refusal.ts`).
 */
export function releaseDeferredProposals(r: Raft): void {
  if (r.role === Role.Leader) releaseDeferredChanges(r, acceptProposal);
}

const onReplicateResp: Handler = (r, m) => {
  const pr = r.progressOf(m.from);
  if (pr === undefined) return;
  pr.markActive(r.ticks);
  if (m.reject) {
    // Fast back-off: skip the whole divergent term the follower reported.
    const next = m.logTerm > 0 ? r.log.findConflictByTerm(m.hint, m.logTerm) : m.hint;
    if (pr.maybeDecrTo(m.logIndex, next)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      r.sendReplicate(m.from, pr);
    }
    return;
  }
  if (m.logIndex > r.log.lastIndex()) return;
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.logIndex)) return;
  if (pr.state === ProgressState.Probe) {
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Snapshot && pr.match >= pr.pendingSnapshot) {
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Replicate) {
    pr.inflights.freeTo(m.logIndex);
  }
  if (r.tryCommit()) {
    r.broadcastReplicate();
  } else if (wasPaused) {
    r.sendReplicate(m.from, pr, true);
  }
  // Keep the pipeline full, within the window and a bounded number of messages.
  for (let i = 0; i < 64 && r.sendReplicate(m.from, pr); i++);
  if (m.from === r.leaderTransferTarget && pr.match === r.log.lastIndex()) r.sendTimeoutNow(m.from);
};

const onHeartbeatResp: Handler = (r, m) => {
  const pr = r.progressOf(m.from);
  if (pr === undefined) return;
  pr.markActive(r.ticks);
  if (m.logIndex > 0 && r.votingIds().has(m.from)) r.lease.ack(m.from, m.logIndex - 1);
  pr.resumeOnHeartbeat();
  // An empty Replicate when nothing new is due: if earlier ones were lost, the rejection it
  // draws sends the remote back to probe, so a quiet shard still repairs a follower.
  if (pr.match < r.log.lastIndex()) r.sendReplicate(m.from, pr, true);
  if (m.hint === 0 && m.hintHigh === 0) return;
  const acks = r.readOnly.recvAck(m.from, ctxOf(m));
  if (acks === undefined || !r.tracker.hasQuorum(acks)) return;
  for (const read of r.readOnly.advance(ctxOf(m))) r.respondRead(read.ctx, read.from, read.index);
};

const onLeaderReadIndex: Handler = (r, m) => {
  // §6.4: a new leader does not know its commit index until an entry of its term commits.
  if (!r.committedInTerm()) {
    r.pendingReads.push({ ctx: ctxOf(m), from: m.from });
    return;
  }
  r.startRead(ctxOf(m), m.from);
};

const onCheckQuorum: Handler = (r) => {
  const active = new Set<number>();
  r.tracker.forEach((id, pr) => {
    if (id === r.id) { active.add(id); return; }
    if (pr.recentActive) active.add(id);
    pr.recentActive = false;
  });
  if (!r.tracker.hasQuorum(active)) r.becomeFollower(r.term, 0);
};

const onSnapshotStatus: Handler = (r, m) => {
  const pr = r.progressOf(m.from);
  if (pr === undefined || pr.state !== ProgressState.Snapshot) return;
  if (m.reject) pr.pendingSnapshot = 0;
  pr.becomeProbe();
  // Wait for a heartbeat response before probing: the remote may still be restoring.
  pr.probeSent = true;
};

const onUnreachable: Handler = (r, m) => {
  const pr = r.progressOf(m.from);
  if (pr !== undefined && pr.state === ProgressState.Replicate) pr.becomeProbe();
};

/** §3.10: catch the target up, then tell it to campaign; proposals wait meanwhile. */
const onLeaderTransfer: Handler = (r, m) => {
  const target = m.hint;
  const pr = r.tracker.isIncomingVoter(target) ? r.progressOf(target) : undefined;
  if (target === r.id || pr === undefined) return;
  if (r.leaderTransferTarget === target) return;
  r.leaderTransferTarget = target;
  r.electionElapsed = 0;
  if (pr.match === r.log.lastIndex()) r.sendTimeoutNow(target);
  else r.sendReplicate(target, pr, true);
};

const onRateLimit: Handler = (r, m) => {
  r.rateLimiter.setFollowerSize(m.from, m.hint);
};

const leaderTable: Table = {
  [MessageType.LocalTick]: ignore,
  [MessageType.Election]: ignore,
  [MessageType.LeaderHeartbeat]: (r) => r.broadcastHeartbeat(),
  [MessageType.Propose]: onPropose,
  [MessageType.SnapshotStatus]: onSnapshotStatus,
  [MessageType.Unreachable]: onUnreachable,
  [MessageType.CheckQuorum]: onCheckQuorum,
  [MessageType.ReadIndex]: onLeaderReadIndex,
  [MessageType.LeaderTransfer]: onLeaderTransfer,
  [MessageType.Replicate]: ignore,
  [MessageType.ReplicateResp]: onReplicateResp,
  [MessageType.RequestVote]: onVoteRequest,
  [MessageType.RequestVoteResp]: ignore,
  [MessageType.RequestPreVote]: onVoteRequest,
  [MessageType.RequestPreVoteResp]: ignore,
  [MessageType.InstallSnapshot]: ignore,
  [MessageType.Heartbeat]: ignore,
  [MessageType.HeartbeatResp]: onHeartbeatResp,
  [MessageType.ReadIndexResp]: ignore,
  [MessageType.TimeoutNow]: ignore,
  [MessageType.Quiesce]: ignore,
  [MessageType.RateLimit]: onRateLimit,
  [MessageType.ClusterIdentityMismatch]: ignore,
  [MessageType.ReplicaRemoved]: ignore,
};

/** The dispatch table of every role. */
export const HANDLERS: Readonly<Record<Role, Table>> = {
  [Role.Follower]: followerTable,
  [Role.PreCandidate]: preCandidateTable,
  [Role.Candidate]: candidateTable,
  [Role.Leader]: leaderTable,
  [Role.NonVoting]: nonVotingTable,
  [Role.Witness]: witnessTable,
};

/**
 * Verifies that every role's table has a handler for every message kind.
 * @throws Error naming the first gap.
 */
export function checkHandlerTables(): void {
  for (const role of Object.values(Role)) {
    const table = HANDLERS[role];
    for (const type of Object.values(MessageType)) {
      if (typeof table[type] !== 'function') throw new Error(`no handler for message ${type} in role ${role}`);
    }
  }
}
checkHandlerTables();

/** Messages that only a leader sends in its term. */
function fromLeader(t: MessageType): boolean {
  return t === MessageType.Replicate || t === MessageType.Heartbeat || t === MessageType.InstallSnapshot
    || t === MessageType.TimeoutNow || t === MessageType.Quiesce;
}

/** Messages that do not count as activity for quiescence. */
function isQuietMessage(t: MessageType): boolean {
  return t === MessageType.Heartbeat || t === MessageType.HeartbeatResp || t === MessageType.Quiesce
    || t === MessageType.LocalTick || t === MessageType.LeaderHeartbeat || t === MessageType.CheckQuorum
    || t === MessageType.RateLimit || t === MessageType.Unreachable;
}

/**
 * Steps one message: term rules first (§5.1, the lease of §6 / check-quorum, pre-vote §9.6),
 * then the role's handler.
 */
export function step(r: Raft, m: Message): void {
  // A removed replica that never learnt of its removal must not disturb the shard (thesis
  // §4.2.3): nothing it sends is heard.
  if (m.from !== r.id && r.membership.removed.has(m.from)) return;
  if (!isQuietMessage(m.type)) r.activity();
  if (m.term > r.term) {
    const isVote = m.type === MessageType.RequestVote || m.type === MessageType.RequestPreVote;
    if (isVote) {
      // Lease: while we hear from a live leader, a vote request is a disruption, not a need.
      if (inFollowerLease(r) && m.hint !== HINT_TRANSFER) return;
    }
    const keepTerm = m.type === MessageType.RequestPreVote
      || (m.type === MessageType.RequestPreVoteResp && !m.reject);
    if (!keepTerm) r.becomeFollower(m.term, fromLeader(m.type) ? m.from : 0);
  } else if (m.term < r.term && m.term !== 0) {
    // Without check-quorum or pre-vote, a replica ahead in term reaches the stale leader by
    // campaigning; one that cannot campaign (non-voting, or a new voter that does not know it
    // is one yet, its term raised by a removed replica's vote requests) must answer instead.
    const answer = r.cfg.checkQuorum || r.cfg.preVote || !r.canCampaign();
    if (answer && (m.type === MessageType.Heartbeat || m.type === MessageType.Replicate)) {
      // Tell a stale leader our term, so that it steps down (it may be cut off by pre-vote).
      r.send(message({ type: MessageType.ReplicateResp, to: m.from }));
    } else if (m.type === MessageType.RequestPreVote) {
      r.send(message({ type: MessageType.RequestPreVoteResp, to: m.from, term: r.term, reject: true }));
    }
    return;
  }
  // A leader's refusal of proposals forwarded from here: the same in every role.
  if (isRefusalNotice(m)) {
    onRefusalNotice(r, m);
    return;
  }
  HANDLERS[r.role][m.type](r, m);
}

/** Advances logical time by one tick. */
export function tick(r: Raft): void {
  r.rateLimiter.onTick();
  if (r.quiesced) return;
  r.idleTicks++;
  r.ticks++;
  if (r.role === Role.Leader) tickLeader(r);
  else tickFollower(r);
}

function tickFollower(r: Raft): void {
  r.electionElapsed++;
  if (r.cfg.quiesce && r.idleTicks >= r.cfg.electionTicks * QUIESCE_IDLE_ELECTIONS) r.quiesced = true;
  if (r.rateLimiter.enabled && r.leaderId !== 0 && r.leaderId !== r.id && r.electionElapsed % r.cfg.heartbeatTicks === 0) {
    r.send(message({ type: MessageType.RateLimit, to: r.leaderId, hint: r.rateLimiter.size }));
  }
  if (r.canCampaign() && r.electionElapsed >= r.randomizedElectionTimeout) {
    // Stepped before the timer is reset: in lease mode `onElection` refuses while in lease.
    step(r, message({ type: MessageType.Election, from: r.id }));
    r.electionElapsed = 0;
  }
}

function tickLeader(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.cfg.electionTicks) {
    r.electionElapsed = 0;
    if (r.cfg.checkQuorum) step(r, message({ type: MessageType.CheckQuorum, from: r.id }));
    if (r.role !== Role.Leader) return;
    // A transfer that did not finish within an election timeout is abandoned.
    r.leaderTransferTarget = 0;
  }
  if (r.cfg.quiesce && r.idleTicks >= r.cfg.electionTicks * QUIESCE_IDLE_ELECTIONS) {
    r.forEachRemote((id) => r.send(message({ type: MessageType.Quiesce, to: id })));
    r.quiesced = true;
    return;
  }
  // Membership changes held for the live-quorum view (`acceptProposal`) are asked again.
  if (r.deferredChanges.length > 0) releaseDeferredChanges(r, acceptProposal);
  if (r.heartbeatElapsed >= r.cfg.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    step(r, message({ type: MessageType.LeaderHeartbeat, from: r.id }));
    // An auto-leave held back (a leader transfer was under way) is retried.
    r.maybeAutoLeave();
  }
}

/** A shard idle for this many election timeouts quiesces (when enabled). */
export const QUIESCE_IDLE_ELECTIONS = 10;
