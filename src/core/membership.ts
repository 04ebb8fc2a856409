/**
 * Single-replica membership changes (Raft thesis §4.1): validating a change against the
 * current membership and computing the membership it produces. Every replica applies the same
 * committed changes in the same order to the same membership, so they reach the same verdict.
 */
import { CodecError } from '../errors.js';
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

const CC_VERSION = 1;
const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: true });

/** Flag bits of a config change's third byte (0.1 wrote 0 or 1: initialize only). */
const CC_INITIALIZE = 1;
/** The proposer said whether the version is checked (bit CC_ORDERED holds its answer). */
const CC_ORDER_GIVEN = 2;
const CC_ORDERED = 4;

/** Encodes a config change as the payload of a ConfigChange entry. */
export function encodeConfigChange(cc: ConfigChange): Uint8Array {
  const addr = utf8.encode(cc.address);
  const out = new Uint8Array(1 + 1 + 1 + 8 + 8 + 4 + addr.length);
  const dv = new DataView(out.buffer);
  out[0] = CC_VERSION;
  out[1] = cc.type;
  out[2] = (cc.initialize ? CC_INITIALIZE : 0) | (cc.ordered === undefined ? 0 : CC_ORDER_GIVEN | (cc.ordered ? CC_ORDERED : 0));
  dv.setFloat64(3, cc.configChangeId);
  dv.setFloat64(11, cc.replicaId);
  dv.setUint32(19, addr.length);
  out.set(addr, 23);
  return out;
}

/** Decodes a ConfigChange entry's payload. @throws CodecError on malformed bytes. */
export function decodeConfigChange(b: Uint8Array): ConfigChange {
  if (b.length < 23 || b[0] !== CC_VERSION) throw new CodecError('config change: bad header');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = b[1] as number;
  if (type > ConfigChangeType.AddWitness) throw new CodecError(`config change: bad type ${type}`);
  const len = dv.getUint32(19);
  if (23 + len !== b.length) throw new CodecError('config change: bad length');
  const configChangeId = dv.getFloat64(3);
  const replicaId = dv.getFloat64(11);
  if (!Number.isSafeInteger(configChangeId) || !Number.isSafeInteger(replicaId)) {
    throw new CodecError('config change: bad id');
  }
  let address: string;
  try {
    address = utf8d.decode(b.subarray(23));
  } catch {
    throw new CodecError('config change: address is not UTF-8');
  }
  const flags = b[2] as number;
  if (flags > 7 || (flags & (CC_ORDER_GIVEN | CC_ORDERED)) === CC_ORDERED) throw new CodecError(`config change: bad flags ${flags}`);
  const cc = { type: type as ConfigChangeType, initialize: (flags & CC_INITIALIZE) !== 0, configChangeId, replicaId, address };
  return (flags & CC_ORDER_GIVEN) === 0 ? cc : { ...cc, ordered: (flags & CC_ORDERED) !== 0 };
}
