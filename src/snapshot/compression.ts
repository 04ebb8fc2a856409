/**
 * Block compression for snapshot files and for log entries (`src/host/entry-compression.ts`).
 * Snappy, through the pure-JavaScript `snappyjs`
 * package: no native build, identical output on every platform, and fast enough that a block
 * costs less to compress than to write on a typical disk. LZ4's pure-JS ports were slower and
 * less used; native codecs would need prebuilt binaries.
 *
 * Compression is per block and opportunistic: a block is stored compressed only when that
 * makes it smaller, so incompressible data costs one attempt per block and no space.
 */
import { createRequire } from 'node:module';

/** Compression a snapshot file may use for its blocks. */
export const CompressionType = { None: 0, Snappy: 1 } as const;
/** One of {@link CompressionType}. */
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

/** The names callers use in options. */
export type CompressionName = 'none' | 'snappy';

interface SnappyJs {
  compress(data: Uint8Array): Uint8Array;
  uncompress(data: Uint8Array, maxLength?: number): Uint8Array;
}

// snappyjs is CommonJS without type declarations; the two functions are all we use.
const snappy = createRequire(import.meta.url)('snappyjs') as SnappyJs;

/** Maps an option name to the header's compression type. */
export function compressionType(name: CompressionName): CompressionType {
  return name === 'snappy' ? CompressionType.Snappy : CompressionType.None;
}

/**
 * Snappy-compresses `data`; returns null when the result would not be smaller (the caller then
 * stores the block raw). Never throws for any input.
 */
export function snappyCompress(data: Uint8Array): Uint8Array | null {
  // snappyjs returns a Buffer for Buffer input and a plain Uint8Array otherwise; both are fine.
  const out = snappy.compress(data);
  return out.length < data.length ? out : null;
}

/**
 * Decompresses a Snappy block whose raw size is known.
 * @returns the bytes, or null when the input is not a valid Snappy stream of exactly
 *   `rawLength` bytes (the caller reports corruption).
 */
export function snappyUncompress(data: Uint8Array, rawLength: number): Uint8Array | null {
  try {
    // A Buffer input yields a Buffer; maxLength stops a damaged length prefix from allocating
    // more than one block.
    const out = snappy.uncompress(data, rawLength);
    return out.length === rawLength ? out : null;
  } catch {
    return null;
  }
}

/** The largest raw length a Snappy block may declare here (snappyjs reads it into an int32). */
const MAX_SNAPPY_RAW = 0x7fff_ffff;

/**
 * Walks a Snappy block (its length preamble, then literal and copy elements) without decoding
 * it. snappyjs trusts the stream: a copy or literal past the declared length is dropped and a
 * stream that stops short leaves zeros, both silently. This check refuses both.
 * @returns the raw length the block decodes to, or null when the block is malformed: a bad
 *   preamble, an element running past the input, a copy reaching before the start of the output,
 *   or elements that do not add up to exactly the declared length. Never throws.
 */
export function snappyBlockLength(data: Uint8Array): number | null {
  let pos = 0;
  let declared = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= data.length || shift > 28) return null;
    const c = data[pos++] as number;
    declared += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) break;
  }
  if (declared > MAX_SNAPPY_RAW) return null;
  let out = 0;
  while (pos < data.length) {
    const c = data[pos++] as number;
    const kind = c & 3;
    let len: number;
    if (kind === 0) {
      len = (c >>> 2) + 1;
      if (len > 60) {
        // 61..64: the length minus one follows in 1..4 little-endian bytes.
        const n = len - 60;
        if (pos + n > data.length) return null;
        len = littleEndian(data, pos, n) + 1;
        pos += n;
      }
      if (pos + len > data.length) return null;
      pos += len;
    } else {
      // Copies: 1, 2 or 4 offset bytes (the 1-byte form keeps 3 more offset bits in the tag).
      const n = kind === 1 ? 1 : kind === 2 ? 2 : 4;
      if (pos + n > data.length) return null;
      len = kind === 1 ? ((c >>> 2) & 7) + 4 : (c >>> 2) + 1;
      const offset = kind === 1 ? ((c >>> 5) << 8) | (data[pos] as number) : littleEndian(data, pos, n);
      pos += n;
      if (offset === 0 || offset > out) return null;
    }
    out += len;
    if (out > declared) return null;
  }
  return out === declared ? declared : null;
}

function littleEndian(data: Uint8Array, pos: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + (data[pos + i] as number);
  return v;
}

/**
 * Decompresses a Snappy block whose raw length is not known beforehand, after checking it
 * with {@link snappyBlockLength}.
 * @returns the bytes, or null when the block is malformed (the caller reports corruption).
 *   Never throws.
 */
export function snappyUncompressBlock(data: Uint8Array): Uint8Array | null {
  const n = snappyBlockLength(data);
  return n === null ? null : snappyUncompress(data, n);
}
