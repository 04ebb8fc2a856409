/**
 * `POST /admin/verify?shard=N`: proposes a state-hash marker through Raft
 * (`NodeHost.verifyShard`); every replica hashes its state at the marker's index and shows it
 * as `stateHash` in `/status`. Answers 200 `{"index":N,"hash":"<16 hex>"}` (this replica's)
 * once applied here; `GET /cluster` then compares the replicas (`stateHashes`).
 */
import { json, type Reply, type RouteContext } from './http-reply.js';
import { intParam } from './http-reply.js';
import { HttpError } from './http-errors.js';
import { withRetry } from './retry.js';

/** The verify route (see the module comment). */
export async function postVerify(ctx: RouteContext): Promise<Reply> {
  const n = ctx.service.shards;
  if (n > 1 && (ctx.query.get('shard') ?? '') === '') {
    throw new HttpError(400, 'INVALID_REQUEST', `query parameter 'shard' is required: this replica serves shards 1..${n}`);
  }
  const shard = intParam(ctx.query, 'shard', 1);
  return await withRetry(ctx, shard, async (o) => json(200, await ctx.service.host.verifyShard(shard, o)));
}
