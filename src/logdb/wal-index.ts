/**
 * The WAL's in-memory index: every replica's small state, where each stored entry lives, a
 * cache of recent entries (the hot tail the Raft core reads), and how many live entry bytes
 * each segment holds (what compaction decides with). Recovery rebuilds it by replaying the
 * segments; at run time the writer changes it as it lays out each batch.
 */
import { EMPTY_HARD_STATE, entrySize, type Entry, type HardState, type SnapshotMeta } from '../core/types.js';
import { EntryLocations, UNKNOWN_SEGMENT } from './entry-locations.js';
import { EMPTY_WINDOW, replicaKey, type LogWindow } from './log-db.js';
import type { Bootstrap } from '../contracts/log-db.js';

/** One replica's state in the index. */
export interface WalReplica {
  readonly shardId: number;
  readonly replicaId: number;
  hardState: HardState;
  snapshot: SnapshotMeta | null;
  bootstrap: Bootstrap | null;
  readonly locs: EntryLocations;
  /** Cached entries `cacheFirst .. cacheFirst + cache.length - 1`, always a suffix of the log. */
  cache: Entry[];
  cacheFirst: number;
}

/** The index; see the module comment. */
export class WalIndex {
  /** Every replica by `replicaKey`, in creation order (iteration, checkpoints). */
  readonly replicas = new Map<string, WalReplica>();
  // Lookups without building a string key: recovery does one per record.
  private readonly byShard = new Map<number, Map<number, WalReplica>>();
  /** Segment id → bytes of live entries located in it. */
  readonly live = new Map<number, number>();
  cachedBytes = 0;

  private readonly unlive = (seg: number, len: number): void => {
    if (seg !== UNKNOWN_SEGMENT) this.live.set(seg, (this.live.get(seg) ?? 0) - len);
  };

  get(shardId: number, replicaId: number): WalReplica | undefined {
    return this.byShard.get(shardId)?.get(replicaId);
  }

  ensure(shardId: number, replicaId: number): WalReplica {
    let r = this.get(shardId, replicaId);
    if (r === undefined) {
      r = { shardId, replicaId, hardState: EMPTY_HARD_STATE, snapshot: null, bootstrap: null, locs: new EntryLocations(), cache: [], cacheFirst: 0 };
      this.replicas.set(replicaKey(shardId, replicaId), r);
      let m = this.byShard.get(shardId);
      if (m === undefined) this.byShard.set(shardId, (m = new Map()));
      m.set(replicaId, r);
    }
    return r;
  }

  /** The replica's window for planning updates. */
  window(r: WalReplica | undefined): LogWindow {
    if (r === undefined) return EMPTY_WINDOW;
    const snapshotIndex = r.snapshot?.index ?? 0;
    return r.locs.count === 0 ? { first: 0, last: 0, snapshotIndex } : { first: r.locs.first, last: r.locs.last, snapshotIndex };
  }

  /** The cached entry at `i`, if cached. */
  cached(r: WalReplica, i: number): Entry | undefined {
    return i >= r.cacheFirst ? r.cache[i - r.cacheFirst] : undefined;
  }

  private dropCacheFrom(r: WalReplica, i: number): void {
    const keep = Math.max(0, i - r.cacheFirst);
    for (let k = keep; k < r.cache.length; k++) this.cachedBytes -= entrySize(r.cache[k] as Entry);
    if (keep < r.cache.length) r.cache.length = keep;
  }

  /** Drops the replica's entries from `index` on. */
  truncateFrom(r: WalReplica, index: number): void {
    r.locs.truncateFrom(index, this.unlive);
    this.dropCacheFrom(r, index);
  }

  /** Drops every entry of the replica. */
  dropEntries(r: WalReplica): void {
    if (r.locs.count > 0) this.truncateFrom(r, r.locs.first);
  }

  /**
   * Appends entry `index` (the next one, or the first when empty) at a location, caching
   * `e` when given. Entries appended without an object uncache the tail before them, so the
   * cache stays a suffix.
   */
  push(r: WalReplica, index: number, seg: number, off: number, len: number, e?: Entry): void {
    if (seg !== UNKNOWN_SEGMENT) this.addLive(seg, len);
    this.pushUncounted(r, index, seg, off, len, e);
  }

  /**
   * As {@link push}, without counting the entry's bytes as live in `seg`: the caller adds a
   * whole run's bytes at once with {@link addLive} (one map update per batch, not per entry).
   */
  pushUncounted(r: WalReplica, index: number, seg: number, off: number, len: number, e?: Entry): void {
    r.locs.push(index, seg, off, len);
    if (e === undefined || (r.cache.length > 0 && r.cacheFirst + r.cache.length !== index)) this.dropCacheFrom(r, 0);
    if (e === undefined) return;
    if (r.cache.length === 0) r.cacheFirst = index;
    r.cache.push(e);
    this.cachedBytes += entrySize(e);
  }

  /** Counts `bytes` more of live entries in segment `seg`. */
  addLive(seg: number, bytes: number): void {
    this.live.set(seg, (this.live.get(seg) ?? 0) + bytes);
  }

  /** Removes entries at or below `index`. */
  removeTo(r: WalReplica, index: number): void {
    r.locs.dropTo(index, this.unlive);
    const n = Math.min(r.cache.length, index - r.cacheFirst + 1);
    if (n > 0) this.evictFront(r, n);
  }

  private evictFront(r: WalReplica, n: number): void {
    for (let k = 0; k < n; k++) this.cachedBytes -= entrySize(r.cache[k] as Entry);
    r.cache.splice(0, n);
    r.cacheFirst += n;
  }

  /** Drops cached entries at or below `index` (they stay on disk). */
  uncacheTo(r: WalReplica, index: number): void {
    const n = Math.min(r.cache.length, index - r.cacheFirst + 1);
    if (n > 0) this.evictFront(r, n);
  }

  /** Forgets the replica entirely. */
  removeReplica(shardId: number, replicaId: number): void {
    const r = this.get(shardId, replicaId);
    if (r === undefined) return;
    this.dropEntries(r);
    this.replicas.delete(replicaKey(shardId, replicaId));
    this.byShard.get(shardId)?.delete(replicaId);
  }

  /**
   * Points entry `i` at a new location if it still is where it was (compaction copied it;
   * it may have been overwritten or removed since).
   */
  relocate(r: WalReplica, i: number, from: { seg: number; off: number }, toSeg: number, toOff: number): void {
    if (r.locs.count === 0 || i < r.locs.first || i > r.locs.last) return;
    if (r.locs.segAt(i) !== from.seg || r.locs.offAt(i) !== from.off) return;
    const len = r.locs.lenAt(i);
    this.unlive(from.seg, len);
    r.locs.set(i, toSeg, toOff, len);
    this.live.set(toSeg, (this.live.get(toSeg) ?? 0) + len);
  }

  /** Recovery: sets entry `i`'s location (whatever it was) if it is in the window. */
  place(r: WalReplica, i: number, seg: number, off: number, len: number): void {
    if (r.locs.count === 0 || i < r.locs.first || i > r.locs.last) return;
    this.unlive(r.locs.segAt(i), r.locs.lenAt(i));
    r.locs.set(i, seg, off, len);
    this.live.set(seg, (this.live.get(seg) ?? 0) + len);
  }

  /** Trims caches, oldest entries first, until they hold at most `budget` bytes. */
  evict(budget: number): void {
    for (let round = 0; round < 64 && this.cachedBytes > budget; round++) {
      for (const r of this.replicas.values()) {
        if (r.cache.length > 0) this.evictFront(r, Math.ceil(r.cache.length / 2));
        if (this.cachedBytes <= budget) return;
      }
    }
  }

  /** Total live entry bytes. */
  liveBytes(): number {
    let n = 0;
    for (const v of this.live.values()) n += v;
    return n;
  }
}
