/**
 * The meaning of a KV command, shared by the in-memory and on-disk state machines: both apply
 * it to a {@link KvStore} so they cannot disagree on a result.
 */
import type { SMEntry, SMResult } from '../index.js';
import { KvOp, decodeCommand, encodeOptional } from './command-codec.js';

/** The storage a state machine applies commands to. */
export interface KvStore {
  get(key: Uint8Array): Uint8Array | null;
  put(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
}

/** A read of the KV state machine (`lookup`'s query). */
export type KvQuery =
  | { readonly kind: 'get'; readonly key: Uint8Array }
  | { readonly kind: 'count' };

/**
 * Whether `q` is a {@link KvQuery}; lookups check, since `lookup` takes `unknown`.
 */
export function isKvQuery(q: unknown): q is KvQuery {
  if (typeof q !== 'object' || q === null) return false;
  const k = (q as { kind?: unknown }).kind;
  return (k === 'get' && (q as { key?: unknown }).key instanceof Uint8Array) || k === 'count';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * Applies one committed entry: put and delete return the entry's index; cas returns 1 (swapped)
 * or 0 with the current value in `data`.
 * @throws CodecError for an entry that is not a KV command (the replica then stops: a corrupt
 *   log must not be skipped silently).
 */
export function applyEntry(store: KvStore, e: SMEntry): SMResult {
  const c = decodeCommand(e.cmd);
  switch (c.op) {
    case KvOp.Put:
      store.put(c.key, c.value);
      return { value: e.index };
    case KvOp.Delete:
      store.delete(c.key);
      return { value: e.index };
    case KvOp.Cas: {
      const cur = store.get(c.key);
      const matches = c.expected === null ? cur === null : cur !== null && sameBytes(cur, c.expected);
      if (!matches) return { value: 0, data: encodeOptional(cur) };
      store.put(c.key, c.value);
      return { value: 1 };
    }
  }
}
