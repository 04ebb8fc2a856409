/**
 * The schema of a membership (and of the replica-id → address maps it is made of), written
 * once for both layouts (layout.ts): FIXED in the WAL, the snapshot data file's membership
 * section and the snapshot metadata file; VARINT on the wire.
 *
 * ```
 * membership = configChangeId voters nonVoting witnesses removedCount id*
 * map        = count (id address:str)*
 * ```
 */
import type { Membership } from '../core/types.js';
import { FIXED, type Layout } from './layout.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/** The fewest bytes one map item takes in any layout (an id and an empty string's length). */
const MAP_ITEM_MIN_BYTES = 2;

/** Appends an id → address map. */
export function writeAddressMap(w: Writer, m: ReadonlyMap<number, string>, l: Layout): void {
  l.count(w, m.size);
  for (const [id, addr] of m) { l.uint(w, id); l.str(w, addr); }
}

/** Reads an id → address map. @throws CodecError */
export function readAddressMap(r: Reader, l: Layout): Map<number, string> {
  const n = l.readCount(r, MAP_ITEM_MIN_BYTES);
  const m = new Map<number, string>();
  for (let i = 0; i < n; i++) { const id = l.readUint(r); m.set(id, l.readStr(r)); }
  return m;
}

/** Appends a membership. @throws CodecError (VARINT) on an id that is not a safe non-negative integer. */
export function writeMembership(w: Writer, m: Membership, l: Layout): void {
  l.uint(w, m.configChangeId);
  writeAddressMap(w, m.voters, l); writeAddressMap(w, m.nonVoting, l); writeAddressMap(w, m.witnesses, l);
  l.count(w, m.removed.size);
  for (const id of m.removed) l.uint(w, id);
}

/** Reads a membership. @throws CodecError */
export function readMembership(r: Reader, l: Layout): Membership {
  const configChangeId = l.readUint(r);
  const voters = readAddressMap(r, l), nonVoting = readAddressMap(r, l), witnesses = readAddressMap(r, l);
  const n = l.readCount(r, 1);
  const removed = new Set<number>();
  for (let i = 0; i < n; i++) removed.add(l.readUint(r));
  return { configChangeId, voters, nonVoting, witnesses, removed };
}

/** Encodes a membership alone (FIXED): the membership section of a snapshot data file. */
export function encodeMembership(m: Membership): Uint8Array {
  const w = new Writer(256);
  writeMembership(w, m, FIXED);
  return Uint8Array.from(w.view());
}

/** Decodes {@link encodeMembership}; every byte must belong to it. @throws CodecError */
export function decodeMembership(b: Uint8Array): Membership {
  const r = new Reader(b);
  const m = readMembership(r, FIXED);
  r.done();
  return m;
}
