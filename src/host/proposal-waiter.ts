/**
 * A proposal's request and its waiter in one object: the entry it proposes, the term it was
 * handed over in and its commit callback ride on the pending request itself, and its hooks are
 * methods rather than closures. A proposal then costs this object, its entry and its promise:
 * at 150,000 proposals a second on a leader, every object less per proposal is garbage the
 * collector need not copy while the proposal waits (issue 19).
 */
import type { SMResult } from '../contracts/state-machine.js';
import type { Entry } from '../core/types.js';
import { DroppedError } from '../errors.js';
import type { Deadlines } from './deadlines.js';
import type { PendingProposals, Waiter } from './pending-proposals.js';
import { Pending, type RequestOptions } from './request.js';

/** One waiting proposal of a replica (see {@link PendingProposals}). */
export class ProposalWaiter extends Pending<SMResult> implements Waiter<SMResult> {
  /** 0 while held, the term it was handed over in, or -1: never re-forwarded (`pending-proposals.ts`). */
  term = 0;

  /**
   * Registers the deadline; the caller adds the waiter to `set`.
   * @param set the replica's proposals, which this waiter leaves once it settles.
   * @param shardId for the message of a proposal that no leader took.
   * @param entry the proposed entry (its key names the proposal in `set`).
   * @param onCommitted told the entry's index once committed, before it is applied.
   */
  constructor(deadlines: Deadlines, opts: RequestOptions | undefined, private readonly set: PendingProposals,
    private readonly shardId: number, readonly entry: Entry, readonly onCommitted?: (index: number) => void) {
    super(deadlines, opts);
  }

  /** The waiter is its own request. */
  get req(): this {
    return this;
  }

  protected override settled(): void {
    this.set.remove(this.entry.key);
  }

  /**
   * At its deadline: DroppedError when certainly in no log that can commit (held for a leader,
   * or held again after a leader change); otherwise undefined, a TimeoutError (outcome unknown).
   */
  protected override expiredError(ms: number): Error | undefined {
    return this.term === 0 ? new DroppedError(`shard ${this.shardId}: no leader took the request within ${ms} ms; it was not applied`) : undefined;
  }
}
