/**
 * What the leader knows about one remote replica, and the flow-control state that decides
 * how it sends to it (Raft thesis §4.2.1 / etcd's tracker):
 * - Probe: one Replicate per heartbeat interval until the remote's position is found;
 * - Replicate: optimistic pipelining, bounded by the in-flight window;
 * - Snapshot: nothing but heartbeats until the snapshot's status is reported.
 */
import { Inflights } from './inflights.js';

/** Flow-control states of a remote. */
export const ProgressState = {
  /** The remote's position is unknown: one Replicate per heartbeat interval until it is found. */
  Probe: 0,
  /** Optimistic pipelining: Replicate messages stream, bounded by the in-flight window. */
  Replicate: 1,
  /** A snapshot is being sent: nothing but heartbeats until its status is reported. */
  Snapshot: 2,
} as const;
/** One of {@link ProgressState}. */
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

/** The leader's view of one remote. Invariant: match < next. */
export class Progress {
  /** Highest index known to be replicated on the remote. */
  match = 0;
  /** Next index to send. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** Index of the snapshot being sent while in Snapshot state. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /**
   * The leader's logical tick (`Raft.ticks`) when the remote last answered; -1: not since this
   * progress was created. Unlike `recentActive` it is never reset, so the quorum-health view
   * can ask "heard from within the last election timeout" at any moment.
   */
  lastActiveTick = -1;
  /** In Probe state: a Replicate was sent and no answer came yet. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  /** Enters Probe state: resend from just past the known match (or past the snapshot). */
  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.reset(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.reset(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  /** Enters Replicate state: pipeline from just past the match. */
  becomeReplicate(): void {
    this.reset(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  /** Enters Snapshot state for a snapshot at `index`. */
  becomeSnapshot(index: number): void {
    this.reset(ProgressState.Snapshot);
    this.pendingSnapshot = index;
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  /** The remote answered at logical tick `tick`. */
  markActive(tick: number): void {
    this.recentActive = true;
    this.lastActiveTick = tick;
  }

  /** Records an acknowledgement up to `n`; false when it tells nothing new. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** After sending entries up to `n` in Replicate state. */
  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * Handles a rejection of the Replicate at `rejected`, with `matchHint` the highest index
   * that may match on the remote. False when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    // A remote whose log ends below what it acknowledged lost entries (a disk that dropped a
    // synced write): believe its log, or the probe would resend at match + 1 forever.
    if (matchHint < this.match) this.match = matchHint;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** True when nothing more may be sent now. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe: return this.probeSent;
      case ProgressState.Replicate: return this.inflights.full();
      default: return true;
    }
  }

  /** A heartbeat response arrived: a probing leader may send again. */
  resumeOnHeartbeat(): void {
    this.probeSent = false;
    if (this.state === ProgressState.Replicate && this.inflights.full()) this.inflights.freeFirstOne();
  }
}
