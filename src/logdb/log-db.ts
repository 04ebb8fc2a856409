/**
 * Helpers both LogDB implementations share: argument checks, the replica map key, and the
 * plan of what an update does to a replica's log. The contract itself is
 * `src/contracts/log-db.ts`.
 */
import type { Entry } from '../core/types.js';
import { InvalidOperationError } from '../errors.js';
import type { ReplicaUpdate } from '../contracts/log-db.js';

function checkId(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidOperationError(`${what} ${v} is not a non-negative safe integer`);
}

/**
 * Checks what can be checked of an update without the stored state: ids, and entries that
 * are consecutive from an index >= 1.
 * @throws InvalidOperationError
 */
export function checkUpdateShape(u: ReplicaUpdate): void {
  checkId('shard id', u.shardId);
  checkId('replica id', u.replicaId);
  let prev = -1;
  for (const e of u.entries) {
    if (!Number.isSafeInteger(e.index) || e.index < 1) throw new InvalidOperationError(`entry index ${e.index} is invalid`);
    if (prev >= 0 && e.index !== prev + 1) {
      throw new InvalidOperationError(`entries of shard ${u.shardId} replica ${u.replicaId} are not consecutive at ${e.index}`);
    }
    prev = e.index;
  }
}

/** Checks the (shard, replica) ids of a non-update call. @throws InvalidOperationError */
export function checkReplicaIds(shardId: number, replicaId: number): void {
  checkId('shard id', shardId);
  checkId('replica id', replicaId);
}

/** The key a replica is filed under in maps. */
export function replicaKey(shardId: number, replicaId: number): string { return `${shardId}:${replicaId}`; }

/** The gap error both implementations raise. */
export function gapError(u: ReplicaUpdate, last: number): InvalidOperationError {
  return new InvalidOperationError(
    `entries of shard ${u.shardId} replica ${u.replicaId} start at ${u.entries[0]?.index}, past last index ${last} + 1`);
}

/** A replica's stored entry window and snapshot index; `first === 0` when no entries. */
export interface LogWindow { readonly first: number; readonly last: number; readonly snapshotIndex: number }

/** The window of a replica with nothing stored. */
export const EMPTY_WINDOW: LogWindow = Object.freeze({ first: 0, last: 0, snapshotIndex: 0 });

/** What an update does to a replica's log; both LogDBs follow it so they cannot disagree. */
export interface UpdatePlan {
  /** The update's snapshot record is newer than the stored one and replaces it. */
  readonly takeSnapshot: boolean;
  /** Every stored entry is dropped (the snapshot replaced them) before entries are added. */
  readonly dropEntries: boolean;
  /** The window after the update. */
  readonly after: LogWindow;
}

/**
 * Plans `u` against a replica's window. `termAt(i)` answers for stored `first <= i <= last`.
 * @throws InvalidOperationError for a gap after the stored entries.
 */
export function planUpdate(w: LogWindow, u: ReplicaUpdate, termAt: (index: number) => number | undefined): UpdatePlan {
  let { first, last, snapshotIndex } = w;
  let takeSnapshot = false, dropEntries = false;
  const ss = u.snapshot;
  if (ss !== undefined && ss.index > snapshotIndex) {
    takeSnapshot = true;
    snapshotIndex = ss.index;
    if (first > 0 && ss.index >= first && (ss.index > last || termAt(ss.index) !== ss.term)) {
      dropEntries = true;
      first = 0; last = 0;
    }
  }
  const e0 = u.entries[0];
  if (e0 !== undefined) {
    const eN = (u.entries[u.entries.length - 1] as Entry).index;
    if (first === 0 || e0.index <= first) first = e0.index;
    else if (e0.index > last + 1) throw gapError(u, last);
    last = eN;
  }
  return { takeSnapshot, dropEntries, after: { first, last, snapshotIndex } };
}

/**
 * Plans a whole call before any of it is applied (all-or-nothing), tracking replicas that
 * several updates of the call touch.
 * @throws InvalidOperationError for the first bad update; nothing is planned then.
 */
export function planCall(
  updates: readonly ReplicaUpdate[],
  stored: (u: ReplicaUpdate) => { window: LogWindow; termAt: (index: number) => number | undefined },
): UpdatePlan[] {
  const seen = new Map<string, { window: LogWindow; overlays: (readonly Entry[])[]; termAt: (i: number) => number | undefined }>();
  const plans: UpdatePlan[] = [];
  for (const u of updates) {
    checkUpdateShape(u);
    const key = replicaKey(u.shardId, u.replicaId);
    let s = seen.get(key);
    if (s === undefined) {
      const st = stored(u);
      s = { window: st.window, overlays: [], termAt: st.termAt };
      seen.set(key, s);
    }
    const { overlays, termAt } = s;
    // Terms come from the call's earlier entries for this replica first; a replica the call
    // has not touched yet (the usual case: one update per replica) reads its store directly.
    const plan = planUpdate(s.window, u, overlays.length === 0 ? termAt : (i) => {
      for (let k = overlays.length - 1; k >= 0; k--) {
        const arr = overlays[k] as readonly Entry[];
        const f = arr[0]?.index ?? 0;
        if (i >= f && i < f + arr.length) return arr[i - f]?.term;
      }
      return termAt(i);
    });
    if (u.entries.length > 0) overlays.push(u.entries);
    s.window = plan.after;
    plans.push(plan);
  }
  return plans;
}
