/**
 * A user's snapshot request waiting for its save (dragonboat's `pendingSnapshot`; SNAPSHOTS.md
 * §1.4): one slot per replica. The request's own deadline or abort frees the slot (the save it
 * started, if any, still completes); the replica stopping fails it with ClosedError.
 */
import { ClosedError, SystemBusyError } from '../errors.js';
import type { Pending } from './request.js';
import type { SaveTarget } from './snapshot-worker.js';

/** A user's snapshot request. */
export interface SnapshotRequest {
  readonly req: Pending<number>;
  readonly target: SaveTarget;
  /** The compaction index for a snapshot at `index`, or null for none. */
  readonly compactTo: (index: number) => number | null;
}

/** The one pending user snapshot request of a replica. */
export class PendingSnapshot {
  private slot: SnapshotRequest | null = null;
  /** Whether the request in the slot was handed to the apply loop. */
  private admitted = false;
  private closed: string | null = null;

  constructor(private readonly shardId: number) {}

  /** Whether a request occupies the slot. */
  get pending(): boolean { return this.slot !== null; }

  /**
   * Puts the request `make` builds in the slot; `make` is given the cleanup its Pending must
   * call when it settles (which frees the slot). Resolves with the snapshot's index.
   * @throws ClosedError after {@link close}; SystemBusyError when a request is already pending.
   */
  request(make: (cleanup: () => void) => SnapshotRequest): Promise<number> {
    if (this.closed !== null) throw new ClosedError(this.closed);
    if (this.slot !== null) throw new SystemBusyError(`shard ${this.shardId} already has a pending snapshot request`);
    const request = make(() => {
      if (this.slot === request) {
        this.slot = null;
        this.admitted = false;
      }
    });
    this.slot = request;
    return request.req.promise;
  }

  /**
   * The request to hand to the apply loop, once: null when the slot is empty or its request
   * was taken already. It stays in the slot (a second request is busy) until it settles.
   */
  take(): SnapshotRequest | null {
    if (this.slot === null || this.admitted) return null;
    this.admitted = true;
    return this.slot;
  }

  /** Fails the pending request, if any, and refuses later ones, with ClosedError(`message`). */
  close(message: string): void {
    this.closed = message;
    this.slot?.req.reject(new ClosedError(message));
  }
}
