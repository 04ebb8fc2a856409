/**
 * CRC-32 (IEEE 802.3, the zlib/gzip polynomial): the one checksum of every format (WAL frames,
 * wire frames, snapshot files and their metadata). Node's `zlib.crc32`
 * (native, several GB/s) is used when the runtime has it (Node >= 20.15); older runtimes
 * fall back to a table-driven implementation with identical output, so files written by
 * either are readable by both.
 *
 * The one file of src/encoding/ that is not pure (it imports node:zlib); the lint fence keeps
 * pure code (src/core, the rest of src/encoding) from importing it.
 */
import * as zlib from 'node:zlib';

type Crc32Fn = (data: Uint8Array, initial?: number) => number;

const native: Crc32Fn | undefined = (zlib as unknown as { crc32?: Crc32Fn }).crc32;

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** The table-driven CRC-32; exported so tests can check it against the native one. */
export function crc32Table(data: Uint8Array, initial = 0): number {
  table ??= makeTable();
  const t = table;
  let c = (initial ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = (t[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * CRC-32 of `data`, continuing from `initial` (the CRC of the preceding bytes).
 * Never throws; returns an unsigned 32-bit integer.
 */
export function crc32(data: Uint8Array, initial = 0): number {
  return native !== undefined ? native(data, initial) >>> 0 : crc32Table(data, initial);
}

// CRC-32 combination (zlib's crc32_combine, in the form of zlib 1.2.12): the CRC of A‖B from
// the CRCs of A and of B and the length of B, by multiplying polynomials modulo the CRC's.
// Lets one pass over each byte serve several checksums of overlapping ranges (a frame's, its
// file's, a block's): each piece is checksummed once and the ranges' CRCs are combined.

const POLY = 0xedb88320;

/** a·b modulo the CRC polynomial (bit-reflected, as the CRC's registers). */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = (b & 1) !== 0 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, for k = 0..31. */
const X2N: number[] = (() => {
  const t: number[] = [];
  let p = 0x40000000; // x^1
  t.push(p);
  for (let k = 1; k < 32; k++) t.push((p = multModP(p, p)));
  return t;
})();

/** x^(n·2^k) modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31] as number, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** The shift operator for the most recent lengths (a stream's pieces are mostly of a few sizes). */
const shiftOps = new Map<number, number>();

/**
 * The CRC-32 of the concatenation A‖B, given `crcA` = CRC-32 of A, `crcB` = CRC-32 of B, and
 * `lengthB` = B's length in bytes (a non-negative safe integer). Never throws; O(log lengthB),
 * O(1) for a length seen recently. Equal to `crc32(B, crcA)` without reading B.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  let op = shiftOps.get(lengthB);
  if (op === undefined) {
    op = x2nModP(lengthB, 3);
    if (shiftOps.size >= 64) shiftOps.clear();
    shiftOps.set(lengthB, op);
  }
  return (multModP(op, crcA >>> 0) ^ crcB) >>> 0;
}
