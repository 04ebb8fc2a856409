/**
 * The one growable byte writer of every format: the WAL's records, the wire's batches, the
 * snapshot metadata. It offers both integer families the formats use: fixed-width
 * little-endian (the WAL and the snapshot files: a few plain byte stores, no branching) and
 * unsigned LEB128 varints (the wire: small values in one byte), plus the big-endian u32 the
 * wire batch header carries. Which family a value is written in is decided by its schema
 * (entry.ts, membership.ts, snapshot-meta.ts, …), not here.
 *
 * A writer is meant to be reused (reset between uses): writing allocates nothing until the
 * buffer must grow (it doubles) or {@link Writer.copyOut} takes the finished bytes. Pure: no
 * Node module, no I/O (it uses the global `Buffer` for pooled allocation and fast UTF-8).
 */
import { CodecError } from '../errors.js';

const TWO_32 = 0x1_0000_0000;

/** Stores `v` (a u32) little-endian at `at` by plain byte stores; the room must exist. */
export function putU32LE(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = v >>> 24;
}

/** Stores a non-negative safe integer as a little-endian u64 at `at`; the room must exist. */
export function putU64LE(b: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  putU32LE(b, at, v - hi * TWO_32);
  putU32LE(b, at + 4, hi);
}

/** Stores `v` (a u32) big-endian at `at`; the room must exist. */
export function putU32BE(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

/** Appends bytes and integers; grows by doubling. Never throws except {@link Writer.varint}. */
export class Writer {
  /** The backing buffer; bytes [0, pos) are written. Replaced when the writer grows. */
  buf: Buffer;
  /** Bytes written. Invariant: pos <= buf.length. */
  pos = 0;

  /** Creates a writer with `initialBytes` of room (at least 64). */
  constructor(initialBytes = 4096) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initialBytes));
  }

  /** Bytes the writer holds before it grows. */
  get capacity(): number { return this.buf.length; }

  /** Forgets the content, keeping the capacity. */
  reset(): void { this.pos = 0; }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Reserves `n` bytes (to be patched later) and returns their offset. */
  skip(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Drops everything written after `pos` (to undo a partly written record). */
  truncate(pos: number): void { this.pos = pos; }

  /** Writes one byte (the low 8 bits of `v`). */
  u8(v: number): void { this.ensure(1); this.buf[this.pos++] = v; }

  /** Writes a u32, little-endian. */
  u32le(v: number): void { this.ensure(4); putU32LE(this.buf, this.pos, v >>> 0); this.pos += 4; }

  /** Writes a non-negative safe integer as a little-endian u64 (not checked: callers' values are). */
  u64le(v: number): void { this.ensure(8); putU64LE(this.buf, this.pos, v); this.pos += 8; }

  /** Writes a u32, big-endian. */
  u32be(v: number): void { this.ensure(4); putU32BE(this.buf, this.pos, v >>> 0); this.pos += 4; }

  /** Writes a float64, big-endian (the config-change payload's ids, a layout kept from 0.1). */
  f64be(v: number): void { this.ensure(8); this.buf.writeDoubleBE(v, this.pos); this.pos += 8; }

  /** Overwrites a little-endian u32 at `at` (inside the written range). */
  patchU32le(at: number, v: number): void { putU32LE(this.buf, at, v >>> 0); }

  /** Overwrites a big-endian u32 at `at` (inside the written range). */
  patchU32be(at: number, v: number): void { putU32BE(this.buf, at, v >>> 0); }

  /**
   * Writes an unsigned LEB128 varint (at most 8 bytes).
   * @throws CodecError if `n` is not a safe non-negative integer: such a value cannot
   * round-trip, and sending it would corrupt the peer's state silently.
   */
  varint(n: number): void {
    this.ensure(8);
    const b = this.buf;
    let p = this.pos;
    if (n >>> 0 === n) {
      while (n >= 0x80) {
        b[p++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      b[p++] = n;
    } else {
      if (!Number.isSafeInteger(n) || n < 0) throw new CodecError(`not encodable as an unsigned integer: ${n}`);
      // At least 2^32 here: the low 28 bits go out 7 at a time, then the rest (at most 25 bits)
      // in 32-bit integer arithmetic. Dividing the double instead (% is a call to fmod) cost
      // about 130 ns a value, and every proposal's key is this large.
      let lo = n >>> 0;
      const hi = (n - lo) / 0x1_0000_0000;
      for (let i = 0; i < 4; i++) {
        b[p++] = (lo & 0x7f) | 0x80;
        lo >>>= 7;
      }
      let rest = lo | (hi << 4);
      while (rest >= 0x80) {
        b[p++] = (rest & 0x7f) | 0x80;
        rest >>>= 7;
      }
      b[p++] = rest;
    }
    this.pos = p;
  }

  /** Writes raw bytes without a length prefix. */
  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Writes a little-endian u32 length, then the bytes (fixed layouts). */
  bytes32(data: Uint8Array): void { this.u32le(data.length); this.raw(data); }

  /** Writes a varint length, then the bytes (varint layouts). */
  bytesVar(data: Uint8Array): void { this.varint(data.length); this.raw(data); }

  /** Writes a little-endian u32 byte length, then the UTF-8 of `s` (fixed layouts). */
  str32(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.u32le(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  /** Writes a big-endian u32 byte length, then the UTF-8 of `s` (the config-change payload). */
  str32be(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.u32be(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  /** Writes a varint byte length, then the UTF-8 of `s` (varint layouts). */
  strVar(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  /** The bytes written from `start`, as a view into the writer's memory (valid until the next write). */
  view(start = 0): Buffer { return this.buf.subarray(start, this.pos); }

  /** A fresh copy of the bytes written from `start`; safe to keep or hand to a socket. */
  copyOut(start = 0): Buffer {
    const out = Buffer.allocUnsafe(this.pos - start);
    this.buf.copy(out, 0, start, this.pos);
    return out;
  }
}
