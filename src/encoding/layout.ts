/**
 * The two integer layouts of the formats, as values a schema is written against once:
 *
 * - {@link FIXED} (the WAL, the snapshot files): integers are little-endian u64, counts and
 *   length prefixes little-endian u32; byte strings are copied out on read (records outlive
 *   the WAL's read buffers).
 * - {@link VARINT} (the wire): integers, counts and length prefixes are varints; byte strings
 *   are views into the input on read (a batch is decoded from a buffer of its own).
 *
 * The schemas that are rarely written (membership, snapshot record) take a layout argument,
 * one indirect call per field. The hot one (entry: the WAL append, Replicate batches) has one
 * straight-line function per layout instead (entry.ts).
 */
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/** How a schema's integers, counts and strings are laid out. */
export interface Layout {
  /** Writes a non-negative safe integer. @throws CodecError (varint) on an unencodable value. */
  uint(w: Writer, v: number): void;
  /** Reads an integer. @throws CodecError */
  readUint(r: Reader): number;
  /** Writes an item count. */
  count(w: Writer, n: number): void;
  /**
   * Reads an item count, refusing one whose items (at least `minItemBytes` each) cannot fit in
   * what is left. @throws CodecError
   */
  readCount(r: Reader, minItemBytes: number): number;
  /** Writes a length-prefixed UTF-8 string. */
  str(w: Writer, s: string): void;
  /** Reads a length-prefixed strict UTF-8 string. @throws CodecError */
  readStr(r: Reader): string;
  /** Writes a length-prefixed byte string. */
  bytes(w: Writer, b: Uint8Array): void;
  /** Reads a length-prefixed byte string (a copy in FIXED, a view in VARINT). @throws CodecError */
  readBytes(r: Reader): Uint8Array;
}

/** Fixed-width little-endian layout (the WAL, the snapshot files). */
export const FIXED: Layout = Object.freeze({
  uint: (w: Writer, v: number): void => w.u64le(v),
  readUint: (r: Reader): number => r.u64le(),
  count: (w: Writer, n: number): void => w.u32le(n),
  readCount: (r: Reader, minItemBytes: number): number => r.count32(minItemBytes),
  str: (w: Writer, s: string): void => w.str32(s),
  readStr: (r: Reader): string => r.str32(),
  bytes: (w: Writer, b: Uint8Array): void => w.bytes32(b),
  readBytes: (r: Reader): Uint8Array => r.bytes32(true),
});

/** Varint layout (the wire). */
export const VARINT: Layout = Object.freeze({
  uint: (w: Writer, v: number): void => w.varint(v),
  readUint: (r: Reader): number => r.varint(),
  count: (w: Writer, n: number): void => w.varint(n),
  readCount: (r: Reader, minItemBytes: number): number => r.count(minItemBytes),
  str: (w: Writer, s: string): void => w.strVar(s),
  readStr: (r: Reader): string => r.strVar(),
  bytes: (w: Writer, b: Uint8Array): void => w.bytesVar(b),
  readBytes: (r: Reader): Uint8Array => r.bytesVar(),
});
