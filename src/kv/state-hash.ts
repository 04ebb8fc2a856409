/**
 * The KV state machines' `getHash` (dragonboat's IHash, for `NodeHost.verifyShard`): SHA-256
 * over every pair in key byte order, each length-prefixed, cut to its first 64 bits. Both
 * state machines hash the same content alike, so a memory and a disk replica can be compared.
 */
import { createHash } from 'node:crypto';

/**
 * The hash of `pairs`, which must come in ascending key byte order (SQLite's BLOB order;
 * latin1 strings compared by code unit give the same order).
 */
export function hashPairs(pairs: Iterable<readonly [Uint8Array, Uint8Array]>): bigint {
  const h = createHash('sha256');
  const len = Buffer.alloc(8);
  for (const [k, v] of pairs) {
    len.writeUInt32BE(k.length, 0);
    len.writeUInt32BE(v.length, 4);
    h.update(len);
    h.update(k);
    h.update(v);
  }
  return h.digest().readBigUInt64BE(0);
}
