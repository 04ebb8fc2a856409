/**
 * The data routes: `PUT/GET/DELETE /kv/{key}` and `POST /cas/{key}`. Values are raw bytes;
 * CAS takes and returns strings in JSON (UTF-8). Everything but a stale read goes through Raft
 * from this replica (the library forwards to the leader); `retry.ts` retries while no leader.
 */
import { HttpError, errorBody } from './http-errors.js';
import { parseJsonObject, readBody } from './http-body.js';
import { json, type Reply, type RouteContext } from './http-reply.js';
import { keyBytes } from './kv-service.js';
import { withRetry } from './retry.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

/**
 * The key of the request as bytes.
 * @throws HttpError 400 for an empty key, 413 PAYLOAD_TOO_BIG past the key limit.
 */
function keyOf(ctx: RouteContext): Uint8Array {
  if (ctx.rest === '') throw new HttpError(400, 'INVALID_REQUEST', 'the key is empty');
  const k = keyBytes(ctx.rest);
  if (k.length > ctx.limits.maxKeyBytes) {
    throw new HttpError(413, 'PAYLOAD_TOO_BIG', `key of ${k.length} bytes exceeds the limit of ${ctx.limits.maxKeyBytes}`);
  }
  return k;
}

function checkValue(ctx: RouteContext, v: Uint8Array): void {
  if (v.length > ctx.limits.maxValueBytes) {
    throw new HttpError(413, 'PAYLOAD_TOO_BIG', `value of ${v.length} bytes exceeds the limit of ${ctx.limits.maxValueBytes}`);
  }
}

/** 404 KEY_NOT_FOUND, returned rather than thrown: a common answer, and an Error's stack costs. */
function notFound(ctx: RouteContext): Reply {
  return { status: 404, body: errorBody({ status: 404, code: 'KEY_NOT_FOUND', message: `key '${ctx.rest}' not found` }), contentType: 'application/json' };
}

/** 200 `{"index":N}`, written without JSON.stringify (the reply of every put and delete). */
function indexReply(index: number): Reply {
  return { status: 200, body: `{"index":${index}}`, contentType: 'application/json' };
}

/** `PUT /kv/{key}`: 200 `{"index":N}` once committed and applied. */
export async function putKey(ctx: RouteContext): Promise<Reply> {
  const key = keyOf(ctx);
  const value = await readBody(ctx.req, Math.min(ctx.limits.maxBodyBytes, ctx.limits.maxValueBytes));
  checkValue(ctx, value);
  return indexReply(await withRetry(ctx, ctx.service.shardOf(key), (o) => ctx.service.put(key, value, o)));
}

/** `GET /kv/{key}[?stale=true]`: 200 with the raw value, or 404 KEY_NOT_FOUND. */
export async function getKey(ctx: RouteContext): Promise<Reply> {
  const key = keyOf(ctx);
  const stale = ctx.query.get('stale');
  if (stale !== null && stale !== 'true' && stale !== 'false') {
    throw new HttpError(400, 'INVALID_REQUEST', `stale must be true or false, got '${stale}'`);
  }
  const raw = (v: Uint8Array | null): Reply => (v === null ? notFound(ctx) : { status: 200, body: v, contentType: 'application/octet-stream' });
  if (stale === 'true') return raw(await ctx.service.staleGet(key));
  return await withRetry(ctx, ctx.service.shardOf(key), async (o) => raw(await ctx.service.get(key, o)));
}

/** `DELETE /kv/{key}`: 200 `{"index":N}`. */
export async function deleteKey(ctx: RouteContext): Promise<Reply> {
  const key = keyOf(ctx);
  return indexReply(await withRetry(ctx, ctx.service.shardOf(key), (o) => ctx.service.delete(key, o)));
}

/** `POST /cas/{key}` body `{"expected": string|null, "value": string}`. */
export async function casKey(ctx: RouteContext): Promise<Reply> {
  const key = keyOf(ctx);
  const raw = await readBody(ctx.req, ctx.limits.maxBodyBytes);
  const body = parseJsonObject(raw);
  const { expected, value } = body;
  if (!('expected' in body) || (expected !== null && typeof expected !== 'string')) {
    throw new HttpError(400, 'INVALID_REQUEST', '"expected" must be a string or null');
  }
  if (typeof value !== 'string') throw new HttpError(400, 'INVALID_REQUEST', '"value" must be a string');
  const exp = expected === null ? null : utf8.encode(expected);
  const val = utf8.encode(value);
  checkValue(ctx, val);
  if (exp !== null) checkValue(ctx, exp);
  return await withRetry(ctx, ctx.service.shardOf(key), async (o) => {
    const r = await ctx.service.cas(key, exp, val, o);
    return json(200, r.ok ? { ok: true } : { ok: false, current: r.current === null ? null : text.decode(r.current) });
  });
}
