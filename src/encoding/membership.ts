/**
 * The schema of a membership (and of the replica-id → address maps it is made of), written
 * once for both layouts (layout.ts): FIXED in the WAL, the snapshot data file's membership
 * section and the snapshot metadata file; VARINT on the wire.
 *
 * ```
 * membership = configChangeId voters nonVoting witnesses removedCount id*
 * map        = count (id address:str)*
 * ```
 *
 * A joint membership (one with `joint`, thesis §4.3) has its own, flagged form; one that is
 * not joint is written exactly as before joint consensus existed:
 *
 * ```
 * joint      = marker version:u8 (1) membership outgoing:map nonVotingNext:map autoLeave:u8
 * marker     = 8 bytes 0xff: no release reads it as an integer (FIXED: above 2^53, VARINT: a
 *              varint longer than 8 bytes), so readers from before joint consensus refuse the
 *              joint form with a CodecError where they expect configChangeId
 * ```
 */
import type { Membership } from '../core/types.js';
import { FIXED, type Layout } from './layout.js';
import { CodecError } from '../errors.js';
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

/** The first bytes of a joint membership (see the file comment). */
const JOINT_MARKER_BYTES = 8;
const JOINT_VERSION = 1;

function isJointMarker(r: Reader): boolean {
  if (r.end - r.pos < JOINT_MARKER_BYTES) return false;
  for (let i = 0; i < JOINT_MARKER_BYTES; i++) if (r.buf[r.pos + i] !== 0xff) return false;
  return true;
}

/** Appends a membership. @throws CodecError (VARINT) on an id that is not a safe non-negative integer. */
export function writeMembership(w: Writer, m: Membership, l: Layout): void {
  if (m.joint !== undefined) {
    for (let i = 0; i < JOINT_MARKER_BYTES; i++) w.u8(0xff);
    w.u8(JOINT_VERSION);
  }
  writeSimpleMembership(w, m, l);
  if (m.joint !== undefined) {
    writeAddressMap(w, m.joint.outgoing, l);
    writeAddressMap(w, m.joint.nonVotingNext, l);
    w.u8(m.joint.autoLeave ? 1 : 0);
  }
}

function writeSimpleMembership(w: Writer, m: Membership, l: Layout): void {
  l.uint(w, m.configChangeId);
  writeAddressMap(w, m.voters, l); writeAddressMap(w, m.nonVoting, l); writeAddressMap(w, m.witnesses, l);
  l.count(w, m.removed.size);
  for (const id of m.removed) l.uint(w, id);
}

/** Reads a membership, joint or not. @throws CodecError */
export function readMembership(r: Reader, l: Layout): Membership {
  if (!isJointMarker(r)) return readSimpleMembership(r, l);
  r.raw(JOINT_MARKER_BYTES);
  const version = r.u8();
  if (version !== JOINT_VERSION) throw new CodecError(`membership: unknown joint version ${version}`);
  const m = readSimpleMembership(r, l);
  const outgoing = readAddressMap(r, l);
  const nonVotingNext = readAddressMap(r, l);
  const autoLeave = r.u8();
  if (autoLeave > 1) throw new CodecError(`membership: bad auto-leave flag ${autoLeave}`);
  if (outgoing.size === 0) throw new CodecError('membership: joint with no outgoing voters');
  return { ...m, joint: { outgoing, nonVotingNext, autoLeave: autoLeave === 1 } };
}

function readSimpleMembership(r: Reader, l: Layout): Membership {
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
