/**
 * The schema of a log entry, in the two layouts the formats use (the fields and their order
 * are the same; only the integer family differs):
 *
 * ```
 * entry = term index type:u8 key clientId seriesId respondedTo cmd:bytes
 * ```
 *
 * - fixed (the WAL): every integer a little-endian u64, `cmd` prefixed by a u32 length. The
 *   header has a constant size ({@link ENTRY_FIXED_HEADER_BYTES}), so the WAL's index can
 *   find an entry's length, index and term in place ({@link fixedEntryBytesAt} and friends).
 * - varint (the wire): every integer a varint, `cmd` prefixed by a varint length.
 */
import { CodecError } from '../errors.js';
import { EntryType, type Entry } from '../core/types.js';
import { getU32LE, type Reader } from './reader.js';
import type { Writer } from './writer.js';

const ENTRY_TYPES = new Set<number>(Object.values(EntryType));

/** Bytes of a fixed-layout entry besides its command: six u64, the type byte, the cmd length. */
export const ENTRY_FIXED_HEADER_BYTES = 8 * 6 + 1 + 4;
/** The fewest bytes a varint-layout entry takes (a bound for counts read from the wire). */
export const ENTRY_VARINT_MIN_BYTES = 8;

/** Encoded size of an entry in the fixed layout. */
export function fixedEntryBytes(e: Entry): number { return ENTRY_FIXED_HEADER_BYTES + e.cmd.length; }

function checkType(type: number): Entry['type'] {
  if (!ENTRY_TYPES.has(type)) throw new CodecError(`bad entry type ${type}`);
  return type as Entry['type'];
}

/** Appends an entry in the fixed layout (one `ensure` for the whole entry). */
export function writeEntryFixed(w: Writer, e: Entry): void {
  w.ensure(ENTRY_FIXED_HEADER_BYTES + e.cmd.length);
  w.u64le(e.term); w.u64le(e.index); w.u8(e.type); w.u64le(e.key); w.u64le(e.clientId);
  w.u64le(e.seriesId); w.u64le(e.respondedTo); w.bytes32(e.cmd);
}

/**
 * Reads a fixed-layout entry. The command is a view into `r.buf` when `copy` is false (the
 * caller owns a fresh buffer), else a copy.
 * @throws CodecError on malformed bytes.
 */
export function readEntryFixed(r: Reader, copy = true): Entry {
  const term = r.u64le(), index = r.u64le(), type = checkType(r.u8());
  const key = r.u64le(), clientId = r.u64le(), seriesId = r.u64le(), respondedTo = r.u64le();
  return { term, index, type, key, clientId, seriesId, respondedTo, cmd: r.bytes32(copy) };
}

/**
 * Length of the fixed-layout entry at `pos` (checked against `end`), from its header.
 * @throws CodecError when the entry runs past `end`.
 */
export function fixedEntryBytesAt(buf: Uint8Array, pos: number, end: number): number {
  if (pos + ENTRY_FIXED_HEADER_BYTES > end) throw new CodecError(`truncated entry at ${pos}`);
  const n = ENTRY_FIXED_HEADER_BYTES + getU32LE(buf, pos + ENTRY_FIXED_HEADER_BYTES - 4);
  if (pos + n > end) throw new CodecError(`entry at ${pos} runs past its record`);
  return n;
}

/** The index of the fixed-layout entry at `pos`. @throws CodecError above 2^53. */
export function fixedEntryIndexAt(buf: Uint8Array, pos: number): number {
  const hi = getU32LE(buf, pos + 12);
  if (hi >= 0x20_0000) throw new CodecError(`entry index above 2^53 at ${pos}`);
  return hi * 0x1_0000_0000 + getU32LE(buf, pos + 8);
}

/** The term of the fixed-layout entry at `pos` (not range-checked: the entry was read before). */
export function fixedEntryTermAt(buf: Uint8Array, pos: number): number {
  return getU32LE(buf, pos + 4) * 0x1_0000_0000 + getU32LE(buf, pos);
}

/** Appends an entry in the varint layout. @throws CodecError if an integer is not a safe non-negative one. */
export function writeEntryVarint(w: Writer, e: Entry): void {
  w.varint(e.term); w.varint(e.index); w.u8(e.type); w.varint(e.key); w.varint(e.clientId);
  w.varint(e.seriesId); w.varint(e.respondedTo); w.bytesVar(e.cmd);
}

/** Reads a varint-layout entry; `cmd` is a view into the input (no copy). @throws CodecError */
export function readEntryVarint(r: Reader): Entry {
  const term = r.varint(), index = r.varint(), type = checkType(r.u8());
  return {
    term, index, type, key: r.varint(), clientId: r.varint(), seriesId: r.varint(),
    respondedTo: r.varint(), cmd: r.bytesVar(),
  };
}
