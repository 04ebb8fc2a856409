/**
 * Block compression for snapshot files. Snappy, through the pure-JavaScript `snappyjs`
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
