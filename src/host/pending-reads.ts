/**
 * The linearizable reads a replica's callers wait on (ReadIndex, thesis §6.4): batched into one
 * read context per engine pass, held while the shard has no leader, and sent again when the
 * leader they were sent to is gone, or when a context goes unanswered for `resendTicks` ticks
 * (its ReadIndex or the answer was lost: the transport may drop any message, and a leader that
 * stays leader in the same term would otherwise never be asked again). A read has no effect,
 * so repeating one is always safe; etcd's server re-asks the same way after 500 ms.
 */
import { ctxKey } from '../core/read-only.js';
import { Role } from '../core/raft.js';
import type { ReadContext, ReadyToRead } from '../core/types.js';
import { DroppedError } from '../errors.js';
import type { Pending } from './request.js';

/** The protocol state the read path reads and drives. */
export interface ReadTarget {
  readonly leaderId: number;
  readonly term: number;
  readonly role: Role;
  readIndex(ctx: ReadContext): void;
}

/** One waiting read. */
export interface PendingRead {
  readonly req: Pending<void>;
}

/** Reads sent under one context, and to whom. */
interface Sent {
  readonly reads: PendingRead[];
  readonly leaderId: number;
  readonly term: number;
  /** Host ticks since the context was sent. */
  age: number;
}

/** The waiting reads of one replica. */
export class PendingReads {
  /** Reads not yet sent (new, held for a leader, or to be sent again). */
  private batch: PendingRead[] = [];
  private readonly sent = new Map<string, Sent>();
  /** Reads whose index is known, waiting for the state machine to reach it. */
  private awaitingApply: Array<{ index: number; reads: PendingRead[] }> = [];
  private ctxLow = 0;
  /** The leader and term of the last flush: a change sends outstanding reads again. */
  private lastLeader = 0;
  private lastTerm = 0;

  /**
   * @param ctxHigh the high word of this replica's read contexts (unique per replica).
   * @param resendTicks ticks an unanswered context waits before its reads are sent again
   *   under a new context (the host passes the election timeout).
   */
  constructor(private readonly ctxHigh: number, private readonly resendTicks: number) {}

  /** Reads counted against `maxPending` (one per unsent read, one per sent context). */
  get size(): number { return this.batch.length + this.sent.size; }

  /** Adds a read (sent at the next {@link flush}). */
  add(pr: PendingRead): void {
    this.batch.push(pr);
  }

  /** Whether `pr` is waiting to be sent (no leader yet, or to be sent again). */
  isHeld(pr: PendingRead): boolean {
    return this.batch.includes(pr);
  }

  /** Forgets an unsent read (its request settled). */
  remove(pr: PendingRead): void {
    const i = this.batch.indexOf(pr);
    if (i >= 0) this.batch.splice(i, 1);
  }

  /**
   * Engine pass: when the leader or term changed since the last pass, reads sent to another
   * leader are sent again (that leader may be gone with them); then, if a leader is known (or
   * this is a witness, which the core refuses at once), every unsent read goes as ONE
   * ReadIndex round. Without a leader they wait, each until its own deadline.
   */
  flush(p: ReadTarget): void {
    const known = p.leaderId !== 0;
    if (known && (p.leaderId !== this.lastLeader || p.term !== this.lastTerm)) {
      this.lastLeader = p.leaderId;
      this.lastTerm = p.term;
      for (const [k, s] of this.sent) {
        if (s.leaderId === p.leaderId && s.term === p.term) continue;
        this.sent.delete(k);
        this.requeue(s.reads);
      }
    }
    if (this.batch.length === 0 || (!known && p.role !== Role.Witness)) return;
    const ctx: ReadContext = { low: ++this.ctxLow, high: this.ctxHigh };
    this.sent.set(ctxKey(ctx), { reads: this.batch, leaderId: p.leaderId, term: p.term, age: 0 });
    this.batch = [];
    p.readIndex(ctx);
  }

  /**
   * One host tick: contexts unanswered for `resendTicks` ticks are forgotten and their reads
   * queued to be sent again at the next {@link flush} (a late answer to the old context is then
   * ignored). Returns how many reads were queued: then the replica needs an engine pass.
   */
  tick(): number {
    let queued = 0;
    for (const [k, s] of this.sent) {
      if (++s.age < this.resendTicks) continue;
      this.sent.delete(k);
      queued += this.requeue(s.reads);
    }
    return queued;
  }

  private requeue(reads: readonly PendingRead[]): number {
    let n = 0;
    for (const r of reads) if (!r.req.done) { this.batch.push(r); n++; }
    return n;
  }

  /** The leader confirmed `rr`: its reads wait for the state machine to apply its index. */
  ready(rr: ReadyToRead): void {
    const k = ctxKey(rr.ctx);
    const s = this.sent.get(k);
    if (s === undefined) return;
    this.sent.delete(k);
    this.awaitingApply.push({ index: rr.index, reads: s.reads });
  }

  /**
   * The core refused the reads of `ctx` (leadership lost before they were confirmed, or a
   * witness). They are held for the next leader — a witness's fail with DroppedError, since
   * a witness never serves reads. Returns how many were refused.
   */
  dropped(ctx: ReadContext, role: Role): number {
    const k = ctxKey(ctx);
    const s = this.sent.get(k);
    if (s === undefined) return 0;
    this.sent.delete(k);
    if (role === Role.Witness) {
      for (const r of s.reads) r.req.reject(new DroppedError('read dropped: a witness serves no reads'));
    } else {
      this.requeue(s.reads);
    }
    return s.reads.length;
  }

  /** Resolves the reads whose index the state machine has applied. */
  release(applied: number): void {
    if (this.awaitingApply.length === 0) return;
    const keep: typeof this.awaitingApply = [];
    for (const w of this.awaitingApply) {
      if (w.index <= applied) for (const r of w.reads) r.req.resolve();
      else keep.push(w);
    }
    this.awaitingApply = keep;
  }

  /** Fails every waiting read with `err`. */
  rejectAll(err: Error): void {
    for (const r of this.batch) r.req.reject(err);
    for (const s of this.sent.values()) for (const r of s.reads) r.req.reject(err);
    for (const w of this.awaitingApply) for (const r of w.reads) r.req.reject(err);
    this.batch = [];
    this.sent.clear();
    this.awaitingApply = [];
  }
}
