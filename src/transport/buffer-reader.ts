/**
 * A bounds-checked reader over untrusted bytes. Every read checks the remaining length first,
 * so malformed input ends in a {@link CodecError} and never in a RangeError, a huge
 * allocation or a loop that does not terminate.
 */
import { CodecError } from '../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the encodings written by {@link BufferWriter}. All methods throw CodecError on bad input. */
export class BufferReader {
  private pos: number;

  /** Reads `buf` from `start` (inclusive) to `end` (exclusive). */
  constructor(private readonly buf: Uint8Array, start = 0, private readonly end = buf.length) {
    this.pos = start;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Current offset in the underlying buffer. */
  get offset(): number {
    return this.pos;
  }

  private need(n: number): void {
    if (this.end - this.pos < n) throw new CodecError(`truncated: need ${n} bytes, have ${this.end - this.pos}`);
  }

  /** Reads one byte. */
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  /** Reads a 32-bit unsigned big-endian integer. */
  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
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
   * Reads a count of items that each take at least `minItemSize` bytes; rejecting counts the
   * remaining bytes cannot hold keeps a forged count from driving a huge allocation or loop.
   */
  count(minItemSize: number): number {
    const n = this.varint();
    if (n * minItemSize > this.remaining) throw new CodecError(`count ${n} exceeds the remaining ${this.remaining} bytes`);
    return n;
  }

  /** Reads `n` raw bytes as a view (no copy). */
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Reads a varint length and that many bytes, as a view (no copy). */
  bytes(): Uint8Array {
    return this.raw(this.varint());
  }

  /** Reads a varint length and that many bytes of strict UTF-8. */
  string(): string {
    const bytes = this.bytes();
    if (bytes.length === 0) return '';
    try {
      return utf8.decode(bytes);
    } catch {
      throw new CodecError('invalid UTF-8 string');
    }
  }

  /** The unread rest as a view (no copy). */
  rest(): Uint8Array {
    return this.raw(this.remaining);
  }

  /** Throws unless every byte was consumed: trailing bytes mean a framing or version mismatch. */
  expectEnd(): void {
    if (this.pos !== this.end) throw new CodecError(`${this.end - this.pos} trailing bytes`);
  }
}
