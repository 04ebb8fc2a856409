/**
 * The proposals a replica's callers wait on: held while the shard has no leader, handed to the
 * core once one is known, and re-forwarded after a leader change only when it is certain that
 * the first attempt can never commit. Membership changes wait in the same kind of set, behind
 * one more gate (`pending-config-change.ts`).
 *
 * Why a re-forward never applies a command twice (the argument, also in docs/operations.md):
 * 1. The core stamps every Propose with the proposer's term T (`Peer.propose`); a follower
 *    forwards it only to the leader it knows for T, which appends it only while it leads in T
 *    (a Propose for another term is dropped, a forwarded one is never forwarded again, and a
 *    membership change the leader holds for a moment is dropped with its leadership).
 *    So the entry can exist in any log only as an entry of term T.
 * A leader that refuses a forwarded Propose in T (a leader transfer, rate limit, another
 * membership change) answers with a notice and records its key first, so no copy of it is
 * appended in T afterwards: the notice fails the request at once with DroppedError (it was not
 * applied), if it is still handed over in T (`core/proposal-refusal.ts`).
 * 2. Terms never decrease along a log, and a committed entry is in the log of every later
 *    leader (Leader Completeness). So once an entry of a term above T is committed at index m,
 *    an entry of term T can only ever be committed below m.
 * 3. This replica applies committed entries in log order and completes a proposal when its key
 *    is applied. So when it applies an entry of a term above T and the proposal is still
 *    waiting, the proposal's entry was not committed below that point, and by 2 it never will
 *    be: it is safe to propose it again (same key; the first copy cannot complete it).
 * A proposal whose entry may lie inside a snapshot this replica installs instead of applying
 * the entries (term T at most the snapshot's term) cannot be decided this way: it is never
 * re-forwarded, and ends at its deadline with TIMEOUT (outcome unknown) unless its entry is
 * applied after the snapshot. With a client session a retry is deduplicated by the session
 * table in any case.
 */
import { Role } from '../core/raft.js';
import type { Entry } from '../core/types.js';
import type { SMResult } from '../contracts/state-machine.js';
import type { Pending } from './request.js';
import { SequentialKeyMap } from './sequential-key-map.js';

/** The protocol state the hand-over decisions read. */
export interface ProposalTarget {
  readonly leaderId: number;
  readonly term: number;
  readonly role: Role;
  /** Proposes `entries`; with `force`, membership changes among them skip the leader's live-quorum check. */
  propose(entries: readonly Entry[], force?: boolean): void;
}

/**
 * One waiting request with its entry, its caller's result of type `T`. `term`: 0 while held
 * (not handed to the core), the term it was handed over in, or {@link NEVER_REFORWARD}.
 */
export interface Waiter<T = SMResult> {
  readonly req: Pending<T>;
  readonly entry: Entry;
  term: number;
  /** Told the entry's index once it is committed (and persisted here), before it is applied. */
  readonly onCommitted?: ((index: number) => void) | undefined;
}

/** The term of a waiter handed over before a snapshot that may hold its entry: never re-forwarded. */
const NEVER_REFORWARD = -1;

/** The waiting requests of one kind (proposals, or membership changes) of one replica, by entry key. */
export class PendingProposals<T = SMResult> {
  /** By entry key: a replica numbers its requests one after another (`sequential-key-map.ts`). */
  private readonly waiting = new SequentialKeyMap<Waiter<T>>();
  /** Requests not yet handed to the core, in order (settled ones are skipped). */
  private held: Array<Waiter<T>> = [];
  /**
   * The highest applied term whose older waiters were looked for. Waiters are handed over in
   * the core's current term, never below an applied entry's term, so a scan of the waiters is
   * needed only when the applied term rises (once per leader change), not per proposal.
   */
  private scannedTerm = 0;

  /** Waiting requests: what `maxPending` bounds (for proposals). */
  get size(): number { return this.waiting.size; }

  /** The waiter of `key`, if any. */
  get(key: number): Waiter<T> | undefined { return this.waiting.get(key); }

  /** Adds a waiter; it is held until {@link flush} hands it over. */
  add(w: Waiter<T>): void {
    this.waiting.set(w.entry.key, w);
    // Keys of requests that ended while held leave the list at the next flush; a long time
    // without a leader must not let them pile up meanwhile.
    if (this.held.length > 2 * this.waiting.size + 64) this.held = this.held.filter((h) => h.term === 0 && !h.req.done);
    this.held.push(w);
  }

  /** Forgets `key` (its request settled, in any way). */
  remove(key: number): void {
    this.waiting.delete(key);
  }

  /**
   * Hands held requests to the core once a leader is known (a witness's go at once, for the
   * core to refuse). All requests of one pass go as ONE Propose (one append, one Replicate per
   * follower for the lot).
   */
  flush(p: ProposalTarget): void {
    const canPropose = p.leaderId !== 0 || p.role === Role.Witness;
    if (!canPropose || this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    const entries: Entry[] = [];
    const term = p.term;
    for (const w of held) {
      // Settled (and so removed: only a settled request leaves `waiting`), or handed over already.
      if (w.req.done || w.term !== 0) continue;
      w.term = term;
      entries.push(w.entry);
    }
    if (entries.length > 0) p.propose(entries);
  }

  /**
   * The core refused `e` (a leader transfer, rate limit, another change pending, a witness):
   * it was never appended. Returns its waiter, untracked, for the caller to fail. An entry
   * with a term is a leader's refusal notice for what this replica forwarded in that term: it
   * settles only a waiter still handed over in that term (one held again, or re-forwarded in a
   * later term, is another attempt the notice says nothing about).
   */
  refused(e: Entry): Waiter<T> | undefined {
    const w = this.waiting.get(e.key);
    if (w === undefined || w.entry.type !== e.type || (e.term !== 0 && w.term !== e.term)) return undefined;
    w.term = 0;
    return w;
  }

  /**
   * This replica applied committed entries up to one of term `term` (and completed every
   * proposal among them). Every request proposed in an earlier term that still waits can never
   * commit (see the module comment): it is held again, to be handed to the current leader.
   * @returns how many requests were held again.
   */
  appliedTerm(term: number): number {
    if (term <= this.scannedTerm) return 0;
    this.scannedTerm = term;
    const again: Array<Waiter<T>> = [];
    for (const w of this.waiting.values()) {
      if (w.term <= 0 || w.term >= term || w.req.done) continue;
      w.term = 0;
      again.push(w);
    }
    // Ahead of anything proposed since: they were proposed first.
    if (again.length > 0) this.held = [...again, ...this.held];
    return again.length;
  }

  /**
   * This replica installed a snapshot of term `term` instead of applying its entries: whether
   * a request proposed in that term or an earlier one is among them is unknown here, so those
   * are never re-forwarded (they still complete if their entry is applied after the snapshot;
   * otherwise they end at their deadline, TIMEOUT: outcome unknown).
   */
  snapshotInstalled(term: number): void {
    for (const w of this.waiting.values()) if (w.term > 0 && w.term <= term) w.term = NEVER_REFORWARD;
    this.scannedTerm = Math.max(this.scannedTerm, term);
  }

  /**
   * Fails every waiter: one never handed to the core with `err` (its entry is in no log: it
   * was not applied), one handed over with `inFlight` — its entry may be in a log and still
   * commit, so its caller must not be told it failed (see `outcome-unknown.ts`).
   */
  rejectAll(err: Error, inFlight: Error = err): void {
    for (const w of this.waiting.values()) w.req.reject(w.term === 0 ? err : inFlight);
  }

  /** Every waiter, by key (a copy: settling one while iterating is safe). */
  all(): Array<Waiter<T>> {
    return this.waiting.values();
  }
}
