/**
 * The operator routes: `GET /status`, `GET /cluster`, `GET /metrics`, `POST /admin/snapshot`,
 * `POST /admin/members`, `POST /admin/leader-transfer`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exportDirName, InvalidOptionError, RejectedError, type MemberOp as MemberOpInput, type RequestOptions } from '../index.js';
import { HttpError } from './http-errors.js';
import { parseJsonObject, readBody } from './http-body.js';
import { intParam, json, type Reply, type RouteContext } from './http-reply.js';
import { withRetry } from './retry.js';
import { statusOf } from './status.js';

/** Snapshots of a large state take longer than a write: their own, longer wait. */
const SNAPSHOT_TIMEOUT_MS = 60_000;

/** `GET /status`. */
export function getStatus(ctx: RouteContext): Reply {
  return json(200, statusOf(ctx.service.host, ctx.replicaId, ctx.httpAddress));
}

/** `GET /cluster`: every known replica's status and a per-shard summary (see `cluster.ts`). */
export async function getCluster(ctx: RouteContext): Promise<Reply> {
  return json(200, await ctx.cluster.collect());
}

/** `GET /metrics`: Prometheus text (prom-client's exposition format 0.0.4). */
export async function getMetrics(ctx: RouteContext): Promise<Reply> {
  return { status: 200, body: await ctx.metrics.text(), contentType: ctx.metrics.contentType };
}

/**
 * The `shard` parameter: required unless the service has one shard (an admin action on the
 * wrong shard is worse than a refusal).
 */
function shardParam(ctx: RouteContext): number {
  const n = ctx.service.shards;
  const v = ctx.query.get('shard');
  if (n > 1 && (v === null || v === '')) {
    throw new HttpError(400, 'INVALID_REQUEST', `query parameter 'shard' is required: this replica serves shards 1..${n}`);
  }
  return intParam(ctx.query, 'shard', 1);
}

/**
 * Where the library puts an exported snapshot: `<dir>/shard-<s>-replica-<r>-snapshot-<index,
 * 16 upper-case hex>`. The API does not return the path, so it is reported only when found.
 */
function exportedPath(dir: string, shard: number, replicaId: number, index: number): string | undefined {
  const p = join(dir, exportDirName(shard, replicaId, index));
  return existsSync(p) ? p : undefined;
}

/** An optional non-negative integer query parameter. */
function optionalInt(ctx: RouteContext, name: string): number | undefined {
  return ctx.query.get(name) === null ? undefined : intParam(ctx.query, name);
}

/**
 * `POST /admin/snapshot?shard=N[&export=DIR][&compactionOverhead=N|&compactionIndex=N]`: 200
 * `{"index":N}` (and `"path"` for an export). Either compaction parameter overrides the shard's
 * configured overhead for this snapshot; both together are 400 INVALID_OPTION.
 */
export async function postSnapshot(ctx: RouteContext): Promise<Reply> {
  const shard = shardParam(ctx);
  const exportDir = ctx.query.get('export');
  if (exportDir === '') throw new HttpError(400, 'INVALID_REQUEST', 'export needs a directory');
  const overhead = optionalInt(ctx, 'compactionOverhead');
  const compactionIndex = optionalInt(ctx, 'compactionIndex');
  const index = await ctx.service.host.requestSnapshot(shard, {
    exported: exportDir !== null, exportPath: exportDir ?? undefined,
    compactionOverhead: overhead, compactionIndex, overrideCompactionOverhead: overhead !== undefined || compactionIndex !== undefined,
    timeoutMs: SNAPSHOT_TIMEOUT_MS, signal: ctx.signal,
  });
  const path = exportDir === null ? undefined : exportedPath(exportDir, shard, ctx.replicaId, index);
  return json(200, path === undefined ? { index } : { index, path });
}

const MEMBER_OPS = ['add', 'remove', 'add-non-voting', 'add-witness'] as const;
type MemberOp = (typeof MEMBER_OPS)[number];

/**
 * The optional `"force": true` of a membership body: skip the leader's live-quorum check
 * (without it a change that would leave too few live voters is answered 409 NOT_ENOUGH_LIVE_VOTERS).
 */
function forceOf(body: Record<string, unknown>): boolean {
  const f = body['force'];
  if (f !== undefined && typeof f !== 'boolean') throw new HttpError(400, 'INVALID_REQUEST', '"force" must be true or false');
  return f === true;
}

/** `POST /admin/members?shard=N` body `{"op","replicaId","address"[,"force"]}`: 200 once applied. */
export async function postMembers(ctx: RouteContext): Promise<Reply> {
  const shard = shardParam(ctx);
  const raw = await readBody(ctx.req, 64 * 1024);
  const body = parseJsonObject(raw);
  const force = forceOf(body);
  if (body['ops'] !== undefined) return await postJointMembers(ctx, shard, body['ops'], force);
  const op = body['op'];
  const replicaId = body['replicaId'];
  const address = body['address'];
  if (typeof op !== 'string' || !(MEMBER_OPS as readonly string[]).includes(op)) {
    throw new HttpError(400, 'INVALID_REQUEST', `"op" must be one of ${MEMBER_OPS.join(', ')}`);
  }
  if (typeof replicaId !== 'number' || !Number.isSafeInteger(replicaId) || replicaId < 1) {
    throw new HttpError(400, 'INVALID_REQUEST', '"replicaId" must be a positive integer');
  }
  if (op !== 'remove' && typeof address !== 'string') throw new HttpError(400, 'INVALID_REQUEST', '"address" must be "host:port"');
  const host = ctx.service.host;
  const addr = typeof address === 'string' ? address : '';
  const run: Record<MemberOp, (o: RequestOptions & { force: boolean }) => Promise<void>> = {
    'add': (o) => host.requestAddReplica(shard, replicaId, addr, o),
    'remove': (o) => host.requestDeleteReplica(shard, replicaId, o),
    'add-non-voting': (o) => host.requestAddNonVoting(shard, replicaId, addr, o),
    'add-witness': (o) => host.requestAddWitness(shard, replicaId, addr, o),
  };
  return await withRetry(ctx, shard, async (o) => {
    await run[op as MemberOp]({ ...o, force });
    return json(200, { ok: true });
  });
}

/**
 * `POST /admin/members?shard=N` with `{"ops":[{"op":"add","replicaId":4,"address":"…"},{"op":"remove","replicaId":3}]}`:
 * the list as one joint change; 200 once the final configuration is applied.
 */
async function postJointMembers(ctx: RouteContext, shard: number, raw: unknown, force: boolean): Promise<Reply> {
  if (!Array.isArray(raw) || raw.length === 0) throw new HttpError(400, 'INVALID_REQUEST', '"ops" must be a non-empty array');
  const ops: MemberOpInput[] = raw.map((o: unknown, i) => {
    if (typeof o !== 'object' || o === null) throw new HttpError(400, 'INVALID_REQUEST', `"ops[${i}]" must be an object`);
    const { op, replicaId, address } = o as Record<string, unknown>;
    if (typeof op !== 'string' || !JOINT_OPS.includes(op)) throw new HttpError(400, 'INVALID_REQUEST', `"ops[${i}].op" must be one of ${JOINT_OPS.join(', ')}`);
    if (typeof replicaId !== 'number' || !Number.isSafeInteger(replicaId) || replicaId < 1) {
      throw new HttpError(400, 'INVALID_REQUEST', `"ops[${i}].replicaId" must be a positive integer`);
    }
    if (address !== undefined && typeof address !== 'string') throw new HttpError(400, 'INVALID_REQUEST', `"ops[${i}].address" must be "host:port"`);
    return { op: op as MemberOpInput['op'], replicaId, ...(address === undefined ? {} : { address }) };
  });
  const host = ctx.service.host;
  return await withRetry(ctx, shard, async (o) => {
    await host.requestJointChange(shard, ops, { ...o, force });
    return json(200, { ok: true });
  });
}

const JOINT_OPS: readonly string[] = ['add', 'add-non-voting', 'remove', 'promote', 'demote'];

/** `POST /admin/leader-transfer?shard=N&target=ID`: 202 once the leader was asked (not once moved). */
export async function postLeaderTransfer(ctx: RouteContext): Promise<Reply> {
  const shard = shardParam(ctx);
  const target = intParam(ctx.query, 'target');
  const host = ctx.service.host;
  if (target <= 0) throw new InvalidOptionError(`target ${target} is invalid`);
  const m = host.getNodeHostInfo().shards.find((s) => s.shardId === shard)?.membership;
  if (m !== undefined && !m.voters.has(target)) throw new RejectedError(`replica ${target} is not a voter of shard ${shard}`);
  return await withRetry(ctx, shard, async () => {
    // The contract answers once the leader was asked; the outcome shows in /status.
    host.requestLeaderTransfer(shard, target, { timeoutMs: 30_000 }).catch(() => {});
    return json(202, { shardId: shard, target });
  });
}
