/**
 * `npm run sim -- --seeds N [--first S] [--seed S] [--steps K] [--shards M] [--replicas R] [--async]
 *   [--read-mode random|lease|read-index] [--lease-drift-ticks D]`
 * (`--async`: the engine's async storage writes — several updates in flight per replica;
 * `--read-mode lease`: every seed reads by lease under clock drift; `--lease-drift-ticks`
 * overrides the drift bound those seeds use, to see a too-small one caught).
 * Runs the deterministic simulator over many seeds and prints `sim: N seeds, V violations`.
 * A failing seed prints the one-line command that replays it.
 */
import { parseArgs } from 'node:util';
import { runSeed } from './sim/simulator.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    first: { type: 'string', default: '1' },
    seed: { type: 'string' },
    steps: { type: 'string', default: '1500' },
    shards: { type: 'string', default: '2' },
    replicas: { type: 'string', default: '3' },
    verbose: { type: 'boolean', default: false },
    async: { type: 'boolean', default: false },
    'read-mode': { type: 'string', default: 'random' },
    'lease-drift-ticks': { type: 'string' },
  },
});

const steps = Number(values.steps);
const shards = Number(values.shards);
const replicas = Number(values.replicas);
const readMode = values['read-mode'] as 'random' | 'lease' | 'read-index';
if (!['random', 'lease', 'read-index'].includes(readMode)) throw new Error(`--read-mode must be random, lease or read-index, got ${readMode}`);
const leaseDriftTicks = values['lease-drift-ticks'] === undefined ? undefined : Number(values['lease-drift-ticks']);
const extra = `${readMode !== 'random' ? ` --read-mode ${readMode}` : ''}${leaseDriftTicks !== undefined ? ` --lease-drift-ticks ${leaseDriftTicks}` : ''}`;
const seeds: number[] = [];
if (values.seed !== undefined) seeds.push(Number(values.seed));
else for (let i = 0; i < Number(values.seeds); i++) seeds.push(Number(values.first) + i);

let violations = 0;
const totals: Record<string, number> = {};
for (const seed of seeds) {
  const res = runSeed({ seed, steps, shards, replicas, asyncWrites: values.async, readMode, leaseDriftTicks });
  for (const [k, v] of Object.entries(res.stats)) totals[k] = (totals[k] ?? 0) + v;
  if (values.verbose) console.log(`seed ${seed}: ${JSON.stringify(res.stats)}`);
  if (res.violations.length > 0) {
    violations += res.violations.length;
    console.log(`seed ${seed} FAILED:\n  ${res.violations.join('\n  ')}`);
    console.log(`  replay: npm run sim -- --seed ${seed} --steps ${steps} --shards ${shards} --replicas ${replicas}${values.async ? ' --async' : ''}${extra}`);
  }
}
console.log(`totals: ${JSON.stringify(totals)}`);
console.log(`sim: ${seeds.length} seeds, ${violations} violations`);
process.exitCode = violations > 0 ? 1 : 0;
