/**
 * Single-replica membership changes (Raft thesis §4.1): validating a change against the
 * current membership and computing the membership it produces. Every replica applies the same
 * committed changes in the same order to the same membership, so they reach the same verdict.
 * A change's encoding (the ConfigChange entry's payload) is in src/encoding/config-change.ts.
 */
import { ConfigChangeType, type ConfigChange, type Membership } from './types.js';

/** Why a change is refused; null when it is valid. */
export function validateConfigChange(m: Membership, cc: ConfigChange, ordered: boolean): string | null {
  if (cc.initialize) return null;
  if (cc.replicaId <= 0) return 'replica id must be positive';
  if ((cc.ordered ?? ordered) && cc.configChangeId !== m.configChangeId) {
    return `stale membership version ${cc.configChangeId}, current is ${m.configChangeId}`;
  }
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
      if (isVoter) return `replica ${id} is a voter and cannot become non-voting`;
      if (isWitness) return `replica ${id} is a witness`;
      if (addressClash(m.nonVoting.get(id))) return `replica ${id} already has another address`;
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

/** The membership after `cc`, applied as the config-change entry at `index`. */
export function applyConfigChange(m: Membership, cc: ConfigChange, index: number): Membership {
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
    case ConfigChangeType.AddNonVoting:
      nonVoting.set(id, cc.address);
      break;
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

/** Whether `id` belongs to the membership in any role. */
export function isMember(m: Membership, id: number): boolean {
  return m.voters.has(id) || m.nonVoting.has(id) || m.witnesses.has(id);
}

/** A membership from initial voters (bootstrap). */
export function membershipOf(voters: ReadonlyMap<number, string>, configChangeId = 0): Membership {
  return { configChangeId, voters: new Map(voters), nonVoting: new Map(), witnesses: new Map(), removed: new Set() };
}
