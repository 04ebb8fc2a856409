/**
 * The `move` fault: a member (leader or follower) is moved to a new replica id on a new process
 * with `POST /admin/move` — added as non-voting, caught up, promoted, the old one removed —
 * and the old process is then stopped and wiped. Unlike `membership` (remove, then add), the
 * shard never has fewer voters than it started with. A move refused off the leader (421) or
 * interrupted by another fault's leftovers is resumed by asking again, as an operator would.
 */
import { send, sleep } from './http-client.js';
import type { FaultEffect, NemesisContext } from './nemesis-context.js';
import type { PlannedFault } from './plan.js';
import { Rng } from './rng.js';

/** Moves `from` to `to` in `shard` through its leader, retrying until done or `ms` pass. */
async function moveShard(ctx: NemesisContext, shard: number, from: number, to: number, ms: number): Promise<boolean> {
  const { cluster } = ctx;
  const body = JSON.stringify({ from, replicaId: to, address: cluster.node(to).raft });
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const leader = await cluster.leaderOf(shard, 3);
    if (leader === 0 || !cluster.alive(leader)) {
      await sleep(300);
      continue;
    }
    const a = await send(cluster.node(leader).httpAddr, 'POST', `/admin/move?shard=${shard}`, body, 30_000);
    ctx.note({ event: 'move', shard, from, to, via: leader, status: a.status, answer: a.text.slice(0, 200), error: a.error?.code });
    if (a.status === 200) return true;
    await sleep(300);
  }
  return false;
}

/** `move`: a random live member moved to a new replica id; the old process goes once every shard moved. */
export async function moveFault(ctx: NemesisContext, p: PlannedFault): Promise<FaultEffect> {
  const { cluster } = ctx;
  const live = cluster.live();
  if (live.length < cluster.members.length || live.length === 0) return null;
  const victim = new Rng(p.pick).pick(live);
  const id = await cluster.create();
  cluster.start(id, ['--join']);
  const failed: number[] = [];
  for (let shard = 1; shard <= ctx.shards; shard++) if (!await moveShard(ctx, shard, victim, id, 60_000)) failed.push(shard);
  if (failed.length > 0) {
    ctx.problem(`moving replica ${victim} to ${id}: shard(s) ${failed.join(',')} did not finish within 60 s`);
    // Leave both running: the old one may still be a voter somewhere.
    cluster.addMember(id);
    return { target: [victim, id], detail: `move of ${victim} to ${id} incomplete in shard(s) ${failed.join(',')}` };
  }
  cluster.addMember(id);
  await sleep(p.duration);
  await cluster.kill(victim);
  await cluster.forget(victim);
  ctx.note({ event: 'moved', replica: victim, to: id });
  if (!(await cluster.ready(id, 30_000))) ctx.problem(`moved replica ${id} was not ready 30 s after the move`);
  return { target: [victim, id], detail: `${victim} moved to ${id} in every shard, then stopped and wiped` };
}
