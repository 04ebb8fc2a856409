/**
 * Runs seeds of the host simulator in this process, one after another. The process's globals
 * are routed to the simulator first ({@link installSimGlobals}), so a process that loads this
 * module is given over to the simulator: the command's own process with `--jobs 1`, or a
 * worker (tools/simhost/seed-worker.ts).
 */
import { installSimGlobals } from './sim-runtime.js';
import { stoppedReport, type SeedReport, type SeedSettings } from './seed-report.js';

/** Runs one seed and returns its report; never throws. */
export type SeedRunner = (seed: number) => Promise<SeedReport>;

/**
 * Installs the simulator's globals, loads the simulator (the library must load after the
 * globals), applies `settings.plant`, and returns a runner for single seeds.
 * @param capture whether a seed's `console.log` output is collected into its report's
 *   `output` (a worker) instead of printed as it comes (the command's own process).
 * @throws Error for an unknown plant.
 */
export async function makeSeedRunner(settings: SeedSettings, capture: boolean): Promise<SeedRunner> {
  installSimGlobals();
  const { runSeed } = await import('./run-seed.js');
  const { applyPlant } = await import('./plants.js');
  if (settings.plant !== undefined) applyPlant(settings.plant);
  return async (seed) => {
    const lines: string[] = [];
    const log = console.log;
    if (capture) console.log = (...a: unknown[]) => { lines.push(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')); };
    try {
      const res = await runSeed({ ...settings, seed });
      return { seed, digest: res.digest, violations: res.violations, stats: res.stats, virtualMs: res.virtualMs, output: lines.map((l) => `${l}\n`).join('') };
    } catch (err) {
      return stoppedReport(seed, err instanceof Error ? err.message : String(err), lines.map((l) => `${l}\n`).join(''));
    } finally {
      console.log = log;
    }
  };
}
