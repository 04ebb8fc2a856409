/**
 * The change planner for joint consensus (thesis §4.3; etcd's `confchange/`): validates an
 * EnterJoint or LeaveJoint change against the current membership and computes the membership
 * it produces. Pure: every replica plans the same committed change against the same
 * membership and reaches the same verdict.
 *
 * EnterJoint keeps the current voters as the outgoing half and applies every op to the
 * incoming half: AddVoter adds a voter or promotes a non-voting member; AddNonVoting adds one
 * or demotes a voter (it stays a voter of the outgoing half, and is non-voting once the joint
 * configuration is left: etcd's LearnersNext); RemoveReplica removes a member (a voter stays in
 * the outgoing half until the leave; a non-voting member leaves at once). Ops apply in order.
 * LeaveJoint makes the incoming half the whole configuration and records the replicas that
 * left as removed. Witnesses are the same in both halves: they change one at a time only.
 */
import { ConfigChangeType, type ConfigChange, type JointState, type Membership } from './types.js';

/** The outcome of planning a change: the new membership, or why the change is refused. */
export type Plan = {
  /** The change is valid. */
  readonly ok: true;
  /** The membership it produces. */
  readonly membership: Membership;
} | {
  /** The change is refused. */
  readonly ok: false;
  /** Why, in words (the RejectedError message a caller sees). */
  readonly reason: string;
};

function refuse(reason: string): Plan {
  return { ok: false, reason };
}

/** Plans entering a joint configuration with `cc.ops`, as the entry at `index`. */
export function planEnterJoint(m: Membership, cc: ConfigChange, index: number): Plan {
  if (m.joint !== undefined) return refuse('the configuration is already joint');
  if (m.voters.size === 0) return refuse('a configuration with no voters cannot become joint');
  const ops = cc.ops ?? [];
  if (ops.length === 0) return refuse('a joint change needs at least one operation');
  const voters = new Map(m.voters);
  const nonVoting = new Map(m.nonVoting);
  const nonVotingNext = new Map<number, string>();
  const removed = new Set(m.removed);
  for (const op of ops) {
    const id = op.replicaId;
    if (!Number.isSafeInteger(id) || id <= 0) return refuse('replica id must be positive');
    if (m.removed.has(id)) return refuse(`replica ${id} was removed and cannot return`);
    if (m.witnesses.has(id)) return refuse(`replica ${id} is a witness: witnesses change one at a time`);
    const known = voters.get(id) ?? nonVoting.get(id) ?? nonVotingNext.get(id) ?? m.voters.get(id);
    const clash = known !== undefined && op.address !== '' && op.address !== known;
    switch (op.type) {
      case ConfigChangeType.AddVoter: {
        if (clash) return refuse(`replica ${id} already has another address`);
        const addr = known ?? op.address;
        nonVoting.delete(id);
        nonVotingNext.delete(id);
        voters.set(id, addr);
        break;
      }
      case ConfigChangeType.AddNonVoting: {
        if (clash) return refuse(`replica ${id} already has another address`);
        const addr = known ?? op.address;
        voters.delete(id);
        // A voter of the outgoing half keeps voting there until the leave.
        if (m.voters.has(id)) nonVotingNext.set(id, addr);
        else nonVoting.set(id, addr);
        break;
      }
      case ConfigChangeType.RemoveReplica:
        if (known === undefined || (!voters.has(id) && !nonVoting.has(id) && !nonVotingNext.has(id))) {
          return refuse(`replica ${id} is not a member`);
        }
        voters.delete(id);
        nonVotingNext.delete(id);
        if (nonVoting.delete(id)) removed.add(id);
        break;
      default:
        return refuse(`operation ${String(op.type)} is not allowed in a joint change`);
    }
  }
  if (voters.size === 0) return refuse('a joint change cannot remove every voter');
  const joint: JointState = { outgoing: new Map(m.voters), nonVotingNext, autoLeave: cc.autoLeave === true };
  return { ok: true, membership: { configChangeId: index, voters, nonVoting, witnesses: new Map(m.witnesses), removed, joint } };
}

/** Plans leaving the joint configuration, as the entry at `index`. */
export function planLeaveJoint(m: Membership, index: number): Plan {
  const j = m.joint;
  if (j === undefined) return refuse('the configuration is not joint');
  const nonVoting = new Map(m.nonVoting);
  for (const [id, addr] of j.nonVotingNext) nonVoting.set(id, addr);
  const removed = new Set(m.removed);
  for (const id of j.outgoing.keys()) {
    if (!m.voters.has(id) && !nonVoting.has(id)) removed.add(id);
  }
  return {
    ok: true,
    membership: { configChangeId: index, voters: new Map(m.voters), nonVoting, witnesses: new Map(m.witnesses), removed },
  };
}

/** Ids of the replicas that a joint change's leave will remove (voters of the outgoing half only). */
export function leavingIds(m: Membership): number[] {
  const j = m.joint;
  if (j === undefined) return [];
  return [...j.outgoing.keys()].filter((id) => !m.voters.has(id) && !j.nonVotingNext.has(id));
}
