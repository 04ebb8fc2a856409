/**
 * A growable byte writer for the wire codec. One writer is kept per connection and reused
 * for every batch, so encoding allocates nothing until {@link BufferWriter.copyOut} takes
 * the finished bytes (one allocation per frame, served from Node's buffer pool when small).
 */
import { CodecError } from '../errors.js';

/** Appends bytes, big-endian integers, unsigned varints and length-prefixed strings. */
export class BufferWriter {
  private buf: Buffer;
  /** Number of bytes written. Invariant: length <= buf.length. */
  length = 0;

  /** Creates a writer with `initialCapacity` bytes of room; it grows by doubling. */
  constructor(initialCapacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initialCapacity));
  }

  /** Bytes the writer can hold before it grows. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Forgets the content, keeping the capacity. */
  reset(): void {
    this.length = 0;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** Reserves `n` bytes (to be patched later) and returns their offset. */
  skip(n: number): number {
    this.ensure(n);
    const at = this.length;
    this.length += n;
    return at;
  }

  /** Writes one byte (the low 8 bits of `v`). */
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }

  /** Writes a 32-bit unsigned big-endian integer. */
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
  }

  /** Overwrites a 32-bit unsigned big-endian integer at `at` (inside the written range). */
  patchU32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at);
  }

  /**
   * Writes an unsigned LEB128 varint (at most 8 bytes).
   * @throws CodecError if `n` is not a safe non-negative integer: such a value cannot
   * round-trip, and sending it would corrupt the peer's state silently.
   */
  varint(n: number): void {
    this.ensure(8);
    const b = this.buf;
    let p = this.length;
    if (n >>> 0 === n) {
      while (n >= 0x80) {
        b[p++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      b[p++] = n;
    } else {
      if (!Number.isSafeInteger(n) || n < 0) throw new CodecError(`not encodable as an unsigned integer: ${n}`);
      while (n >= 0x80) {
        b[p++] = (n % 0x80) | 0x80;
        n = Math.floor(n / 0x80);
      }
      b[p++] = n;
    }
    this.length = p;
  }

  /** Writes raw bytes without a length prefix. */
  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  /** Writes a varint length followed by the bytes. */
  bytes(data: Uint8Array): void {
    this.varint(data.length);
    this.raw(data);
  }

  /** Writes a varint byte length followed by the UTF-8 bytes of `s`. */
  string(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.length += this.buf.write(s, this.length, n, 'utf8');
  }

  /** The written bytes as a view into the writer's own memory (valid until the next write). */
  view(start = 0): Buffer {
    return this.buf.subarray(start, this.length);
  }

  /** A fresh copy of the written bytes from `start`; safe to hand to a socket. */
  copyOut(start = 0): Buffer {
    const out = Buffer.allocUnsafe(this.length - start);
    this.buf.copy(out, 0, start, this.length);
    return out;
  }

  /** Drops everything written after `length` (to undo a partly written record). */
  truncate(length: number): void {
    this.length = length;
  }
}
