/**
 * Network faults through the proxies: a random majority/minority split, the leader isolated,
 * a bridge, and a one-way partition around the leader. Each lasts `duration`; with
 * `snapshot`, the replicas that keep a quorum take snapshots (and compact their logs) half-way,
 * so that the others catch up by snapshot once healed. Half of them (by the fault's pick) are
 * blackholes rather than resets: the cut connections stay open and go silent, as behind a
 * firewall that drops packets, and the transport must notice the stall by itself.
 */
import { sleep } from './http-client.js';
import { shardOf, snapshotOn, type FaultEffect, type NemesisContext } from './nemesis-context.js';
import { bridge, halves, isolate, oneWay, type PartitionPlan } from './partitions.js';
import type { PlannedFault } from './plan.js';
import { Rng } from './rng.js';

async function shape(ctx: NemesisContext, p: PlannedFault): Promise<PartitionPlan | null> {
  const members = ctx.cluster.members;
  const rng = new Rng(p.pick);
  if (p.kind === 'partition-halves') return halves(members, rng);
  if (p.kind === 'bridge') return bridge(members, rng);
  const shard = shardOf(ctx, p);
  const leader = await ctx.cluster.leaderOf(shard);
  const victim = leader > 0 ? leader : rng.pick(members);
  if (p.kind === 'partition-leader') return leader > 0 ? isolate(members, leader) : null;
  return oneWay(members, victim, rng.next() < 0.5 ? 'in' : 'out');
}

/** `partition-halves`, `partition-leader`, `bridge`, `one-way`. */
export async function partition(ctx: NemesisContext, p: PlannedFault): Promise<FaultEffect> {
  const { cluster } = ctx;
  const t0 = Date.now();
  const plan = await shape(ctx, p);
  if (plan === null) return null;
  const mode = new Rng(p.pick ^ 0x5bd1e995).next() < 0.5 ? 'blackhole' : 'reset';
  cluster.net.cut(plan.cuts, mode);
  ctx.note({ event: 'partitioned', kind: p.kind, shape: plan.description, mode, cut: cluster.net.describe() });
  await sleep(Math.floor(p.duration / 2));
  if (p.snapshot) await snapshotOn(ctx, plan.majority.filter((id) => cluster.alive(id)), `during ${p.kind} (${plan.description})`);
  await sleep(Math.max(0, p.duration - (Date.now() - t0)));
  cluster.net.heal();
  ctx.note({ event: 'healed-network', kind: p.kind });
  const target = [...new Set(plan.cuts.flatMap((c) => [c.from, c.to]))].sort((a, b) => a - b);
  return { target, detail: `${plan.description}, ${mode}, ${p.duration} ms${p.snapshot ? ', snapshots on the majority side' : ''}` };
}
