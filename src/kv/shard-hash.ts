/**
 * Which shard holds a key: FNV-1a (32 bit) of the key's bytes, modulo the number of shards,
 * plus one (shard ids start at 1). Stable forever: changing it would strand existing keys.
 */

/** FNV-1a, 32 bit, of `bytes`. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The shard (1..shards) of `key`. */
export function shardOf(key: Uint8Array, shards: number): number {
  return (fnv1a32(key) % shards) + 1;
}
