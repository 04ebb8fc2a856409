/**
 * `npm run chaos -- [--time 60] [--seed S] [--replicas 3|5] [--shards N]
 *   [--state-machine memory|disk] [--clients K] [--keys N] [--faults kind,kind,…|all|process|network]
 *   [--keep always|failure|never] [--conservative] [--rtt-ms N] [--snapshot-entries N]
 *   [--read-mode read-index|lease]`
 * One chaos run against real `sampan kv` processes on loopback, each behind a fault-injecting
 * proxy (see tools/chaos/runner.ts; the fault kinds are listed in tools/chaos/plan.ts).
 * Prints the seed, the kept directory and `chaos: N ops, F faults, linearizable`; exits 1 on
 * any anomaly, 2 if the checker could not decide.
 */
import { parseArgs } from 'node:util';
import { FAULT_KINDS, NETWORK_FAULTS, PROCESS_FAULTS, type FaultKind } from './chaos/plan.js';
import { runChaos } from './chaos/runner.js';

const { values } = parseArgs({
  options: {
    'time': { type: 'string', default: '60' },
    'seed': { type: 'string' },
    'replicas': { type: 'string', default: '3' },
    'shards': { type: 'string', default: '1' },
    'state-machine': { type: 'string', default: 'memory' },
    'clients': { type: 'string', default: '6' },
    'keys': { type: 'string', default: '5' },
    'faults': { type: 'string', default: 'all' },
    'keep': { type: 'string', default: 'always' },
    'conservative': { type: 'boolean', default: false },
    'rtt-ms': { type: 'string', default: '20' },
    'snapshot-entries': { type: 'string', default: '200' },
    'step-budget': { type: 'string', default: '20000000' },
    'read-mode': { type: 'string', default: 'read-index' },
  },
});

function fail(message: string): never {
  console.error(`chaos: ${message}`);
  process.exit(2);
}

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

const groups: Record<string, readonly FaultKind[]> = { all: FAULT_KINDS, process: PROCESS_FAULTS, network: NETWORK_FAULTS };
const faults: string[] = [...new Set(values.faults.split(',').filter((f) => f !== '').flatMap((f): readonly string[] => groups[f] ?? [f]))];
const unknownFault = faults.find((f) => !(FAULT_KINDS as readonly string[]).includes(f));
if (unknownFault !== undefined) fail(`unknown fault '${unknownFault}' (known: ${FAULT_KINDS.join(', ')}; groups: all, process, network)`);
if (!['always', 'failure', 'never'].includes(values.keep)) fail('--keep must be always, failure or never');
if (!['memory', 'disk'].includes(values['state-machine'])) fail('--state-machine must be memory or disk');
if (!['read-index', 'lease'].includes(values['read-mode'])) fail('--read-mode must be read-index or lease');
const replicas = int('replicas', values.replicas, 1);
if (faults.includes('membership') && replicas < 3) fail('the membership fault needs --replicas 3 or more');
const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : int('seed', values.seed, 0);
console.log(`chaos: seed ${seed} (replay: npm run chaos -- --time ${values.time} --seed ${seed} --replicas ${replicas} --shards ${values.shards} ` +
  `--state-machine ${values['state-machine']} --faults ${values.faults} --read-mode ${values['read-mode']})`);
const res = await runChaos({
  seed, timeSec: int('time', values.time, 5), replicas, shards: int('shards', values.shards, 1),
  stateMachine: values['state-machine'] as 'memory' | 'disk',
  clients: int('clients', values.clients, 1), keys: int('keys', values.keys, 1), faults: faults as FaultKind[],
  keep: values.keep as 'always' | 'failure' | 'never', conservative: values.conservative,
  rttMs: int('rtt-ms', values['rtt-ms'], 1), snapshotEntries: int('snapshot-entries', values['snapshot-entries'], 0),
  stepBudget: int('step-budget', values['step-budget'], 1), readMode: values['read-mode'] as 'read-index' | 'lease',
  log: (line) => console.log(line),
});
const byKind = new Map<string, number>();
for (const f of res.faults) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
console.log(`  outcomes: ${res.outcomes.ok} ok, ${res.outcomes.fail} failed, ${res.outcomes.info} unknown; faults: ${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}; ` +
  `members at the end: ${res.members.join(',')}; longest gap between acknowledged writes ${res.longestWriteGap.ms} ms (from ${res.longestWriteGap.from} ms); ` +
  `search steps ${res.check.steps}`);
for (const p of res.problems) console.log(`  PROBLEM: ${p}`);
if (res.dir !== null) console.log(`  kept: ${res.dir} (history.jsonl, nemesis.jsonl, r*.log, metrics-r*.txt, summary.json)`);
console.log(`  seed ${seed}`);
console.log(res.summary);
process.exitCode = res.passed ? 0 : res.check.verdict === 'unknown' && res.problems.every((p) => p.includes('search gave up')) ? 2 : 1;
