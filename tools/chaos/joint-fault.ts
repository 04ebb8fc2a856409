/**
 * The `joint-replace` fault: a member (possibly a leader) is replaced in every shard by a new
 * replica id on a new process through ONE joint change (`POST /admin/members` with
 * `{"ops":[{"op":"add",…},{"op":"remove",…}]}`, thesis §4.3), and half of the time the
 * shard's leader is SIGKILLed while the change is under way and restarted `duration` later,
 * so that a new leader must finish it (auto-leave). A change interrupted that way is finished
 * by asking again, as an operator would: the shard refuses a second joint change while joint,
 * so the fault waits for the leave before it asks again.
 */
import { send, sleep } from './http-client.js';
import type { FaultEffect, NemesisContext } from './nemesis-context.js';
import type { PlannedFault } from './plan.js';
import { Rng } from './rng.js';

/** The joint-change view of a shard in `GET /status` (`joint` only while one is in progress). */
interface JointView {
  readonly shardId: number;
  readonly membership: { readonly voters: Record<string, string>; readonly removed?: number[]; readonly joint?: unknown };
}

/** The shard's membership as its leader reports it; undefined when no leader answered. */
async function leaderView(ctx: NemesisContext, shard: number): Promise<JointView['membership'] | undefined> {
  const leader = await ctx.cluster.leaderOf(shard, 3);
  if (leader === 0 || !ctx.cluster.alive(leader)) return undefined;
  const s = (await ctx.cluster.status(leader, 2000))?.shards.find((x) => x.shardId === shard) as JointView | undefined;
  return s?.membership;
}

/**
 * Replaces `from` by `to` in `shard` with one joint change, retrying until the leader reports
 * the final configuration (to a voter, from removed, not joint) or `ms` pass. When
 * `killLeader`, the leader is killed a moment after the first request and restarted after
 * `downMs`; returns whether the change finished and which replica was killed (0: none).
 */
async function jointShard(ctx: NemesisContext, shard: number, from: number, to: number, ms: number,
  kill: { readonly delayMs: number; readonly downMs: number } | null): Promise<{ done: boolean; killed: number }> {
  const { cluster } = ctx;
  const body = JSON.stringify({ ops: [{ op: 'add', replicaId: to, address: cluster.node(to).raft }, { op: 'remove', replicaId: from }] });
  const end = Date.now() + ms;
  let killed = 0;
  let restart: Promise<void> = Promise.resolve();
  while (Date.now() < end) {
    const m = await leaderView(ctx, shard);
    if (m !== undefined && m.joint === undefined && Object.hasOwn(m.voters, String(to)) && !Object.hasOwn(m.voters, String(from))) {
      await restart;
      return { done: true, killed };
    }
    const leader = await cluster.leaderOf(shard, 3);
    if (m === undefined || m.joint !== undefined || leader === 0 || !cluster.alive(leader)) {
      // No leader, or joint: a leader leaves the joint configuration by itself.
      await sleep(300);
      continue;
    }
    const answer = send(cluster.node(leader).httpAddr, 'POST', `/admin/members?shard=${shard}`, body, 30_000);
    if (kill !== null && killed === 0) {
      await sleep(kill.delayMs);
      killed = leader;
      await cluster.kill(leader);
      ctx.note({ event: 'killed', replica: leader, why: 'joint change under way', shard });
      restart = sleep(kill.downMs).then(() => {
        cluster.start(leader);
        ctx.note({ event: 'restarted', replica: leader });
      });
    }
    const a = await answer;
    ctx.note({ event: 'joint-replace', shard, from, to, via: leader, status: a.status, answer: a.text.slice(0, 200), error: a.error?.code });
    if (a.status !== 200) await sleep(300);
  }
  await restart;
  return { done: false, killed };
}

/** `joint-replace`: a random live member replaced by a new replica through one joint change per shard. */
export async function jointReplaceFault(ctx: NemesisContext, p: PlannedFault): Promise<FaultEffect> {
  const { cluster } = ctx;
  const live = cluster.live();
  if (live.length < cluster.members.length || live.length === 0) return null;
  const rng = new Rng(p.pick);
  const victim = rng.pick(live);
  const killShard = rng.next() < 0.5 ? 1 + rng.int(0, ctx.shards - 1) : 0;
  const delayMs = rng.int(0, 400);
  const id = await cluster.create();
  cluster.start(id, ['--join']);
  const failed: number[] = [];
  const killedAll: number[] = [];
  for (let shard = 1; shard <= ctx.shards; shard++) {
    const r = await jointShard(ctx, shard, victim, id, 60_000, shard === killShard ? { delayMs, downMs: p.duration } : null);
    if (!r.done) failed.push(shard);
    if (r.killed !== 0) killedAll.push(r.killed);
  }
  cluster.addMember(id);
  const killed = killedAll.length > 0 ? `, leader ${killedAll.join(',')} killed ${delayMs} ms into the change and restarted ${p.duration} ms later` : '';
  if (failed.length > 0) {
    ctx.problem(`joint replacement of ${victim} by ${id}: shard(s) ${failed.join(',')} did not reach the final configuration within 60 s`);
    return { target: [victim, id], detail: `joint replacement of ${victim} by ${id} incomplete in shard(s) ${failed.join(',')}${killed}` };
  }
  await cluster.kill(victim);
  await cluster.forget(victim);
  ctx.note({ event: 'joint-replaced', replica: victim, by: id });
  if (!(await cluster.ready(id, 30_000))) ctx.problem(`replica ${id} was not ready 30 s after the joint replacement`);
  return { target: [victim, id], detail: `${victim} replaced by ${id} in one joint change per shard, then stopped and wiped${killed}` };
}
