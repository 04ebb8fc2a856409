/**
 * The one bounds-checked reader of every format (the counterpart of {@link Writer}). Every
 * read checks the remaining length first, so malformed input ends in a {@link CodecError} —
 * never a RangeError, a huge allocation or a loop that does not end; the WAL and the snapshot
 * files turn it into a CorruptionError naming the file and offset. Pure: no Node module.
 */
import { CodecError } from '../errors.js';

const TWO_32 = 0x1_0000_0000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a little-endian u32 at `at` (no bounds check: the caller checked). */
export function getU32LE(b: Uint8Array, at: number): number {
  return ((b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x100_0000);
}

/** Reads a little-endian u64 at `at`; undefined when it is 2^53 or above (no bounds check). */
export function getU64LE(b: Uint8Array, at: number): number | undefined {
  const hi = getU32LE(b, at + 4);
  return hi >= 0x20_0000 ? undefined : hi * TWO_32 + getU32LE(b, at);
}

/** Decodes strict UTF-8. @throws CodecError on invalid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.length === 0) return '';
  try {
    return utf8.decode(bytes);
  } catch {
    throw new CodecError('invalid UTF-8 string');
  }
}

/** Reads `buf[start, end)`. Every method throws CodecError on bad input. */
export class Reader {
  /** The next byte to read. */
  pos: number;

  /** Reads `buf` from `start` (inclusive) to `end` (exclusive). */
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  /** Bytes left to read. */
  get remaining(): number { return this.end - this.pos; }

  private need(n: number): void {
    if (this.end - this.pos < n) throw new CodecError(`truncated: need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`);
  }

  /** Reads one byte. */
  u8(): number { this.need(1); return this.buf[this.pos++]!; }

  /** Reads a byte that must be 0 or 1. */
  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw new CodecError(`bad boolean ${v} at ${this.pos - 1}`);
    return v === 1;
  }

  /** Reads a little-endian u32. */
  u32le(): number {
    this.need(4);
    const v = getU32LE(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  /** Reads a little-endian u64; rejects values of 2^53 and above. */
  u64le(): number {
    this.need(8);
    const v = getU64LE(this.buf, this.pos);
    if (v === undefined) throw new CodecError(`integer above 2^53 at ${this.pos}`);
    this.pos += 8;
    return v;
  }

  /** Reads a big-endian u32. */
  u32be(): number {
    this.need(4);
    const b = this.buf, p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** Reads a big-endian float64. */
  f64be(): number {
    this.need(8);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0);
    this.pos += 8;
    return v;
  }

  /** Reads an unsigned varint; rejects encodings longer than 8 bytes or above 2^53 - 1. */
  varint(): number {
    const b = this.buf;
    let p = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (p >= this.end) throw new CodecError('truncated varint');
      const byte = b[p++]!;
      result += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw new CodecError('varint exceeds 2^53 - 1');
        this.pos = p;
        return result;
      }
      mul *= 0x80;
    }
    throw new CodecError('varint longer than 8 bytes');
  }

  /**
   * Reads a varint count of items that each take at least `minItemSize` bytes; refusing counts
   * the remaining bytes cannot hold keeps a forged count from driving a huge allocation or loop.
   */
  count(minItemSize: number): number { return this.fits(this.varint(), minItemSize); }

  /** {@link count} for a little-endian u32 count (fixed layouts). */
  count32(minItemSize: number): number { return this.fits(this.u32le(), minItemSize); }

  private fits(n: number, minItemSize: number): number {
    if (n * minItemSize > this.end - this.pos) throw new CodecError(`count ${n} exceeds the remaining ${this.end - this.pos} bytes`);
    return n;
  }

  /** Reads `n` raw bytes as a view (no copy; a Buffer when the source is one). */
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Reads a varint length and that many bytes, as a view (no copy). */
  bytesVar(): Uint8Array { return this.raw(this.varint()); }

  /**
   * Reads a little-endian u32 length and that many bytes: a plain Uint8Array copy when `copy`
   * (it does not pin the source buffer), else a plain Uint8Array view of the source.
   */
  bytes32(copy: boolean): Uint8Array {
    const n = this.u32le();
    this.need(n);
    const at = this.pos;
    this.pos += n;
    if (!copy) return new Uint8Array(this.buf.buffer, this.buf.byteOffset + at, n);
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(at, at + n));
    return out;
  }

  /** Reads a varint length and that many bytes of strict UTF-8. */
  strVar(): string { return decodeUtf8(this.bytesVar()); }

  /** Reads a little-endian u32 length and that many bytes of strict UTF-8. */
  str32(): string { return decodeUtf8(this.raw(this.u32le())); }

  /** The unread rest as a view (no copy). */
  rest(): Uint8Array { return this.raw(this.end - this.pos); }

  /** Throws unless every byte was consumed: trailing bytes mean a framing or version mismatch. */
  done(): void {
    if (this.pos !== this.end) throw new CodecError(`${this.end - this.pos} trailing bytes`);
  }
}
