/**
 * The nemesis: applies the planned faults one at a time, each healed before the next begins,
 * and records what each did.
 */
import { diskFault } from './disk-fault.js';
import { sleep } from './http-client.js';
import { membershipFault, transferFault } from './membership.js';
import { jointReplaceFault } from './joint-fault.js';
import { moveFault } from './move-fault.js';
import type { FaultFn, NemesisContext } from './nemesis-context.js';
import { partition } from './partition-faults.js';
import type { FaultKind, PlannedFault } from './plan.js';
import { killOrPause, moveAddress, restartAll, rollingRestart, snapshotRound } from './process-faults.js';

/** One fault the nemesis applied. */
export interface FaultRecord {
  readonly kind: FaultKind;
  /** ms since the start of the run. */
  readonly at: number;
  readonly end: number;
  readonly target: number[];
  readonly detail: string;
}

const FAULTS: Record<FaultKind, FaultFn> = {
  'kill': killOrPause, 'kill-leader': killOrPause, 'pause': killOrPause, 'pause-leader': killOrPause,
  'snapshot': snapshotRound, 'restart-all': restartAll,
  'partition-halves': partition, 'partition-leader': partition, 'bridge': partition, 'one-way': partition,
  'transfer': transferFault, 'membership': membershipFault, 'move-replica': moveFault, 'disk': diskFault,
  'rolling-restart': rollingRestart, 'new-address': moveAddress, 'joint-replace': jointReplaceFault,
};

/** Gap after a fault that overran its planned time, so faults never follow each other without a pause. */
const MIN_GAP_MS = 800;

/**
 * Runs `plan` until `stopAt` (ms on the `now` clock; no fault starts in its last 2.5 s),
 * returning what was applied. A fault that throws is a problem, not the end of the run.
 */
export async function runNemesis(ctx: NemesisContext, plan: readonly PlannedFault[], now: () => number, stopAt: number,
  say: (line: string) => void): Promise<FaultRecord[]> {
  const faults: FaultRecord[] = [];
  let lastEnd = -Infinity;
  for (const p of plan) {
    const wait = Math.max(p.at - now(), lastEnd + MIN_GAP_MS - now());
    if (wait > 0) await sleep(Math.min(wait, Math.max(0, stopAt - now())));
    if (now() >= stopAt - 2500) break;
    const at = now();
    let effect;
    try {
      effect = await FAULTS[p.kind](ctx, p);
    } catch (e) {
      ctx.problem(`nemesis error in ${p.kind}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      ctx.cluster.net.heal();
      effect = null;
    }
    lastEnd = now();
    if (effect === null) {
      ctx.note({ event: 'skipped', kind: p.kind });
      continue;
    }
    faults.push({ kind: p.kind, at: Math.round(at), end: Math.round(lastEnd), target: effect.target, detail: effect.detail });
    say(`  fault ${faults.length}: ${p.kind} ${effect.target.join(',')} ${effect.detail}`);
  }
  return faults;
}
