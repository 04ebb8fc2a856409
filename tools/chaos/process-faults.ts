/**
 * Process faults: SIGKILL and restart (a random replica or the leader), SIGSTOP and SIGCONT,
 * every replica killed and restarted at once, a rolling restart (each replica in turn stopped
 * with SIGTERM and started again), a restart on a new raft address, and snapshot requests on
 * their own.
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

/**
 * `move`: a replica (the leader of the targeted shard half of the time) is SIGKILLed and,
 * after `duration`, restarted with the same data dir on a new raft address (a new proxy on a
 * new port; the old proxy is gone, so its address refuses). No membership changes: the peers
 * must learn the new address from the replica's handshake or each other's gossip. The fault
 * ends when the replica is back (or after 20 s).
 */
export async function moveAddress(ctx: NemesisContext, p: PlannedFault): Promise<FaultEffect> {
  const { cluster } = ctx;
  const shard = shardOf(ctx, p);
  const leader = p.pick % 2 === 0 ? await cluster.leaderOf(shard) : 0;
  const live = cluster.live();
  const victim = leader > 0 && cluster.alive(leader) ? leader : (live[(p.pick >>> 1) % Math.max(1, live.length)] ?? 0);
  if (victim === 0) return null;
  await cluster.kill(victim);
  const old = await cluster.moveRaft(victim);
  ctx.note({ event: 'killed', replica: victim, leaderOfShard: leader > 0 ? shard : undefined });
  await sleep(p.duration);
  cluster.start(victim);
  const t0 = Date.now();
  ctx.note({ event: 'restarted', replica: victim, raftAddress: cluster.node(victim).raft, was: old });
  // As an operator would, the next fault waits until the moved replica is back (it knows a
  // leader of every shard): moving hosts one after another while none has yet heard of the
  // last move could leave a host that no peer can find and that can find no peer.
  const back = await cluster.ready(victim, 20_000);
  const rejoin = back ? `back in ${Date.now() - t0} ms` : 'NOT back within 20 s';
  return {
    target: [victim],
    detail: `down ${p.duration} ms, restarted on ${cluster.node(victim).raft} (was ${old}), ${rejoin}${leader > 0 ? ` (leader of shard ${shard})` : ''}`,
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

/** Leaders per live member (`id:count`), from each one's /status. */
async function leaderCounts(ctx: NemesisContext): Promise<string> {
  const out: string[] = [];
  for (const id of ctx.cluster.members) {
    const s = ctx.cluster.alive(id) ? await ctx.cluster.status(id) : undefined;
    out.push(`${id}:${s === undefined ? '?' : s.shards.filter((x) => x.isLeader).length}`);
  }
  return out.join(' ');
}

/**
 * `rolling-restart`: every member in turn (starting at a random one) stopped with SIGTERM — it
 * hands its leadership over and exits 0 — started again on its data, waited for until it knows
 * every shard's leader, then `duration` ms before the next. An exit other than 0, or a member
 * not ready within 30 s, is a problem. Leaders per member before and after go to the log.
 */
export async function rollingRestart(ctx: NemesisContext, p: PlannedFault): Promise<FaultEffect> {
  const { cluster } = ctx;
  const ids = [...cluster.members];
  if (ids.some((id) => !cluster.alive(id))) return null;
  const order = ids.map((_, i) => ids[(p.pick + i) % ids.length] as number);
  const before = await leaderCounts(ctx);
  ctx.note({ event: 'rolling-restart', order, leaders: before });
  for (const id of order) {
    const code = await cluster.terminate(id);
    ctx.note({ event: 'terminated', replica: id, code });
    if (code !== 0) ctx.problem(`rolling restart: replica ${id} exited ${String(code)} after SIGTERM, not 0`);
    cluster.start(id);
    if (!await cluster.ready(id, 30_000)) ctx.problem(`rolling restart: replica ${id} not ready 30 s after its restart`);
    ctx.note({ event: 'restarted', replica: id });
    await sleep(p.duration);
  }
  const after = await leaderCounts(ctx);
  ctx.note({ event: 'rolling-restart-done', leaders: after });
  return { target: order, detail: `SIGTERM and restart in turn, ${p.duration} ms apart; leaders before ${before}, after ${after}` };
}
