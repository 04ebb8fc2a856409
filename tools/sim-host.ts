/**
 * `npm run sim:host -- --seeds N [--first F] [--seed S] [--hosts 3|5] [--shards K] [--steps X]
 *   [--plant NAME] [--read-mode random|lease|read-index] [--lease-drift-ticks N] [--drift D]
 *   [--jobs J] [--verbose] [--json]`: the real NodeHost under the deterministic
 * simulator (tools/simhost). Seeds run in J worker processes (default: the available cores;
 * `--jobs 1` runs them in this process); the output is in seed order whichever worker ran a
 * seed. Prints one digest line per seed with `--verbose` (or for a single `--seed`), a progress
 * line with seeds/minute on stderr, for a failing seed its violations and the command that
 * replays it, and at the end the run's summed counts (`sim:host stats: …`) and
 * `sim:host: N seeds, F failed`. Exits 1 on any violation.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { addStats, type SeedReport, type SeedSettings } from './simhost/seed-report.js';

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
    jobs: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const realNow = (): number => Number(process.hrtime.bigint() / 1_000_000n);
const readMode = values['read-mode'] as 'random' | 'lease' | 'read-index';
if (!['random', 'lease', 'read-index'].includes(readMode)) {
  console.error(`sim:host: --read-mode must be random, lease or read-index, not ${readMode}`);
  process.exit(2);
}
const settings: SeedSettings = {
  hosts: Number(values.hosts), shards: Number(values.shards), steps: Number(values.steps), verbose: values.verbose,
  ...(values.plant === undefined ? {} : { plant: values.plant }),
  readMode,
  ...(values['lease-drift-ticks'] === undefined ? {} : { leaseDriftTicks: Number(values['lease-drift-ticks']) }),
  ...(values.drift === undefined ? {} : { drift: Number(values.drift) }),
};
const seeds: number[] = [];
if (values.seed !== undefined) seeds.push(Number(values.seed));
else for (let i = 0; i < Number(values.seeds); i++) seeds.push(Number(values.first) + i);
const { PLANTS } = await import('./simhost/plants.js');
if (settings.plant !== undefined && PLANTS[settings.plant] === undefined) {
  console.error(`sim:host: unknown plant ${settings.plant}; known: ${Object.keys(PLANTS).join(', ')}`);
  process.exit(2);
}
const jobs = Math.max(1, Math.min(seeds.length, values.jobs === undefined ? availableParallelism() : Number(values.jobs)));
if (!Number.isInteger(jobs)) {
  console.error(`sim:host: --jobs must be a positive integer, not ${values.jobs}`);
  process.exit(2);
}

const t0 = realNow();
let failed = 0;
let done = 0;
let lastProgress = t0;
const total: Record<string, number> = {};
const results: Array<{ seed: number; digest: string; violations: readonly string[] }> = [];
const replayArgs = `--hosts ${settings.hosts} --shards ${settings.shards} --steps ${settings.steps}${settings.plant === undefined ? '' : ` --plant ${settings.plant}`}`
  + `${readMode === 'random' ? '' : ` --read-mode ${readMode}`}${settings.leaseDriftTicks === undefined ? '' : ` --lease-drift-ticks ${settings.leaseDriftTicks}`}`
  + `${settings.drift === undefined ? '' : ` --drift ${settings.drift}`}`;

/** Prints one seed's report (called in seed order). */
function print(r: SeedReport): void {
  process.stdout.write(r.output);
  results.push({ seed: r.seed, digest: r.digest, violations: r.violations });
  addStats(total, r.stats);
  // Seeds in which a crash tore a write (the tear itself is counted in disk.torn).
  if ((r.stats['disk.torn'] ?? 0) > 0) total['tornSeeds'] = (total['tornSeeds'] ?? 0) + 1;
  if (values.verbose || seeds.length === 1) console.log(`seed ${r.seed}: digest ${r.digest} virtual ${(r.virtualMs / 1000).toFixed(1)} s ${JSON.stringify(r.stats)}`);
  if (r.violations.length > 0) {
    console.log(`seed ${r.seed} FAILED:\n  ${r.violations.join('\n  ')}`);
    console.log(`  replay: npm run sim:host -- --seed ${r.seed} ${replayArgs}`);
  }
}

/** Counts a completed seed; a progress line every 5 s and at the end. */
function progress(r: SeedReport): void {
  done++;
  if (r.violations.length > 0) failed++;
  const now = realNow();
  if (now - lastProgress > 5000 || done === seeds.length) {
    lastProgress = now;
    const perMin = (done / Math.max(1, now - t0)) * 60_000;
    process.stderr.write(`sim:host ${done}/${seeds.length} seeds, ${failed} failed, ${perMin.toFixed(0)} seeds/minute${jobs > 1 ? ` (${jobs} jobs)` : ''}\n`);
  }
}

if (jobs === 1) {
  // In this process: its globals are given over to the simulator from here on.
  const { makeSeedRunner } = await import('./simhost/seed-runner.js');
  const run = await makeSeedRunner(settings, false);
  for (const seed of seeds) {
    const r = await run(seed);
    print(r);
    progress(r);
  }
} else {
  const { runSeedsInWorkers } = await import('./simhost/seed-pool.js');
  // Reports come in completion order; they are printed in seed order.
  const pending = new Map<number, SeedReport>();
  let nextToPrint = 0;
  await runSeedsInWorkers(seeds, jobs, settings, (r) => {
    pending.set(r.seed, r);
    for (let p = pending.get(seeds[nextToPrint]!); p !== undefined; p = pending.get(seeds[nextToPrint]!)) {
      pending.delete(p.seed);
      nextToPrint++;
      print(p);
    }
    progress(r);
  });
}
if (values.json) console.log(JSON.stringify(results));
console.log(`sim:host stats: ${Object.entries(total).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(' ')}`);
console.log(`sim:host: ${seeds.length} seeds, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
