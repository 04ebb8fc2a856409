/**
 * The `disk` fault: a replica is killed, its data damaged while it is down (a torn WAL tail, a
 * flipped byte in an earlier WAL record, or a flipped byte in its newest snapshot's data
 * file; see disk-faults.ts), and restarted. What must follow:
 * - a torn tail is repaired at start: the replica comes back;
 * - other damage is either harmless (the replica comes back, and the final checks confirm it
 *   lost nothing) or refused at start with a one-line error that names it; then the runner
 *   repairs as an operator would: the replica is removed, wiped and replaced under a new id.
 * A stack trace, a silent recovery from a flipped WAL byte, or a replica that hangs is a problem.
 */
import { corruptSnapshot, DISK_DAMAGE, flipWalRecord, tearWalTail, walDirOf, type DamageReport, type DiskDamage } from './disk-faults.js';
import type { Child } from '../../test/kv/support/procs.js';
import { sleep } from './http-client.js';
import { replaceMember } from './membership.js';
import { shardOf, type FaultEffect, type NemesisContext } from './nemesis-context.js';
import type { PlannedFault } from './plan.js';
import { Rng } from './rng.js';

/** Whether a replica's stderr is one clear line about damage (no stack trace). */
export function clearDamageError(stderr: string): boolean {
  const lines = stderr.trim().split('\n').filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1] ?? '';
  return !/\n\s+at /.test(stderr) && /^sampan kv: /.test(last) && /checksum|corrupt|damage|mismatch|bad frame|torn|missing/i.test(last);
}

function damage(ctx: NemesisContext, kind: DiskDamage, victim: number, p: PlannedFault, rng: Rng): DamageReport | null {
  const dataDir = ctx.cluster.node(victim).dataDir;
  if (kind === 'tear-wal') return tearWalTail(walDirOf(dataDir), rng);
  if (kind === 'flip-wal') return flipWalRecord(walDirOf(dataDir), rng);
  return corruptSnapshot(dataDir, victim, ctx.shards, shardOf(ctx, p), rng) ?? flipWalRecord(walDirOf(dataDir), rng);
}

/**
 * Waits until the process of `id` exits (its code and process) or the replica is ready
 * ('ready'), or `ms` pass ('hung'). A process started again on new ports (its port was taken)
 * is followed.
 */
async function outcome(ctx: NemesisContext, id: number, ms: number): Promise<'ready' | 'hung' | { code: number | string; child: Child }> {
  const end = Date.now() + ms;
  for (;;) {
    const c = ctx.cluster.node(id).child;
    if (c === null) {
      if (ctx.cluster.retrying(id) && Date.now() < end) {
        await sleep(100);
        continue;
      }
      return 'hung';
    }
    const exited = c.exited.then((code) => ({ code, child: c }));
    const ready = ctx.cluster.ready(id, end - Date.now()).then((ok) => (ok ? 'ready' as const : 'hung' as const));
    const first = await Promise.race([exited, ready]);
    if (first === 'ready') return first;
    if (first === 'hung' && c.proc.exitCode === null && c.proc.signalCode === null) return first;
    const code = c.proc.exitCode ?? c.proc.signalCode ?? -1;
    await sleep(50);
    if (ctx.cluster.retrying(id) || (ctx.cluster.node(id).child !== null && ctx.cluster.node(id).child !== c)) continue;
    return { code, child: c };
  }
}

/** `disk`: kill, damage, restart, and judge the outcome (see the module comment). */
export async function diskFault(ctx: NemesisContext, p: PlannedFault): Promise<FaultEffect> {
  const { cluster } = ctx;
  const live = cluster.live();
  if (live.length < cluster.members.length) return null;
  const rng = new Rng(p.pick);
  const victim = rng.pick(live);
  const kind = rng.pick(DISK_DAMAGE);
  await cluster.kill(victim);
  const report = damage(ctx, kind, victim, p, rng);
  ctx.note({ event: 'disk-damage', replica: victim, asked: kind, ...(report ?? { damage: 'none' }) });
  await sleep(p.duration);
  cluster.start(victim, [], true);
  const got = await outcome(ctx, victim, 30_000);
  const what = report === null ? `${kind}: nothing to damage` : `${report.damage}: ${report.detail}`;
  const running = cluster.node(victim).child;
  if (running !== null) cluster.allowExit(running, false);
  if (got === 'ready') {
    if (report?.damage === 'flip-wal') ctx.problem(`disk fault on replica ${victim}: it started despite ${what}`);
    ctx.note({ event: 'disk-outcome', replica: victim, outcome: 'recovered' });
    return { target: [victim], detail: `${what}; recovered` };
  }
  if (got === 'hung') {
    ctx.problem(`disk fault on replica ${victim} (${what}): neither ready nor exited 30 s after the restart`);
    return { target: [victim], detail: `${what}; hung` };
  }
  const child = got.child;
  const error = child.err.trim().split('\n').pop() ?? '';
  ctx.note({ event: 'disk-outcome', replica: victim, outcome: 'refused', code: got.code, error });
  if (!clearDamageError(child.err)) ctx.problem(`disk fault on replica ${victim} (${what}): exited ${String(got.code)} without a clear error: ${child.err.trim().slice(-600)}`);
  if (report?.damage === 'tear-wal') ctx.problem(`disk fault on replica ${victim}: a torn WAL tail must be repaired at start, but it refused: ${error}`);
  const r = await replaceMember(ctx, victim, 0, `refused to start after ${report?.damage ?? kind}`);
  return { target: r.newId === null ? [victim] : [victim, r.newId], detail: `${what}; refused to start ("${error}"); repaired: ${r.detail}` };
}
