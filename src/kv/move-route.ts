/**
 * `POST /admin/move?shard=N` body `{"from":ID,"replicaId":ID,"address":"host:port"}`: moves
 * replica `from` to the new replica `replicaId` at `address` (started beforehand with `--join`
 * on its host) through `NodeHost.moveReplica`; 200 `{"steps":[…]}` once the old replica is
 * removed. Run it on the leader's replica (421 NOT_LEADER names the leader otherwise); running
 * it again resumes an interrupted move.
 */
import type { RouteContext, Reply } from './http-reply.js';
import { json, intParam } from './http-reply.js';
import { HttpError } from './http-errors.js';
import { parseJsonObject, readBody } from './http-body.js';

/** How long a move may take: the new replica may catch up from a large snapshot. */
const MOVE_TIMEOUT_MS = 120_000;

function positiveInt(body: Record<string, unknown>, name: string): number {
  const v = body[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new HttpError(400, 'INVALID_REQUEST', `"${name}" must be a positive integer`);
  return v;
}

/** The move route (see the module comment). */
export async function postMove(ctx: RouteContext): Promise<Reply> {
  const n = ctx.service.shards;
  if (n > 1 && (ctx.query.get('shard') ?? '') === '') {
    throw new HttpError(400, 'INVALID_REQUEST', `query parameter 'shard' is required: this replica serves shards 1..${n}`);
  }
  const shard = intParam(ctx.query, 'shard', 1);
  const body = parseJsonObject(await readBody(ctx.req, 64 * 1024));
  const from = positiveInt(body, 'from');
  const replicaId = positiveInt(body, 'replicaId');
  const address = body['address'];
  if (typeof address !== 'string') throw new HttpError(400, 'INVALID_REQUEST', '"address" must be "host:port"');
  const res = await ctx.service.host.moveReplica(shard, from, { replicaId, address }, { timeoutMs: MOVE_TIMEOUT_MS, signal: ctx.signal });
  return json(200, { steps: res.steps });
}
