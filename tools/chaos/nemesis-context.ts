/**
 * What every fault of the nemesis works with: the cluster, the run's log and problem list,
 * and snapshot requests (sent while faults last, so that a replica that returns must catch up
 * by snapshot).
 */
import type { ChaosCluster } from './cluster.js';
import { send } from './http-client.js';
import type { PlannedFault } from './plan.js';

/** The run a fault is applied in. */
export interface NemesisContext {
  readonly cluster: ChaosCluster;
  readonly shards: number;
  /** Appends an event to `nemesis.jsonl` (timestamped on the run's clock). */
  note(event: Record<string, unknown>): void;
  /** Records an anomaly: the run fails. */
  problem(text: string): void;
}

/** What a fault did: its targets and a description (null: it could not apply, e.g. no leader). */
export type FaultEffect = { readonly target: number[]; readonly detail: string } | null;

/** One fault's implementation. */
export type FaultFn = (ctx: NemesisContext, p: PlannedFault) => Promise<FaultEffect>;

/** The shard a fault targets. */
export function shardOf(ctx: NemesisContext, p: PlannedFault): number {
  return 1 + (p.shardPick % ctx.shards);
}

/**
 * Requests a snapshot of every shard on each of `ids`, with a compaction overhead of 5 (so the
 * log is compacted right behind it); the answers go to the nemesis log.
 */
export async function snapshotOn(ctx: NemesisContext, ids: readonly number[], why: string): Promise<void> {
  const jobs: Array<Promise<void>> = [];
  for (const id of ids) {
    for (let shard = 1; shard <= ctx.shards; shard++) {
      jobs.push(send(ctx.cluster.node(id).httpAddr, 'POST', `/admin/snapshot?shard=${shard}&compactionOverhead=5`, undefined, 15000).then((a) => {
        ctx.note({ event: 'snapshot', why, replica: id, shard, status: a.status, answer: a.text.slice(0, 200), error: a.error?.code });
      }));
    }
  }
  await Promise.all(jobs);
}
