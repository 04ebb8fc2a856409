/**
 * A LogDB held in memory: the reference semantics the WAL is checked against (through the
 * tee) and a fast stand-in for host tests. Nothing survives the process.
 */
import { EMPTY_HARD_STATE, entrySize, type Entry, type HardState, type SnapshotMeta } from '../core/types.js';
import { ClosedError, EntriesCompactedError } from '../errors.js';
import { checkReplicaIds, EMPTY_WINDOW, planCall, replicaKey, type UpdatePlan } from './log-db.js';
import type { Bootstrap, EntryRange, LogDB, ReplicaKey, ReplicaUpdate } from '../contracts/log-db.js';

interface ReplicaState {
  readonly shardId: number;
  readonly replicaId: number;
  hardState: HardState;
  snapshot: SnapshotMeta | null;
  bootstrap: Bootstrap | null;
  /** Stored entries; `entries[i].index === first + i`. */
  entries: Entry[];
}

function lastIndexOf(r: ReplicaState): number {
  const e = r.entries[r.entries.length - 1];
  return e === undefined ? 0 : e.index;
}

/** An in-memory {@link LogDB}. Writes apply synchronously; their promises resolve at once. */
export class MemoryLogDB implements LogDB {
  private readonly replicas = new Map<string, ReplicaState>();
  private closed = false;

  private get(shardId: number, replicaId: number): ReplicaState | undefined {
    if (this.closed) throw new ClosedError('LogDB is closed');
    return this.replicas.get(replicaKey(shardId, replicaId));
  }

  private getOrCreate(shardId: number, replicaId: number): ReplicaState {
    const key = replicaKey(shardId, replicaId);
    let r = this.replicas.get(key);
    if (r === undefined) {
      r = { shardId, replicaId, hardState: EMPTY_HARD_STATE, snapshot: null, bootstrap: null, entries: [] };
      this.replicas.set(key, r);
    }
    return r;
  }

  private async run(fn: () => void): Promise<void> {
    if (this.closed) throw new ClosedError('LogDB is closed');
    fn();
    return Promise.resolve();
  }

  /** {@inheritDoc LogDB.saveUpdates} */
  saveUpdates(updates: readonly ReplicaUpdate[]): Promise<void> {
    return this.run(() => {
      const plans = planCall(updates, (u) => {
        const r = this.replicas.get(replicaKey(u.shardId, u.replicaId));
        if (r === undefined) return { window: EMPTY_WINDOW, termAt: () => undefined };
        const first = r.entries[0]?.index ?? 0;
        return {
          window: { first, last: lastIndexOf(r), snapshotIndex: r.snapshot?.index ?? 0 },
          termAt: (i: number) => r.entries[i - first]?.term,
        };
      });
      updates.forEach((u, i) => this.apply(u, plans[i] as UpdatePlan));
    });
  }

  private apply(u: ReplicaUpdate, plan: UpdatePlan): void {
    if (u.hardState === undefined && !plan.takeSnapshot && u.entries.length === 0) return;
    const r = this.getOrCreate(u.shardId, u.replicaId);
    if (plan.takeSnapshot) r.snapshot = u.snapshot ?? null;
    if (plan.dropEntries) r.entries = [];
    const e0 = u.entries[0];
    if (e0 !== undefined) {
      const first = r.entries[0]?.index ?? 0;
      if (r.entries.length === 0 || e0.index <= first) r.entries = [...u.entries];
      else {
        r.entries.length = e0.index - first;
        for (const e of u.entries) r.entries.push(e);
      }
    }
    if (u.hardState !== undefined) r.hardState = u.hardState;
  }

  /** {@inheritDoc LogDB.readEntries} */
  readEntries(shardId: number, replicaId: number, low: number, high: number, maxBytes: number): Entry[] {
    const r = this.get(shardId, replicaId);
    if (r === undefined || r.entries.length === 0) return [];
    const first = (r.entries[0] as Entry).index;
    if (low < first) throw new EntriesCompactedError(`shard ${shardId} replica ${replicaId}: entry ${low} is below first ${first}`);
    const end = Math.min(high, lastIndexOf(r) + 1);
    const out: Entry[] = [];
    let size = 0;
    for (let i = low; i < end; i++) {
      const e = r.entries[i - first] as Entry;
      size += entrySize(e);
      if (out.length > 0 && size > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** {@inheritDoc LogDB.getEntryRange} */
  getEntryRange(shardId: number, replicaId: number): EntryRange | null {
    const r = this.get(shardId, replicaId);
    if (r === undefined || r.entries.length === 0) return null;
    return { firstIndex: (r.entries[0] as Entry).index, lastIndex: lastIndexOf(r) };
  }

  /** {@inheritDoc LogDB.readHardState} */
  readHardState(shardId: number, replicaId: number): HardState {
    return this.get(shardId, replicaId)?.hardState ?? EMPTY_HARD_STATE;
  }

  /** {@inheritDoc LogDB.getSnapshot} */
  getSnapshot(shardId: number, replicaId: number): SnapshotMeta | null {
    return this.get(shardId, replicaId)?.snapshot ?? null;
  }

  /** {@inheritDoc LogDB.saveBootstrap} */
  saveBootstrap(shardId: number, replicaId: number, info: Bootstrap): Promise<void> {
    return this.run(() => { checkReplicaIds(shardId, replicaId); this.getOrCreate(shardId, replicaId).bootstrap = info; });
  }

  /** {@inheritDoc LogDB.getBootstrap} */
  getBootstrap(shardId: number, replicaId: number): Bootstrap | null {
    return this.get(shardId, replicaId)?.bootstrap ?? null;
  }

  /** {@inheritDoc LogDB.removeEntriesTo} */
  removeEntriesTo(shardId: number, replicaId: number, index: number): Promise<void> {
    return this.run(() => {
      checkReplicaIds(shardId, replicaId);
      const r = this.replicas.get(replicaKey(shardId, replicaId));
      const first = r?.entries[0]?.index;
      if (r === undefined || first === undefined || index < first) return;
      r.entries = r.entries.slice(index - first + 1);
    });
  }

  /** {@inheritDoc LogDB.compactEntriesTo} */
  compactEntriesTo(shardId: number, replicaId: number, index: number): Promise<void> {
    return this.removeEntriesTo(shardId, replicaId, index);
  }

  /** {@inheritDoc LogDB.removeReplicaData} */
  removeReplicaData(shardId: number, replicaId: number): Promise<void> {
    return this.run(() => { checkReplicaIds(shardId, replicaId); this.replicas.delete(replicaKey(shardId, replicaId)); });
  }

  /** {@inheritDoc LogDB.importSnapshot} */
  importSnapshot(snapshot: SnapshotMeta, replicaId: number): Promise<void> {
    return this.run(() => {
      checkReplicaIds(snapshot.shardId, replicaId);
      this.replicas.set(replicaKey(snapshot.shardId, replicaId), {
        shardId: snapshot.shardId, replicaId, entries: [], snapshot,
        hardState: { term: snapshot.term, vote: 0, commit: snapshot.index },
        bootstrap: { members: new Map(), join: true, smType: snapshot.type },
      });
    });
  }

  /** {@inheritDoc LogDB.listReplicas} */
  listReplicas(): ReplicaKey[] {
    if (this.closed) throw new ClosedError('LogDB is closed');
    return [...this.replicas.values()].map((r) => ({ shardId: r.shardId, replicaId: r.replicaId }));
  }

  /** {@inheritDoc LogDB.close} */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
