/**
 * `npm run chaos -- [--time 60] [--seed S] [--replicas 3|5] [--shards N] [--clients K]
 *   [--keys N] [--faults kill,kill-leader,pause,pause-leader,snapshot,restart-all]
 *   [--keep always|failure|never] [--conservative]`
 * One chaos run against real `sampan kv` processes on loopback (see tools/chaos/runner.ts).
 * Prints the seed, the kept directory and `chaos: N ops, F faults, linearizable`; exits 1 on
 * any anomaly, 2 if the checker could not decide.
 */
import { parseArgs } from 'node:util';
import { FAULT_KINDS, runChaos, type FaultKind } from './chaos/runner.js';

const { values } = parseArgs({
  options: {
    time: { type: 'string', default: '60' },
    seed: { type: 'string' },
    replicas: { type: 'string', default: '3' },
    shards: { type: 'string', default: '1' },
    clients: { type: 'string', default: '6' },
    keys: { type: 'string', default: '5' },
    faults: { type: 'string', default: FAULT_KINDS.join(',') },
    keep: { type: 'string', default: 'always' },
    conservative: { type: 'boolean', default: false },
    'rtt-ms': { type: 'string', default: '20' },
    'step-budget': { type: 'string', default: '20000000' },
  },
});

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`chaos: --${name} must be an integer >= ${min}, got '${v}'`);
    process.exit(2);
  }
  return n;
}

const faults = values.faults.split(',').filter((f) => f !== '');
const unknownFault = faults.find((f) => !(FAULT_KINDS as readonly string[]).includes(f));
if (unknownFault !== undefined) {
  console.error(`chaos: unknown fault '${unknownFault}' (known: ${FAULT_KINDS.join(', ')})`);
  process.exit(2);
}
if (!['always', 'failure', 'never'].includes(values.keep)) {
  console.error(`chaos: --keep must be always, failure or never`);
  process.exit(2);
}
const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : int('seed', values.seed, 0);
console.log(`chaos: seed ${seed} (replay: npm run chaos -- --time ${values.time} --seed ${seed} --replicas ${values.replicas} --shards ${values.shards})`);
const res = await runChaos({
  seed, timeSec: int('time', values.time, 5), replicas: int('replicas', values.replicas, 1), shards: int('shards', values.shards, 1),
  clients: int('clients', values.clients, 1), keys: int('keys', values.keys, 1), faults: faults as FaultKind[],
  keep: values.keep as 'always' | 'failure' | 'never', conservative: values.conservative,
  rttMs: int('rtt-ms', values['rtt-ms'], 1), stepBudget: int('step-budget', values['step-budget'], 1),
  log: (line) => console.log(line),
});
const byKind = new Map<string, number>();
for (const f of res.faults) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
console.log(`  outcomes: ${res.outcomes.ok} ok, ${res.outcomes.fail} failed, ${res.outcomes.info} unknown; faults: ${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}; search steps ${res.check.steps}`);
for (const p of res.problems) console.log(`  PROBLEM: ${p}`);
if (res.dir !== null) console.log(`  kept: ${res.dir} (history.jsonl, nemesis.jsonl, r*.log, metrics-r*.txt, summary.json)`);
console.log(`  seed ${seed}`);
console.log(res.summary);
process.exitCode = res.passed ? 0 : res.check.verdict === 'unknown' && res.problems.every((p) => p.includes('search gave up')) ? 2 : 1;
