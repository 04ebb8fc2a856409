/**
 * The in-memory KV state machine (a concurrent state machine): a Map of keys to values; a
 * snapshot is the whole map, streamed as length-prefixed pairs, written while later writes
 * keep being applied.
 *
 * No step of a snapshot holds the event loop for long (issue 19: a 100k-key map was copied in
 * one 85–100 ms turn and written in one 300–500 ms turn). `prepareSnapshot` copies nothing: it
 * starts a journal that records, for each key changed from then on, its value at the snapshot
 * point (values are never mutated in place, so the old reference is that value). `saveSnapshot`
 * lists the live map a few milliseconds at a time, yielding the event loop between slices,
 * then writes the listed pairs of keys left unchanged and the journal's values of the others:
 * the map as it was at the snapshot point, written in pieces (the snapshot writer yields too).
 * A recovery fills the new map in slices as well. A journal lives as long as its view: one never saved is
 * dropped with its view (a WeakRef), so it cannot keep growing.
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

/** Milliseconds of work per event-loop turn while a snapshot lists the map, or a recovery fills it. */
const COPY_SLICE_MS = 4;
/** Bytes of an image parsed at a time by a recovery. */
const RECOVER_PIECE = 64 * 1024;

/** Keys changed since a snapshot point, with their values at that point (null: absent then). */
class Journal {
  readonly old = new Map<string, Uint8Array | null>();
  /** Set once the save has listed the map: it records no more. */
  done = false;
  /** @param map the live map at the snapshot point (replaced by a recovery, then no longer changed). */
  constructor(readonly map: Map<string, Uint8Array>) {}
}

/** What `prepareSnapshot` returns: the snapshot point, as the live map and its journal. */
export interface MemoryKvView {
  /** @internal */
  readonly journal: Journal;
}

/**
 * Resolves after the event loop's next poll for I/O. One `setImmediate` is not enough: from a
 * slice that runs in the poll phase (a save resumes there after a file operation) it fires in
 * the same iteration's check phase, and two slices ran back to back (8–12 ms instead of 4).
 */
const nextTurn = (): Promise<void> => new Promise((res) => setImmediate(() => setImmediate(res)));

/**
 * The pairs of the map as it was at the journal's point. The live map is listed into two flat
 * arrays in slices of {@link COPY_SLICE_MS} (arrays, not a Map: no rehash of a large table in
 * one turn), and the journal is closed. Every key changed while the map was listed is in the
 * journal: its listed occurrences (a key deleted and written again is visited twice) are
 * skipped and its value at the point, if it had one, comes from the journal — once. Every
 * other key was listed exactly once, with the value it had at the point.
 */
async function pairsAtPoint(j: Journal, signal: AbortSignal): Promise<Iterable<readonly [string, Uint8Array]>> {
  // Sized up front rather than grown by push: a warm 100,000-key save took 38–54 ms of CPU
  // with push, 23–34 ms sized (bench/kv-save-cost.ts). The map may grow or shrink between slices.
  const keys = new Array<string>(j.map.size);
  const values = new Array<Uint8Array>(j.map.size);
  let n = 0;
  let sliceStart = performance.now();
  for (const [k, v] of j.map) {
    keys[n] = k;
    values[n] = v;
    n++;
    if ((n & 1023) === 0 && performance.now() - sliceStart >= COPY_SLICE_MS) {
      await nextTurn();
      signal.throwIfAborted();
      sliceStart = performance.now();
    }
  }
  j.done = true;
  const old = j.old;
  return (function* () {
    for (let i = 0; i < n; i++) {
      const k = keys[i] as string;
      if (!old.has(k)) yield [k, values[i] as Uint8Array] as const;
    }
    for (const [k, v] of old) if (v !== null) yield [k, v] as const;
  })();
}

/** A KV state machine held in memory; durable only through Raft's log and snapshots. */
export class MemoryKvStateMachine implements ConcurrentStateMachine<MemoryKvView> {
  private map = new Map<string, Uint8Array>();
  /** Journals of snapshots being taken (weakly: a view never saved takes its journal with it). */
  private readonly journals = new Set<WeakRef<Journal>>();

  private readonly store: KvStore = {
    get: (k) => this.map.get(mapKey(k)) ?? null,
    // Copy: the entry's buffer may be a view of a larger batch that is reused.
    put: (k, v) => {
      const key = mapKey(k);
      if (this.journals.size > 0) this.note(key);
      this.map.set(key, Uint8Array.from(v));
    },
    delete: (k) => {
      const key = mapKey(k);
      if (this.journals.size > 0) this.note(key);
      this.map.delete(key);
    },
  };

  /** Records `key`'s current value in every live journal that has none for it yet. */
  private note(key: string): void {
    for (const ref of this.journals) {
      const j = ref.deref();
      if (j === undefined || j.done) {
        this.journals.delete(ref);
        continue;
      }
      if (j.map === this.map && !j.old.has(key)) j.old.set(key, this.map.get(key) ?? null);
    }
  }

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

  /** The snapshot point, between two updates: starts a journal of changes (copies nothing). */
  prepareSnapshot(): MemoryKvView {
    const journal = new Journal(this.map);
    this.journals.add(new WeakRef(journal));
    return { journal };
  }

  /**
   * Writes every pair as of the view's point; updates may be applied meanwhile. Yields the
   * event loop every few milliseconds. @throws the signal's reason when aborted.
   */
  async saveSnapshot(view: MemoryKvView, writer: SnapshotWriter, _files: SnapshotFileCollection, signal: AbortSignal): Promise<void> {
    await writePairs(writer, await pairsAtPoint(view.journal, signal), signal);
  }

  /**
   * Replaces the map with the snapshot's pairs, filling the new map a few milliseconds per
   * event-loop turn. @throws CodecError for a malformed image.
   */
  async recoverFromSnapshot(reader: SnapshotReader, _files: readonly SnapshotFileInfo[], signal: AbortSignal): Promise<void> {
    const next = new Map<string, Uint8Array>();
    const pairs = new PairReader();
    let sliceStart = performance.now();
    for await (const chunk of reader) {
      // A block (1 MiB: tens of thousands of pairs) in 64 KiB pieces, yielding every few ms:
      // a large image no longer fills the map in one long turn (issue 19).
      for (let off = 0; off < chunk.length; off += RECOVER_PIECE) {
        signal.throwIfAborted();
        for (const [k, v] of pairs.push(chunk.subarray(off, off + RECOVER_PIECE))) next.set(mapKey(k), v);
        if (performance.now() - sliceStart >= COPY_SLICE_MS) {
          await nextTurn();
          sliceStart = performance.now();
        }
      }
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
