/**
 * The membership changes a replica's callers wait on (dragonboat's `pendingConfigChange`). A
 * change is held until a leader is known AND this replica has applied an entry of the
 * leader's term (that leader committed its no-op: the core refuses a change before that); it
 * then goes to the core, resolves when its entry is applied, and is re-forwarded after a
 * leader change only once its first copy provably cannot commit, exactly as a proposal
 * (`pending-proposals.ts`). The leader accepts one change at a time: a change proposed while
 * another is pending is refused by the core and fails here with DroppedError (dragonboat
 * refuses a second change up front with ErrSystemBusy; sampan lets the protocol decide) — at
 * once, also when forwarded (the leader's notice). One that arrives while the pending change is
 * committed but not yet handed to the leader's host waits there instead (`core/proposal-refusal.ts`).
 * A change the leader refuses by its live-quorum check (`core/live-quorum.ts`) fails with
 * NotEnoughLiveVotersError; one made with `force` is proposed with the hint that skips it.
 */
import { ConfigChangeType, type Entry } from '../core/types.js';
import { decodeConfigChange } from '../encoding/config-change.js';
import { DroppedError, RejectedError, type NotEnoughLiveVotersError } from '../errors.js';
import { decodeShortfall } from '../core/live-quorum.js';
import { notEnoughLiveVoters } from './live-quorum-error.js';
import type { ApplyOutcome } from '../rsm/state-machine-manager.js';
import { PendingProposals, type ProposalTarget } from './pending-proposals.js';
import type { Pending } from './request.js';

/** The waiting membership changes of one replica, by entry key. */
export class PendingConfigChange {
  private readonly changes = new PendingProposals<void>();
  /** Keys of the changes made with `force`: proposed with the hint that skips the leader's live-quorum check. */
  private readonly forced = new Set<number>();

  /** Membership changes waiting (held, or in the log and not yet applied). */
  get size(): number { return this.changes.size; }

  /** Whether `key` is a waiting membership change. */
  has(key: number): boolean {
    return this.changes.get(key) !== undefined;
  }

  /**
   * Adds a change (its ConfigChange entry with a key of the replica's, term 0); it waits for
   * {@link flush}. `req`'s cleanup must call {@link remove}.
   */
  add(req: Pending<void>, entry: Entry, onCommitted?: (index: number) => void, force = false): void {
    this.changes.add({ req, entry, term: 0, onCommitted });
    if (force) this.forced.add(entry.key);
  }

  /** A committed (not yet applied) entry: a change of this replica's waiting on it is told its index. */
  committed(e: Entry): void {
    const w = this.changes.get(e.key);
    if (w !== undefined && w.entry.type === e.type) w.onCommitted?.(e.index);
  }

  /** Forgets `key` (its request settled, in any way). */
  remove(key: number): void {
    this.changes.remove(key);
    this.forced.delete(key);
  }

  /**
   * At a change's deadline: DroppedError when it is certainly in no log that can commit (held
   * for a leader, or held again after a leader change); undefined otherwise (outcome unknown).
   */
  expired(key: number, shardId: number, ms: number): Error | undefined {
    const w = this.changes.get(key);
    if (w === undefined || w.term !== 0) return undefined;
    return new DroppedError(`shard ${shardId}: no leader (that had applied an entry of its term here) took the request within ${ms} ms; it was not applied`);
  }

  /**
   * Engine pass: hands held changes to the core when a leader is known and `ready` (this
   * replica applied an entry of the core's current term).
   */
  flush(p: ProposalTarget, ready: boolean): void {
    if (!ready) return;
    if (this.forced.size === 0) {
      this.changes.flush(p);
      return;
    }
    // Forced changes go in a Propose of their own: the hint is per message.
    this.changes.flush({
      leaderId: p.leaderId, term: p.term, role: p.role,
      propose: (entries) => {
        const plain = entries.filter((e) => !this.forced.has(e.key));
        const forced = entries.filter((e) => this.forced.has(e.key));
        if (plain.length > 0) p.propose(plain);
        if (forced.length > 0) p.propose(forced, true);
      },
    });
  }

  /**
   * The error for a change of this replica's that the leader refused with a live-quorum
   * shortfall (`core/live-quorum.ts`), or undefined when `e` is not such a refusal.
   */
  liveQuorumRefusal(e: Entry, shardId: number): NotEnoughLiveVotersError | undefined {
    const short = decodeShortfall(e.cmd);
    const w = this.changes.get(e.key);
    if (short === null || w === undefined) return undefined;
    return notEnoughLiveVoters(shardId, decodeConfigChange(w.entry.cmd), short);
  }

  /**
   * The core refused entry `e` (never appended): its caller, if it is a change here, gets `err`
   * (default DroppedError). Returns whether a change failed.
   */
  dropped(e: Entry, err?: Error): boolean {
    const w = this.changes.refused(e);
    w?.req.reject(err ?? new DroppedError('membership change dropped: another change is pending, or a leader transfer'));
    return w !== undefined;
  }

  /**
   * An entry was applied: a membership change of this replica's resolves, or rejects with
   * RejectedError when the state machine refused it. Returns false when `o` is not a change
   * waiting here.
   */
  applied(o: ApplyOutcome): boolean {
    const w = o.key === 0 ? undefined : this.changes.get(o.key);
    if (w === undefined) return false;
    if (o.configChange !== undefined) w.req.resolve();
    else if (o.rejected) w.req.reject(new RejectedError(`membership change rejected: ${o.reason ?? ''}`));
    return true;
  }

  /**
   * An entry of term `term` was applied: changes proposed in an earlier term that still wait
   * can never commit and are held again. Returns how many.
   */
  appliedTerm(term: number): number {
    return this.changes.appliedTerm(term);
  }

  /** A snapshot of term `term` was installed: changes proposed up to that term are never re-forwarded. */
  snapshotInstalled(term: number): void {
    this.changes.snapshotInstalled(term);
  }

  /**
   * This replica learned it was removed: a waiting change that removes `replicaId` itself
   * succeeded (that is how it was removed), though it may never see it applied here.
   */
  removedSelf(replicaId: number): void {
    for (const w of this.changes.all()) {
      const cc = decodeConfigChange(w.entry.cmd);
      if (cc.type === ConfigChangeType.RemoveReplica && cc.replicaId === replicaId) w.req.resolve();
    }
  }

  /** Fails every waiting change (the replica stopped or failed): `err`, or `inFlight` for one handed to the core (`PendingProposals.rejectAll`). */
  rejectAll(err: Error, inFlight: Error = err): void {
    this.changes.rejectAll(err, inFlight);
  }
}
