/**
 * `npm run sim:host -- --seeds N [--first F] [--seed S] [--hosts 3|5] [--shards K] [--steps X]
 *   [--plant NAME] [--read-mode random|lease|read-index] [--lease-drift-ticks N] [--drift D]
 *   [--verbose]`: the real NodeHost under the deterministic simulator (tools/simhost). Prints
 * one digest line per seed with `--verbose`, a progress line with seeds/minute, totals of the
 * faults and checks that ran (torn writes and the seeds that had one, one-way partitions,
 * joint changes, lease reads, new leaders checked for completeness), and for a failing seed
 * its violations and the command that replays it. Exits 1 on any violation.
 */
import { parseArgs } from 'node:util';
import { installSimGlobals } from './simhost/sim-runtime.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    first: { type: 'string', default: '1' },
    seed: { type: 'string' },
    hosts: { type: 'string', default: '3' },
    shards: { type: 'string', default: '2' },
    steps: { type: 'string', default: '40' },
    plant: { type: 'string' },
    'read-mode': { type: 'string', default: 'random' },
    'lease-drift-ticks': { type: 'string' },
    drift: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const realNow = (): number => Number(process.hrtime.bigint() / 1_000_000n);
installSimGlobals();
const { runSeed } = await import('./simhost/run-seed.js');
const { applyPlant } = await import('./simhost/plants.js');
if (values.plant !== undefined) applyPlant(values.plant);

const hosts = Number(values.hosts);
const shards = Number(values.shards);
const steps = Number(values.steps);
const readMode = values['read-mode'] as 'random' | 'lease' | 'read-index';
if (!['random', 'lease', 'read-index'].includes(readMode)) throw new Error(`--read-mode must be random, lease or read-index, got ${readMode}`);
const leaseDriftTicks = values['lease-drift-ticks'] === undefined ? undefined : Number(values['lease-drift-ticks']);
const drift = values.drift === undefined ? undefined : Number(values.drift);
const extra = `${readMode === 'random' ? '' : ` --read-mode ${readMode}`}${leaseDriftTicks === undefined ? '' : ` --lease-drift-ticks ${leaseDriftTicks}`}${drift === undefined ? '' : ` --drift ${drift}`}`;
const seeds: number[] = [];
if (values.seed !== undefined) seeds.push(Number(values.seed));
else for (let i = 0; i < Number(values.seeds); i++) seeds.push(Number(values.first) + i);

const t0 = realNow();
let failed = 0;
let lastProgress = t0;
const results: Array<{ seed: number; digest: string; violations: readonly string[] }> = [];
const totals: Record<string, number> = {};
const TOTALS = ['disk.torn', 'crashesInSync', 'oneWayPartitions', 'jointChanges', 'jointDone', 'leaseReads', 'leadersChecked'];
for (const [n, seed] of seeds.entries()) {
  const res = await runSeed({ seed, hosts, shards, steps, verbose: values.verbose, readMode, leaseDriftTicks, drift }).catch((err: unknown) => ({
    seed, digest: '-', virtualMs: 0, stats: {} as Record<string, number>, violations: [`simulator stopped: ${err instanceof Error ? err.message : String(err)}`],
  }));
  results.push({ seed, digest: res.digest, violations: res.violations });
  for (const k of TOTALS) totals[k] = (totals[k] ?? 0) + (res.stats[k] ?? 0);
  if ((res.stats['disk.torn'] ?? 0) > 0) totals.tornSeeds = (totals.tornSeeds ?? 0) + 1;
  if (values.verbose || seeds.length === 1) console.log(`seed ${seed}: digest ${res.digest} virtual ${(res.virtualMs / 1000).toFixed(1)} s ${JSON.stringify(res.stats)}`);
  if (res.violations.length > 0) {
    failed++;
    console.log(`seed ${seed} FAILED:\n  ${res.violations.join('\n  ')}`);
    console.log(`  replay: npm run sim:host -- --seed ${seed} --hosts ${hosts} --shards ${shards} --steps ${steps}${extra}${values.plant === undefined ? '' : ` --plant ${values.plant}`}`);
  }
  const now = realNow();
  if (now - lastProgress > 5000 || n === seeds.length - 1) {
    lastProgress = now;
    const perMin = ((n + 1) / Math.max(1, now - t0)) * 60_000;
    process.stderr.write(`sim:host ${n + 1}/${seeds.length} seeds, ${failed} failed, ${perMin.toFixed(0)} seeds/minute\n`);
  }
}
if (values.json) console.log(JSON.stringify(results));
console.log(`sim:host totals: torn writes ${totals['disk.torn'] ?? 0} (in ${totals.tornSeeds ?? 0} seeds; ${totals.crashesInSync ?? 0} crashes aimed into a sync), one-way partitions ${totals.oneWayPartitions ?? 0}, joint changes ${totals.jointChanges ?? 0} (${totals.jointDone ?? 0} done), lease reads ${totals.leaseReads ?? 0}, new leaders checked ${totals.leadersChecked ?? 0}`);
console.log(`sim:host: ${seeds.length} seeds, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
