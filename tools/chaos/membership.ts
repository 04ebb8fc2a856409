/**
 * Membership faults through the KV admin API: a follower removed from every shard
 * (`POST /admin/members {"op":"remove"}`), its process stopped and its data wiped, then a new
 * replica id added (`{"op":"add","replicaId","address"}`) and started with `--join`, so that
 * the cluster keeps its size; and leader transfers (`POST /admin/leader-transfer`). The same
 * replacement repairs a replica that refuses to start after disk damage, as an operator would.
 */
import { send, sleep } from './http-client.js';
import { shardOf, type FaultEffect, type NemesisContext } from './nemesis-context.js';
import type { PlannedFault } from './plan.js';
import { Rng } from './rng.js';

/** Whether `id` is a voter of `shard` as its leader reports it (undefined: no leader answered). */
async function isVoter(ctx: NemesisContext, shard: number, id: number): Promise<boolean | undefined> {
  const leader = await ctx.cluster.leaderOf(shard, 5);
  if (leader === 0) return undefined;
  const s = (await ctx.cluster.status(leader, 2000))?.shards.find((x) => x.shardId === shard);
  return s === undefined ? undefined : Object.hasOwn(s.membership.voters, String(id));
}

/**
 * Applies `op` for replica `id` to every shard, retrying (through the leader, else any live
 * member) until the leader's membership shows it or `ms` pass. Returns the shards that failed.
 */
async function changeEveryShard(ctx: NemesisContext, op: 'add' | 'remove', id: number, ms: number): Promise<number[]> {
  const { cluster } = ctx;
  const failed: number[] = [];
  const body = JSON.stringify(op === 'add' ? { op, replicaId: id, address: cluster.node(id).raft } : { op, replicaId: id });
  for (let shard = 1; shard <= ctx.shards; shard++) {
    const end = Date.now() + ms;
    let done = false;
    for (let attempt = 0; Date.now() < end; attempt++) {
      const voter = await isVoter(ctx, shard, id);
      if (voter !== undefined && voter === (op === 'add')) {
        done = true;
        break;
      }
      const leader = await cluster.leaderOf(shard, 3);
      const others = cluster.live().filter((m) => m !== id);
      const via = leader > 0 && leader !== id && cluster.alive(leader) ? leader : others[attempt % Math.max(1, others.length)];
      if (via === undefined) {
        await sleep(300);
        continue;
      }
      const a = await send(cluster.node(via).httpAddr, 'POST', `/admin/members?shard=${shard}`, body, 10_000);
      ctx.note({ event: `member-${op}`, shard, replica: id, via, status: a.status, answer: a.text.slice(0, 200), error: a.error?.code });
      if (a.status !== 200) await sleep(300);
    }
    if (!done) failed.push(shard);
  }
  return failed;
}

/** What a replacement did. */
export interface Replacement {
  /** The new replica, or null if the old one could not be removed or the new one not added. */
  readonly newId: number | null;
  readonly detail: string;
}

/**
 * Replaces member `victim`: removes it from every shard, stops its process, wipes its data
 * dir, waits `waitMs`, adds a new replica id (a new proxy, ports and data dir) to every shard
 * and starts it with `--join`. Problems (a step that keeps failing, a new replica that does
 * not become ready) are reported through `ctx.problem`.
 */
export async function replaceMember(ctx: NemesisContext, victim: number, waitMs: number, why: string): Promise<Replacement> {
  const { cluster } = ctx;
  const notRemoved = await changeEveryShard(ctx, 'remove', victim, 30_000);
  if (notRemoved.length > 0) {
    ctx.problem(`replacing replica ${victim} (${why}): it could not be removed from shard(s) ${notRemoved.join(',')} within 30 s`);
    return { newId: null, detail: `removal of ${victim} failed` };
  }
  await cluster.kill(victim);
  await cluster.forget(victim);
  ctx.note({ event: 'removed', replica: victim, why });
  await sleep(waitMs);
  const id = await cluster.create();
  const notAdded = await changeEveryShard(ctx, 'add', id, 30_000);
  cluster.addMember(id);
  cluster.start(id, ['--join']);
  ctx.note({ event: 'added', replica: id, replaces: victim, notAdded });
  if (notAdded.length > 0) ctx.problem(`replacing replica ${victim} (${why}): new replica ${id} could not be added to shard(s) ${notAdded.join(',')} within 30 s`);
  else if (!(await cluster.ready(id, 30_000))) ctx.problem(`replacing replica ${victim} (${why}): new replica ${id} was not ready 30 s after joining`);
  return { newId: id, detail: `${victim} removed and wiped, ${id} added and joined` };
}

/** `membership`: a follower (leading no shard if there is one) replaced by a new replica id, `duration` apart. */
export async function membershipFault(ctx: NemesisContext, p: PlannedFault): Promise<FaultEffect> {
  const { cluster } = ctx;
  const leaders = new Set<number>();
  for (let shard = 1; shard <= ctx.shards; shard++) leaders.add(await cluster.leaderOf(shard));
  const shardLeader = await cluster.leaderOf(shardOf(ctx, p));
  const live = cluster.live();
  const free = live.filter((id) => !leaders.has(id));
  const candidates = free.length > 0 ? free : live.filter((id) => id !== shardLeader);
  if (candidates.length === 0 || live.length < cluster.members.length) return null;
  const victim = new Rng(p.pick).pick(candidates);
  const r = await replaceMember(ctx, victim, p.duration, 'membership fault');
  return { target: r.newId === null ? [victim] : [victim, r.newId], detail: `${r.detail} (${p.duration} ms apart)` };
}

/** `transfer`: the leader of a shard asked to hand over to a random other member. */
export async function transferFault(ctx: NemesisContext, p: PlannedFault): Promise<FaultEffect> {
  const { cluster } = ctx;
  const shard = shardOf(ctx, p);
  const leader = await cluster.leaderOf(shard);
  const others = cluster.members.filter((id) => id !== leader);
  if (leader === 0 || !cluster.alive(leader) || others.length === 0) return null;
  const target = new Rng(p.pick).pick(others);
  const a = await send(cluster.node(leader).httpAddr, 'POST', `/admin/leader-transfer?shard=${shard}&target=${target}`, undefined, 10_000);
  ctx.note({ event: 'transfer', shard, from: leader, to: target, status: a.status, answer: a.text.slice(0, 200), error: a.error?.code });
  await sleep(p.duration);
  const now = await cluster.leaderOf(shard);
  return { target: [leader, target], detail: `shard ${shard}: ${leader} asked to hand over to ${target} (${a.status || a.error?.code}); leader ${p.duration} ms later: ${now}` };
}
