/**
 * What one seed of `sim:host` reports to the command, whether it ran in the command's process
 * or in a worker (tools/simhost/seed-worker.ts): plain data, so it crosses the IPC channel.
 */

import type { SeedOptions, SeedResult } from './run-seed.js';

/** The outcome of one seed, as the command prints it: the simulator's result and what it printed. */
export interface SeedReport extends SeedResult {
  /** What the seed printed (its `--verbose` trace), to be printed in seed order. */
  readonly output: string;
}

/** The per-seed settings a worker is started with (the same for every seed of a run): the seed's options and the plant. */
export interface SeedSettings extends Omit<SeedOptions, 'seed'> {
  readonly verbose: boolean;
  readonly plant?: string;
}

/** The report of a seed that the simulator could not finish (an error, or its worker died). */
export function stoppedReport(seed: number, why: string, output = ''): SeedReport {
  return { seed, digest: '-', violations: [`simulator stopped: ${why}`], stats: {}, virtualMs: 0, output };
}

/** Adds `stats` into `total` (the run's summed counts). */
export function addStats(total: Record<string, number>, stats: Record<string, number>): void {
  for (const [k, v] of Object.entries(stats)) total[k] = (total[k] ?? 0) + v;
}
