/**
 * Process faults: SIGKILL and restart (a random replica or the leader), SIGSTOP and SIGCONT,
 * every replica killed and restarted at once, and snapshot requests on their own.
 */
import { sleep } from './http-client.js';
import { shardOf, snapshotOn, type FaultEffect, type NemesisContext } from './nemesis-context.js';
import type { PlannedFault } from './plan.js';

/** `kill`, `kill-leader`, `pause`, `pause-leader`: one replica down or frozen, snapshots meanwhile (half of the time). */
export async function killOrPause(ctx: NemesisContext, p: PlannedFault): Promise<FaultEffect> {
  const { cluster } = ctx;
  const t0 = Date.now();
  const shard = shardOf(ctx, p);
  const leader = p.kind.endsWith('leader') ? await cluster.leaderOf(shard) : 0;
  const live = cluster.live();
  const victim = leader > 0 && cluster.alive(leader) ? leader : (live[p.pick % Math.max(1, live.length)] ?? 0);
  if (victim === 0) return null;
  const kill = p.kind.startsWith('kill');
  if (kill) {
    await cluster.kill(victim);
    ctx.note({ event: 'killed', replica: victim, leaderOfShard: leader > 0 ? shard : undefined });
  } else {
    cluster.pause(victim);
    ctx.note({ event: 'paused', replica: victim, leaderOfShard: leader > 0 ? shard : undefined });
  }
  await sleep(Math.floor(p.duration / 2));
  if (p.snapshot) await snapshotOn(ctx, cluster.live(), `during ${p.kind} of ${victim}`);
  await sleep(Math.max(0, p.duration - (Date.now() - t0)));
  if (kill) cluster.start(victim);
  else cluster.resume(victim);
  ctx.note({ event: kill ? 'restarted' : 'resumed', replica: victim });
  return {
    target: [victim],
    detail: `${kill ? 'down' : 'frozen'} ${p.duration} ms${p.snapshot ? ', snapshots meanwhile' : ''}${leader > 0 ? ` (leader of shard ${shard})` : ''}`,
  };
}

/** `restart-all`: every member killed, restarted together after `duration`. */
export async function restartAll(ctx: NemesisContext, p: PlannedFault): Promise<FaultEffect> {
  const ids = [...ctx.cluster.members];
  for (const id of ids) await ctx.cluster.kill(id);
  ctx.note({ event: 'killed-all' });
  await sleep(p.duration);
  for (const id of ids) ctx.cluster.start(id);
  return { target: ids, detail: `all down ${p.duration} ms` };
}

/** `snapshot`: a snapshot of every shard on every live member. */
export async function snapshotRound(ctx: NemesisContext): Promise<FaultEffect> {
  await snapshotOn(ctx, ctx.cluster.live(), 'scheduled');
  return { target: [], detail: 'snapshot of every shard' };
}
