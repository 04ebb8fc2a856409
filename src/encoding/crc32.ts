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
