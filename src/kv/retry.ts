/**
 * Running a request on this replica. Any replica serves any request: the library forwards
 * proposals and read-index requests from a follower to the leader through Raft, holds them
 * while the shard has no leader, and re-forwards a proposal lost with its leader once it
 * provably cannot commit (docs/operations.md). A dropped request (refused by a leader, e.g.
 * during a leader transfer: never appended, so safe to resend) or a shard that is not ready is
 * retried here with back-off within the request's budget, then answered 503 SHARD_NOT_READY.
 * Anything else, a timeout above all (the write may still commit), is answered at once.
 */
import { SampanError, ShardNotReadyError, type RequestOptions } from '../index.js';
import type { RouteContext } from './http-reply.js';

/** Whether `e` is worth a retry: the request did not reach the log. */
export function isRetryable(e: unknown): boolean {
  return e instanceof SampanError && (e.code === 'DROPPED' || e.code === 'SHARD_NOT_READY');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `local` (one attempt on this replica) until it answers or fails for good.
 * @throws what `local` throws; ShardNotReadyError once the budget is spent on retries.
 */
export async function withRetry<T>(ctx: RouteContext, shard: number, local: (o: RequestOptions) => Promise<T>): Promise<T> {
  const deadline = Date.now() + ctx.limits.requestTimeoutMs;
  let backoff = 10;
  for (;;) {
    const remaining = Math.max(1, deadline - Date.now());
    try {
      // No signal: a client that goes away stops the retries below; its wait ends by timeout.
      return await local({ timeoutMs: remaining });
    } catch (e) {
      if (!isRetryable(e)) throw e;
      if (deadline - Date.now() <= backoff || ctx.clientGone()) {
        throw new ShardNotReadyError(`shard ${shard} is not ready: ${(e as Error).message}`);
      }
    }
    await sleep(backoff);
    backoff = Math.min(200, backoff * 2);
  }
}
