/**
 * `node dist/tools/chaos-check.js HISTORY.jsonl [--step-budget N] [--mutate stale-read|lost-write]`
 * Re-checks a kept chaos history offline and prints `check: N ops, VERDICT` with the failing
 * keys. `--mutate` first plants a known anomaly (a completed read answered with the value the
 * key held before, or an acknowledged write dropped although a later read saw it), to show the
 * checker catches it on a real history.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkHistory, type KvOp } from './chaos/linearizability.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'step-budget': { type: 'string', default: '20000000' }, mutate: { type: 'string' } },
});
const file = positionals[0];
if (file === undefined) {
  console.error('usage: chaos-check HISTORY.jsonl [--step-budget N] [--mutate stale-read|lost-write]');
  process.exit(2);
}
let ops = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as KvOp);

/** The index of a completed read that follows, strictly in real time, a completed put of another value on its key. */
function plantStaleRead(h: KvOp[]): KvOp[] {
  for (let i = h.length - 1; i >= 0; i--) {
    const r = h[i] as KvOp;
    if (r.f !== 'get' || r.status !== 'ok' || r.read === null || r.read === undefined) continue;
    const older = h.find((w) => w.key === r.key && w.f === 'put' && w.status === 'ok' && w.value !== r.read &&
      h.some((w2) => w2.key === r.key && w2.status === 'ok' && w2.f === 'put' && w2.value === r.read && w2.call > (w.ret ?? Infinity)) &&
      (w.ret ?? Infinity) < r.call);
    if (older === undefined) continue;
    console.log(`mutate: read #${r.id} of ${r.key} now answers ${JSON.stringify(older.value)} instead of ${JSON.stringify(r.read)}`);
    return h.map((x) => (x === r ? { ...r, read: older.value ?? null } : x));
  }
  throw new Error('no read to make stale');
}

/** Drops an acknowledged put whose value a later completed read saw. */
function plantLostWrite(h: KvOp[]): KvOp[] {
  const w = h.find((p) => p.f === 'put' && p.status === 'ok' && h.some((r) => r.f === 'get' && r.status === 'ok' && r.read === p.value));
  if (w === undefined) throw new Error('no write to lose');
  console.log(`mutate: acknowledged put #${w.id} of ${w.key}=${JSON.stringify(w.value)} dropped from the history`);
  return h.filter((x) => x !== w);
}

if (values.mutate === 'stale-read') ops = plantStaleRead(ops);
else if (values.mutate === 'lost-write') ops = plantLostWrite(ops);
else if (values.mutate !== undefined) {
  console.error(`unknown --mutate ${values.mutate}`);
  process.exit(2);
}
const t = performance.now();
const res = checkHistory(ops, { stepBudget: Number(values['step-budget']) });
for (const k of res.keys) {
  if (k.verdict !== 'linearizable') {
    console.log(`  key ${k.key}: ${k.verdict} (${k.ops} ops, ${k.steps} steps)${k.stuckAt === undefined ? '' : `, stuck at op ${k.stuckAt.join(',')} after ${k.longest?.length ?? 0} linearized, state ${JSON.stringify(k.stateAtStuck)}`}`);
  }
}
console.log(`check: ${ops.length} ops, ${res.verdict} (${res.steps} steps, ${Math.round(performance.now() - t)} ms)`);
process.exitCode = res.verdict === 'linearizable' ? 0 : 1;
