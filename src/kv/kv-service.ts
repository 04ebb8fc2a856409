/**
 * The KV operations over one NodeHost: keys routed to shards by hash, commands encoded for the
 * log, linearizable and stale reads. Each call is ONE attempt on this host's replica; retries
 * live in `retry.ts`. It knows nothing of HTTP.
 */
import type { NodeHost, RequestOptions } from '../index.js';
import { KvOp, decodeOptional, encodeCommand } from './command-codec.js';
import type { KvQuery } from './apply.js';
import { shardOf } from './shard-hash.js';

/** The outcome of a compare-and-set. */
export type CasResult = { readonly ok: true } | { readonly ok: false; readonly current: Uint8Array | null };

/** Encodes a user key (a decoded URL path segment) as the bytes the state machines store (UTF-8). */
export function keyBytes(key: string): Uint8Array {
  // Buffer.from takes a slice of Node's pool; TextEncoder allocates a fresh buffer per key.
  return Buffer.from(key, 'utf8');
}

/** Replicated KV operations on a NodeHost. */
export class KvService {
  constructor(readonly host: NodeHost, readonly shards: number) {}

  /** The shard that holds `key`. */
  shardOf(key: Uint8Array): number {
    return shardOf(key, this.shards);
  }

  /**
   * Writes `value` under `key`; resolves with the entry's log index once applied here.
   * @throws the library's errors: TIMEOUT (the outcome is unknown), DROPPED, SYSTEM_BUSY,
   *   CLOSED, SHARD_NOT_FOUND, …
   */
  async put(key: Uint8Array, value: Uint8Array, o: RequestOptions): Promise<number> {
    return (await this.host.propose(this.shardOf(key), encodeCommand({ op: KvOp.Put, key, value }), o)).value;
  }

  /** Deletes `key` (present or not); resolves with the entry's index. Throws as {@link put}. */
  async delete(key: Uint8Array, o: RequestOptions): Promise<number> {
    return (await this.host.propose(this.shardOf(key), encodeCommand({ op: KvOp.Delete, key }), o)).value;
  }

  /** Sets `key` to `value` if its value is `expected` (null: absent). Throws as {@link put}. */
  async cas(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array, o: RequestOptions): Promise<CasResult> {
    const r = await this.host.propose(this.shardOf(key), encodeCommand({ op: KvOp.Cas, key, expected, value }), o);
    return r.value === 1 ? { ok: true } : { ok: false, current: decodeOptional(r.data) };
  }

  /** A linearizable read (ReadIndex, then the local state). Null when absent. Throws as {@link put}. */
  async get(key: Uint8Array, o: RequestOptions): Promise<Uint8Array | null> {
    const v = await this.host.read(this.shardOf(key), { kind: 'get', key } satisfies KvQuery, o);
    return v instanceof Uint8Array ? v : null;
  }

  /** This replica's value of `key` as it is now (may be stale). Null when absent. */
  async staleGet(key: Uint8Array): Promise<Uint8Array | null> {
    const v = await this.host.staleRead(this.shardOf(key), { kind: 'get', key } satisfies KvQuery);
    return v instanceof Uint8Array ? v : null;
  }
}
