/**
 * The in-memory KV state machine (a concurrent state machine): a Map of keys to values; a
 * snapshot is the whole map, streamed as length-prefixed pairs. `prepareSnapshot` copies the
 * map (values are never mutated in place, so a shallow copy is a consistent view), and the
 * copy is written while later writes keep being applied: a snapshot of a large map does not
 * stall the shard's writes for the time it takes to encode and fsync it.
 */
import type {
  ConcurrentStateMachine, SMEntry, SMResult, SnapshotFileCollection, SnapshotFileInfo, SnapshotReader, SnapshotWriter,
} from '../index.js';
import { CodecError } from '../index.js';
import { applyEntry, isKvQuery, type KvStore } from './apply.js';
import { PairReader, writePairs } from './snapshot-pairs.js';
import { hashPairs } from './state-hash.js';

/** Keys are held as latin1 strings: a lossless, cheap map key for arbitrary bytes. */
function mapKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

function* entriesOf(map: ReadonlyMap<string, Uint8Array>): Iterable<readonly [Uint8Array, Uint8Array]> {
  for (const [k, v] of map) yield [Buffer.from(k, 'latin1'), v];
}

/** A KV state machine held in memory; durable only through Raft's log and snapshots. */
export class MemoryKvStateMachine implements ConcurrentStateMachine<ReadonlyMap<string, Uint8Array>> {
  private map = new Map<string, Uint8Array>();

  private readonly store: KvStore = {
    get: (k) => this.map.get(mapKey(k)) ?? null,
    // Copy: the entry's buffer may be a view of a larger batch that is reused.
    put: (k, v) => { this.map.set(mapKey(k), Uint8Array.from(v)); },
    delete: (k) => { this.map.delete(mapKey(k)); },
  };

  /** Applies commands in order. @throws CodecError for an entry that is not a KV command. */
  update(entries: readonly SMEntry[]): readonly SMResult[] {
    return entries.map((e) => applyEntry(this.store, e));
  }

  /**
   * Answers a {@link KvQuery}: a value (or null) for `get`, a number for `count`.
   * @throws CodecError for a query that is not a KvQuery.
   */
  lookup(query: unknown): Uint8Array | null | number {
    if (!isKvQuery(query)) throw new CodecError('not a KV query');
    if (query.kind === 'count') return this.map.size;
    return this.map.get(mapKey(query.key)) ?? null;
  }

  /** A consistent view between two updates: a shallow copy of the map (values are never mutated). */
  prepareSnapshot(): ReadonlyMap<string, Uint8Array> {
    return new Map(this.map);
  }

  /** Writes every pair of the view `prepareSnapshot` took; updates may be applied meanwhile. */
  async saveSnapshot(view: ReadonlyMap<string, Uint8Array>, writer: SnapshotWriter, _files: SnapshotFileCollection, signal: AbortSignal): Promise<void> {
    await writePairs(writer, entriesOf(view), signal);
  }

  /** Replaces the map with the snapshot's pairs. @throws CodecError for a malformed image. */
  async recoverFromSnapshot(reader: SnapshotReader, _files: readonly SnapshotFileInfo[], signal: AbortSignal): Promise<void> {
    const next = new Map<string, Uint8Array>();
    const pairs = new PairReader();
    for await (const chunk of reader) {
      signal.throwIfAborted();
      for (const [k, v] of pairs.push(chunk)) next.set(mapKey(k), v);
    }
    pairs.end();
    this.map = next;
  }

  /** The hash of every pair in key order (`state-hash.ts`), for `verifyShard`. */
  getHash(): bigint {
    const keys = [...this.map.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return hashPairs(keys.map((k) => [Buffer.from(k, 'latin1'), this.map.get(k) as Uint8Array] as const));
  }

  /** Nothing to release. */
  close(): void {}
}
