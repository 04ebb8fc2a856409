/**
 * The state-hash marker (dragonboat's IHash, compared across replicas): an internal Metadata
 * entry that `NodeHost.verifyShard` proposes. Every replica applying it asks its state machine
 * for `getHash()` with everything below the marker applied and nothing after it, so replicas
 * hash the same state; the entry never reaches the user's `update`.
 */
import { EntryType, type Entry } from '../core/types.js';
import type { AnyStateMachine } from '../contracts/state-machine.js';

/** The marker's payload: no user entry is of type Metadata, so it cannot be mistaken. */
export const HASH_MARKER: Uint8Array = new TextEncoder().encode('sampan:state-hash:v1');

/** Whether `e` is a state-hash marker. */
export function isHashMarker(e: Entry): boolean {
  if (e.type !== EntryType.Metadata || e.cmd.length !== HASH_MARKER.length) return false;
  for (let i = 0; i < HASH_MARKER.length; i++) if (e.cmd[i] !== HASH_MARKER[i]) return false;
  return true;
}

/** Whether the state machine implements `getHash`. */
export function hasHash(sm: AnyStateMachine): boolean {
  return typeof sm.sm.getHash === 'function';
}

/**
 * The state machine's hash modulo 2^64, or null when it has no `getHash`.
 * @throws whatever `getHash` throws (the replica fails, as for `update`).
 */
export async function stateHash(sm: AnyStateMachine): Promise<bigint | null> {
  if (sm.sm.getHash === undefined) return null;
  const h: unknown = await sm.sm.getHash();
  if (typeof h !== 'bigint') throw new TypeError(`getHash returned ${typeof h}, not a bigint`);
  return BigInt.asUintN(64, h);
}

/** A hash as 16 hex digits. */
export function formatHash(h: bigint): string {
  return h.toString(16).padStart(16, '0');
}
