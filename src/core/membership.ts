/**
 * Single-replica membership changes (Raft thesis §4.1): validating a change against the
 * current membership and computing the membership it produces. Every replica applies the same
 * committed changes in the same order to the same membership, so they reach the same verdict.
 * A change's encoding (the ConfigChange entry's payload) is in src/encoding/config-change.ts.
 */
import { InvalidOperationError } from '../errors.js';
import { planEnterJoint, planLeaveJoint } from './confchange.js';
import { ConfigChangeType, type ConfigChange, type Membership } from './types.js';

/** Why a change is refused; null when it is valid. Joint changes are planned by confchange.ts. */
export function validateConfigChange(m: Membership, cc: ConfigChange, ordered: boolean): string | null {
  if (cc.initialize) return null;
  if (cc.type === ConfigChangeType.LeaveJoint) {
    const p = planLeaveJoint(m, 0);
    return p.ok ? null : p.reason;
  }
  if (cc.type !== ConfigChangeType.EnterJoint && cc.replicaId <= 0) return 'replica id must be positive';
  if ((cc.ordered ?? ordered) && cc.configChangeId !== m.configChangeId) {
    return `stale membership version ${cc.configChangeId}, current is ${m.configChangeId}`;
  }
  if (cc.type === ConfigChangeType.EnterJoint) {
    const p = planEnterJoint(m, cc, 0);
    return p.ok ? null : p.reason;
  }
  if (m.joint !== undefined) return 'a single change cannot be applied while the configuration is joint';
  if (m.removed.has(cc.replicaId)) return `replica ${cc.replicaId} was removed and cannot return`;
  const id = cc.replicaId;
  const isVoter = m.voters.has(id);
  const isNonVoting = m.nonVoting.has(id);
  const isWitness = m.witnesses.has(id);
  const addressClash = (addr: string | undefined): boolean => addr !== undefined && addr !== cc.address;
  switch (cc.type) {
    case ConfigChangeType.AddVoter:
      if (isWitness) return `replica ${id} is a witness and cannot become a voter`;
      if (addressClash(m.voters.get(id) ?? m.nonVoting.get(id))) return `replica ${id} already has another address`;
      return null;
    case ConfigChangeType.AddNonVoting:
      // A voter is demoted (etcd: a voter added as a learner); never the last one.
      if (isVoter && m.voters.size === 1) return 'the last voter cannot be demoted';
      if (isWitness) return `replica ${id} is a witness`;
      if (addressClash(m.nonVoting.get(id) ?? m.voters.get(id))) return `replica ${id} already has another address`;
      return null;
    case ConfigChangeType.AddWitness:
      if (isVoter || isNonVoting) return `replica ${id} is already a member and cannot become a witness`;
      if (addressClash(m.witnesses.get(id))) return `replica ${id} already has another address`;
      return null;
    case ConfigChangeType.RemoveReplica:
      // Removing a non-member would tombstone an id that was never used: refuse, record nothing.
      if (!isVoter && !isNonVoting && !isWitness) return `replica ${id} is not a member`;
      if (isVoter && m.voters.size === 1) return 'the last voter cannot be removed';
      return null;
    default:
      return `unknown config change type ${String(cc.type)}`;
  }
}

/**
 * The membership after `cc`, applied as the config-change entry at `index`.
 * @throws InvalidOperationError for a joint change that {@link validateConfigChange} refuses (validate first).
 */
export function applyConfigChange(m: Membership, cc: ConfigChange, index: number): Membership {
  if (cc.type === ConfigChangeType.EnterJoint || cc.type === ConfigChangeType.LeaveJoint) {
    const p = cc.type === ConfigChangeType.EnterJoint ? planEnterJoint(m, cc, index) : planLeaveJoint(m, index);
    if (!p.ok) throw new InvalidOperationError(`invalid joint change: ${p.reason}`);
    return p.membership;
  }
  const voters = new Map(m.voters);
  const nonVoting = new Map(m.nonVoting);
  const witnesses = new Map(m.witnesses);
  const removed = new Set(m.removed);
  const id = cc.replicaId;
  switch (cc.type) {
    case ConfigChangeType.AddVoter:
      nonVoting.delete(id);
      voters.set(id, cc.address);
      break;
    case ConfigChangeType.AddNonVoting: {
      // A demoted voter keeps its address.
      const addr = voters.get(id) ?? cc.address;
      voters.delete(id);
      nonVoting.set(id, cc.address === '' ? addr : cc.address);
      break;
    }
    case ConfigChangeType.AddWitness:
      witnesses.set(id, cc.address);
      break;
    case ConfigChangeType.RemoveReplica:
      voters.delete(id);
      nonVoting.delete(id);
      witnesses.delete(id);
      removed.add(id);
      break;
  }
  return { configChangeId: index, voters, nonVoting, witnesses, removed };
}

/** Whether `id` belongs to the membership in any role (either half of a joint one). */
export function isMember(m: Membership, id: number): boolean {
  return m.voters.has(id) || m.nonVoting.has(id) || m.witnesses.has(id)
    || (m.joint !== undefined && (m.joint.outgoing.has(id) || m.joint.nonVotingNext.has(id)));
}

/** The address of `id` in any role (either half of a joint one), or undefined. */
export function addressOf(m: Membership, id: number): string | undefined {
  return m.voters.get(id) ?? m.nonVoting.get(id) ?? m.witnesses.get(id) ?? m.joint?.outgoing.get(id);
}

/** A membership from initial voters (bootstrap). */
export function membershipOf(voters: ReadonlyMap<number, string>, configChangeId = 0): Membership {
  return { configChangeId, voters: new Map(voters), nonVoting: new Map(), witnesses: new Map(), removed: new Set() };
}
