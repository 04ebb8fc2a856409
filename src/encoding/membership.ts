/**
 * The schema of a membership (and of the replica-id → address maps it is made of), in the
 * fixed layout (the WAL, the snapshot data file's membership section, the snapshot metadata
 * file) and the varint layout (the wire):
 *
 * ```
 * membership = configChangeId voters nonVoting witnesses removedCount id*
 * map        = count (id address:str)*
 * ```
 *
 * fixed: ids and configChangeId u64 LE, counts and string lengths u32 LE; varint: all varints.
 */
import type { Membership } from '../core/types.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/** The fewest bytes one varint-layout map item takes (an id and an empty string's length). */
const MAP_ITEM_VARINT_MIN_BYTES = 2;

/** Appends an id → address map in the fixed layout. */
export function writeAddressMapFixed(w: Writer, m: ReadonlyMap<number, string>): void {
  w.u32le(m.size);
  for (const [id, addr] of m) { w.u64le(id); w.str32(addr); }
}

/** Reads a fixed-layout id → address map. @throws CodecError */
export function readAddressMapFixed(r: Reader): Map<number, string> {
  const n = r.count32(1);
  const m = new Map<number, string>();
  for (let i = 0; i < n; i++) { const id = r.u64le(); m.set(id, r.str32()); }
  return m;
}

/** Appends an id → address map in the varint layout. @throws CodecError on an id that is not a safe non-negative integer. */
export function writeAddressMapVarint(w: Writer, m: ReadonlyMap<number, string>): void {
  w.varint(m.size);
  for (const [id, addr] of m) { w.varint(id); w.strVar(addr); }
}

/** Reads a varint-layout id → address map. @throws CodecError */
export function readAddressMapVarint(r: Reader): Map<number, string> {
  const n = r.count(MAP_ITEM_VARINT_MIN_BYTES);
  const m = new Map<number, string>();
  for (let i = 0; i < n; i++) { const id = r.varint(); m.set(id, r.strVar()); }
  return m;
}

/** Appends a membership in the fixed layout. */
export function writeMembershipFixed(w: Writer, m: Membership): void {
  w.u64le(m.configChangeId);
  writeAddressMapFixed(w, m.voters); writeAddressMapFixed(w, m.nonVoting); writeAddressMapFixed(w, m.witnesses);
  w.u32le(m.removed.size);
  for (const id of m.removed) w.u64le(id);
}

/** Reads a fixed-layout membership. @throws CodecError */
export function readMembershipFixed(r: Reader): Membership {
  const configChangeId = r.u64le();
  const voters = readAddressMapFixed(r), nonVoting = readAddressMapFixed(r), witnesses = readAddressMapFixed(r);
  const n = r.count32(1);
  const removed = new Set<number>();
  for (let i = 0; i < n; i++) removed.add(r.u64le());
  return { configChangeId, voters, nonVoting, witnesses, removed };
}

/** Appends a membership in the varint layout. @throws CodecError on an id that is not a safe non-negative integer. */
export function writeMembershipVarint(w: Writer, m: Membership): void {
  w.varint(m.configChangeId);
  writeAddressMapVarint(w, m.voters); writeAddressMapVarint(w, m.nonVoting); writeAddressMapVarint(w, m.witnesses);
  w.varint(m.removed.size);
  for (const id of m.removed) w.varint(id);
}

/** Reads a varint-layout membership. @throws CodecError */
export function readMembershipVarint(r: Reader): Membership {
  const configChangeId = r.varint();
  const voters = readAddressMapVarint(r), nonVoting = readAddressMapVarint(r), witnesses = readAddressMapVarint(r);
  const n = r.count(1);
  const removed = new Set<number>();
  for (let i = 0; i < n; i++) removed.add(r.varint());
  return { configChangeId, voters, nonVoting, witnesses, removed };
}

/** Encodes a membership alone (fixed layout): the membership section of a snapshot data file. */
export function encodeMembership(m: Membership): Uint8Array {
  const w = new Writer(256);
  writeMembershipFixed(w, m);
  return Uint8Array.from(w.view());
}

/** Decodes {@link encodeMembership}; every byte must belong to it. @throws CodecError */
export function decodeMembership(b: Uint8Array): Membership {
  const r = new Reader(b);
  const m = readMembershipFixed(r);
  r.done();
  return m;
}
