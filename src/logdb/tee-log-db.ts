/**
 * A LogDB that writes two LogDBs and fails on any difference between them (dragonboat's
 * "tee" store). Tests run the WAL against the in-memory reference under randomized
 * workloads; host tests can use it the same way. Reads are served by the first store after
 * both have answered the same.
 *
 * Comparisons wait until no write through the tee is in flight: stores may legitimately
 * differ in when a still-pending call becomes visible, but never once all have resolved.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Entry, HardState, SnapshotMeta } from '../core/types.js';
import { SampanError } from '../errors.js';
import { replicaKey } from './log-db.js';
import type { Bootstrap, EntryRange, LogDB, ReplicaKey, ReplicaUpdate } from '../contracts/log-db.js';

/** The two stores of a {@link TeeLogDB} disagreed. */
export class TeeMismatchError extends SampanError {
  constructor(message: string) { super('TEE_MISMATCH', message); }
}

function normal(v: unknown): unknown {
  // Compare bytes as bytes, whatever Uint8Array subclass carries them.
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (Array.isArray(v)) return v.map(normal);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, normal(x)]));
  if (v !== null && typeof v === 'object' && !(v instanceof Set)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normal(x)]));
  }
  return v;
}

function outcome<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try { return { ok: true, value: fn() }; } catch (error) { return { ok: false, error }; }
}

function sortKeys(l: ReplicaKey[]): ReplicaKey[] {
  return l.sort((x, y) => x.shardId - y.shardId || x.replicaId - y.replicaId);
}

function errName(e: unknown): string { return e instanceof Error ? e.constructor.name : typeof e; }

/** A LogDB writing to `a` and `b`; throws {@link TeeMismatchError} when they disagree. */
export class TeeLogDB implements LogDB {
  private inflight = 0;
  private readonly touched = new Set<string>();

  constructor(readonly a: LogDB, readonly b: LogDB) {}

  private same<T>(what: string, fa: () => T, fb: () => T): T {
    // While a write is in flight the stores may differ in whether it is visible yet.
    if (this.inflight > 0) return fa();
    const x = outcome(fa), y = outcome(fb);
    if (x.ok && y.ok) {
      if (!isDeepStrictEqual(normal(x.value), normal(y.value))) {
        const show = (v: unknown): string => (JSON.stringify(normal(v)) ?? 'undefined').slice(0, 1000);
        throw new TeeMismatchError(`${what}: ${show(x.value)} != ${show(y.value)}`);
      }
      return x.value;
    }
    if (!x.ok && !y.ok && errName(x.error) === errName(y.error)) throw x.error;
    throw new TeeMismatchError(`${what}: ${x.ok ? 'ok' : errName(x.error)} vs ${y.ok ? 'ok' : errName(y.error)}`);
  }

  private async write(keys: readonly string[], fa: () => Promise<void>, fb: () => Promise<void>): Promise<void> {
    this.inflight++;
    for (const k of keys) this.touched.add(k);
    let pa: Promise<void>, pb: Promise<void>;
    try { pa = fa(); } catch (err) { pa = Promise.reject(err); }
    try { pb = fb(); } catch (err) { pb = Promise.reject(err); }
    const [x, y] = await Promise.allSettled([pa, pb]);
    this.inflight--;
    if (x.status !== y.status || (x.status === 'rejected' && y.status === 'rejected' && errName(x.reason) !== errName(y.reason))) {
      throw new TeeMismatchError(`write to ${keys.join(',')}: ${x.status} vs ${y.status}`);
    }
    if (this.inflight === 0) {
      const all = [...this.touched];
      this.touched.clear();
      for (const k of all) {
        const [s, r] = k.split(':').map(Number) as [number, number];
        this.checkReplica(s, r);
      }
    }
    if (x.status === 'rejected') throw x.reason;
  }

  /** Compares everything both stores hold for one replica. @throws TeeMismatchError */
  checkReplica(shardId: number, replicaId: number): void {
    const where = `shard ${shardId} replica ${replicaId}`;
    this.same(`${where} hard state`, () => this.a.readHardState(shardId, replicaId), () => this.b.readHardState(shardId, replicaId));
    this.same(`${where} snapshot`, () => this.a.getSnapshot(shardId, replicaId), () => this.b.getSnapshot(shardId, replicaId));
    this.same(`${where} bootstrap`, () => this.a.getBootstrap(shardId, replicaId), () => this.b.getBootstrap(shardId, replicaId));
    const range = this.same(`${where} range`, () => this.a.getEntryRange(shardId, replicaId), () => this.b.getEntryRange(shardId, replicaId));
    if (range !== null) {
      this.same(`${where} entries`, () => this.a.readEntries(shardId, replicaId, range.firstIndex, range.lastIndex + 1, Infinity),
        () => this.b.readEntries(shardId, replicaId, range.firstIndex, range.lastIndex + 1, Infinity));
    }
  }

  /** Compares the replica lists and every replica. @throws TeeMismatchError */
  checkAll(): void {
    const list = this.same('replica list', () => sortKeys(this.a.listReplicas()), () => sortKeys(this.b.listReplicas()));
    for (const r of list) this.checkReplica(r.shardId, r.replicaId);
  }

  /** {@inheritDoc LogDB.saveUpdates} */
  saveUpdates(updates: readonly ReplicaUpdate[]): Promise<void> {
    return this.write(updates.map((u) => replicaKey(u.shardId, u.replicaId)), () => this.a.saveUpdates(updates), () => this.b.saveUpdates(updates));
  }
  /** {@inheritDoc LogDB.releaseEntries} */
  releaseEntries(shardId: number, replicaId: number, index: number): void {
    this.a.releaseEntries?.(shardId, replicaId, index);
    this.b.releaseEntries?.(shardId, replicaId, index);
  }

  /** {@inheritDoc LogDB.readEntries} */
  readEntries(shardId: number, replicaId: number, low: number, high: number, maxBytes: number): Entry[] {
    return this.same('readEntries', () => this.a.readEntries(shardId, replicaId, low, high, maxBytes),
      () => this.b.readEntries(shardId, replicaId, low, high, maxBytes));
  }
  /** {@inheritDoc LogDB.getEntryRange} */
  getEntryRange(shardId: number, replicaId: number): EntryRange | null {
    return this.same('getEntryRange', () => this.a.getEntryRange(shardId, replicaId), () => this.b.getEntryRange(shardId, replicaId));
  }
  /** {@inheritDoc LogDB.readHardState} */
  readHardState(shardId: number, replicaId: number): HardState {
    return this.same('readHardState', () => this.a.readHardState(shardId, replicaId), () => this.b.readHardState(shardId, replicaId));
  }
  /** {@inheritDoc LogDB.getSnapshot} */
  getSnapshot(shardId: number, replicaId: number): SnapshotMeta | null {
    return this.same('getSnapshot', () => this.a.getSnapshot(shardId, replicaId), () => this.b.getSnapshot(shardId, replicaId));
  }
  /** {@inheritDoc LogDB.saveBootstrap} */
  saveBootstrap(shardId: number, replicaId: number, info: Bootstrap): Promise<void> {
    return this.write([replicaKey(shardId, replicaId)], () => this.a.saveBootstrap(shardId, replicaId, info), () => this.b.saveBootstrap(shardId, replicaId, info));
  }
  /** {@inheritDoc LogDB.getBootstrap} */
  getBootstrap(shardId: number, replicaId: number): Bootstrap | null {
    return this.same('getBootstrap', () => this.a.getBootstrap(shardId, replicaId), () => this.b.getBootstrap(shardId, replicaId));
  }
  /** {@inheritDoc LogDB.removeEntriesTo} */
  removeEntriesTo(shardId: number, replicaId: number, index: number): Promise<void> {
    return this.write([replicaKey(shardId, replicaId)], () => this.a.removeEntriesTo(shardId, replicaId, index), () => this.b.removeEntriesTo(shardId, replicaId, index));
  }
  /** {@inheritDoc LogDB.compactEntriesTo} */
  compactEntriesTo(shardId: number, replicaId: number, index: number): Promise<void> {
    return this.write([replicaKey(shardId, replicaId)], () => this.a.compactEntriesTo(shardId, replicaId, index), () => this.b.compactEntriesTo(shardId, replicaId, index));
  }
  /** {@inheritDoc LogDB.removeReplicaData} */
  removeReplicaData(shardId: number, replicaId: number): Promise<void> {
    return this.write([replicaKey(shardId, replicaId)], () => this.a.removeReplicaData(shardId, replicaId), () => this.b.removeReplicaData(shardId, replicaId));
  }
  /** {@inheritDoc LogDB.importSnapshot} */
  importSnapshot(snapshot: SnapshotMeta, replicaId: number): Promise<void> {
    return this.write([replicaKey(snapshot.shardId, replicaId)], () => this.a.importSnapshot(snapshot, replicaId), () => this.b.importSnapshot(snapshot, replicaId));
  }
  /** {@inheritDoc LogDB.listReplicas} */
  listReplicas(): ReplicaKey[] {
    return this.same('listReplicas', () => sortKeys(this.a.listReplicas()), () => sortKeys(this.b.listReplicas()));
  }
  /** {@inheritDoc LogDB.close} */
  async close(): Promise<void> {
    await Promise.all([this.a.close(), this.b.close()]);
  }
}
