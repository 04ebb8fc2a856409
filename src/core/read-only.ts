/**
 * Linearizable reads without log writes (Raft thesis §6.4): the leader records its commit
 * index for a read, confirms it is still leader by a round of heartbeats acknowledged by a
 * quorum, and then releases the read at that index. Requests confirmed by one round are
 * released together with every request queued before them.
 */
import type { ReadContext } from './types.js';

/** A read waiting for leadership confirmation. */
export interface PendingRead {
  readonly ctx: ReadContext;
  /** The replica that asked (the leader itself for local reads). */
  readonly from: number;
  /** The leader's commit index when the read arrived: the read index. */
  readonly index: number;
  /** Replicas that acknowledged a heartbeat carrying this context (or a later one). */
  readonly acks: Set<number>;
}

/** Key under which a context is stored. */
export function ctxKey(ctx: ReadContext): string {
  return `${ctx.low}:${ctx.high}`;
}

/** The leader's queue of reads awaiting confirmation, in arrival order. */
export class ReadOnly {
  private readonly pending = new Map<string, PendingRead>();
  private queue: PendingRead[] = [];

  /** Queues a read; a context already queued is ignored. */
  add(ctx: ReadContext, from: number, index: number, self: number): void {
    const key = ctxKey(ctx);
    if (this.pending.has(key)) return;
    const r: PendingRead = { ctx, from, index, acks: new Set([self]) };
    this.pending.set(key, r);
    this.queue.push(r);
  }

  /**
   * Records that `from` acknowledged the heartbeat carrying `ctx`. Returns the set of
   * acknowledgers for that read, or undefined if the context is unknown.
   */
  recvAck(from: number, ctx: ReadContext): ReadonlySet<number> | undefined {
    const r = this.pending.get(ctxKey(ctx));
    if (r === undefined) return undefined;
    r.acks.add(from);
    return r.acks;
  }

  /** Removes and returns the read for `ctx` and every read queued before it. */
  advance(ctx: ReadContext): PendingRead[] {
    const key = ctxKey(ctx);
    const at = this.queue.findIndex((r) => ctxKey(r.ctx) === key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    for (const r of done) this.pending.delete(ctxKey(r.ctx));
    return done;
  }

  /** The context of the newest queued read, if any. */
  lastPending(): ReadContext | undefined {
    return this.queue[this.queue.length - 1]?.ctx;
  }

  /** Number of reads waiting. */
  get size(): number { return this.queue.length; }

  /** Removes and returns every waiting read (the leader lost leadership). */
  drain(): PendingRead[] {
    const all = this.queue;
    this.queue = [];
    this.pending.clear();
    return all;
  }
}
