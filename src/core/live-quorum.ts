/**
 * The leader's live-quorum check before it appends a membership change (etcd's
 * `--strict-reconfig-check`: `IsReadyToAddVotingMember` / `mayAddMember` / `mayRemoveMember`).
 * A change that adds a voting member (a new voter or witness, a promoted non-voting member,
 * the voter adds of a joint change) or takes a live one away (a removal, a demotion) is refused
 * when the configuration it produces would not have a quorum of live voting members in each
 * half: a voter added on a host where it can never start would otherwise commit and leave the
 * shard unable to elect or commit, for good.
 *
 * Live, as the leader sees it: the leader itself; a member that answered within the last
 * election timeout (the quorum-health view); a non-voting member being promoted only if it
 * also streams (Replicate state) and has at least 90% of the leader's log (etcd's
 * `isLearnerReady`); a replica that is not a member yet never (the leader has not heard from
 * it). Unlike etcd, a one-voter shard is not let grow to two this way (etcd allows 1 → 2 for its
 * restore procedure): that is exactly the change that strands a shard when the new voter never
 * starts, and the non-voting-first path (`catchUpFirst`) grows it safely.
 *
 * Pure: the verdict is computed from the leader's state only. The refusal travels to the
 * proposer as the refused entry's `cmd` (see {@link encodeShortfall}); the proposer's host
 * turns it into a typed error.
 */
import type { Raft } from './raft.js';
import { ProgressState } from './progress.js';
import { majority } from './quorum.js';
import { applyConfigChange, validateConfigChange } from './membership.js';
import { decodeConfigChange } from '../encoding/config-change.js';
import { ConfigChangeType, type ConfigChange, type Entry, type Membership } from './types.js';

/** Why a change was refused: the half of the new configuration that would lack a live quorum. */
export interface LiveQuorumShortfall {
  /** Live voting members of that half. */
  readonly live: number;
  /** Voting members (voters and witnesses) of that half. */
  readonly voters: number;
  /** The quorum of that half. */
  readonly quorum: number;
}

/** A non-voting member is caught up enough to count as live once promoted at this share of the leader's log (etcd). */
const PROMOTE_READY_SHARE = 0.9;

function votingHalves(m: Membership): Array<Set<number>> {
  const witnesses = [...m.witnesses.keys()];
  const incoming = new Set([...m.voters.keys(), ...witnesses]);
  if (m.joint === undefined) return [incoming];
  return [incoming, new Set([...m.joint.outgoing.keys(), ...witnesses])];
}

function votingIds(m: Membership): Set<number> {
  const ids = new Set<number>();
  for (const half of votingHalves(m)) for (const id of half) ids.add(id);
  return ids;
}

/** Whether the leader `r` counts `id` as live (see the module comment); `voting`: the voting ids before the change. */
function isLive(r: Raft, id: number, voting: ReadonlySet<number>): boolean {
  if (id === r.id) return true;
  const pr = r.progressOf(id);
  if (pr === undefined || pr.lastActiveTick < 0 || r.ticks - pr.lastActiveTick > r.cfg.electionTicks) return false;
  if (voting.has(id)) return true;
  // A non-voting member being promoted: it must also be streaming and nearly caught up.
  const leaderMatch = r.progressOf(r.id)?.match ?? r.log.lastIndex();
  return pr.state === ProgressState.Replicate && pr.match >= Math.floor(leaderMatch * PROMOTE_READY_SHARE);
}

function decoded(e: Entry): ConfigChange | null {
  try {
    return decodeConfigChange(e.cmd);
  } catch {
    return null; // refused when applied, with its own reason
  }
}

/**
 * Leader: the shortfall that refuses the ConfigChange entry `e`, or null to accept it. Null
 * also when the check is off (`strictMembershipCheck`), for an initial or leave-joint change,
 * and for a change the membership refuses anyway (it is rejected when applied, as before).
 */
export function liveQuorumShortfall(r: Raft, e: Entry): LiveQuorumShortfall | null {
  if (!r.cfg.strictMembershipCheck) return null;
  const cc = decoded(e);
  if (cc === null || cc.initialize || cc.type === ConfigChangeType.LeaveJoint) return null;
  const old = r.membership;
  if (validateConfigChange(old, cc, r.cfg.orderedConfigChange) !== null) return null;
  const next = applyConfigChange(old, cc, old.configChangeId);
  const before = votingIds(old);
  const finalVoters = votingHalves(next)[0]!;
  const adds = [...votingIds(next)].some((id) => !before.has(id));
  const takesLive = [...before].some((id) => !finalVoters.has(id) && isLive(r, id, before));
  if (!adds && !takesLive) return null;
  for (const half of votingHalves(next)) {
    let live = 0;
    for (const id of half) if (isLive(r, id, before)) live++;
    const quorum = majority(half.size);
    if (live < quorum) return { live, voters: half.size, quorum };
  }
  return null;
}

/** The first bytes of a shortfall carried in a refused entry's `cmd` (a config change's payload starts with 1 or 2). */
const SHORTFALL_MAGIC = [0xf0, 0x51] as const;
const SHORTFALL_BYTES = 2 + 3 * 4;

/** Encodes `s` as the `cmd` of a refused entry (in `droppedEntries` and refusal notices). */
export function encodeShortfall(s: LiveQuorumShortfall): Uint8Array {
  const b = new Uint8Array(SHORTFALL_BYTES);
  b[0] = SHORTFALL_MAGIC[0];
  b[1] = SHORTFALL_MAGIC[1];
  const v = new DataView(b.buffer);
  v.setUint32(2, s.live);
  v.setUint32(6, s.voters);
  v.setUint32(10, s.quorum);
  return b;
}

/** The shortfall a refused entry's `cmd` carries, or null (another refusal, or a peer that does not say). */
export function decodeShortfall(cmd: Uint8Array): LiveQuorumShortfall | null {
  if (cmd.length !== SHORTFALL_BYTES || cmd[0] !== SHORTFALL_MAGIC[0] || cmd[1] !== SHORTFALL_MAGIC[1]) return null;
  const v = new DataView(cmd.buffer, cmd.byteOffset, cmd.byteLength);
  return { live: v.getUint32(2), voters: v.getUint32(6), quorum: v.getUint32(10) };
}
