/**
 * What one seed of `sim:host` reports to the command, whether it ran in the command's process
 * or in a worker (tools/simhost/seed-worker.ts): plain data, so it crosses the IPC channel.
 */

/** The outcome of one seed, as the command prints it. */
export interface SeedReport {
  readonly seed: number;
  /** The trace digest, or `-` when the simulator itself stopped. */
  readonly digest: string;
  readonly violations: readonly string[];
  /** The seed's counts (nemesis actions, faults injected, client operations, events). */
  readonly stats: Record<string, number>;
  /** Virtual milliseconds simulated. */
  readonly virtualMs: number;
  /** What the seed printed (its `--verbose` trace), to be printed in seed order. */
  readonly output: string;
}

/** The per-seed settings a worker is started with (the same for every seed of a run). */
export interface SeedSettings {
  readonly hosts: number;
  readonly shards: number;
  readonly steps: number;
  readonly verbose: boolean;
  readonly plant?: string;
  /** How the shards read: 'random' (default) leases with drifting clocks in about half the seeds. */
  readonly readMode?: 'random' | 'lease' | 'read-index';
  /** Lease seeds: this `leaseDriftTicks` instead of the bound the drift calls for (a negative control). */
  readonly leaseDriftTicks?: number;
  /** The clocks' drift bound instead of a draw (every seed drifts). */
  readonly drift?: number;
}

/** The report of a seed that the simulator could not finish (an error, or its worker died). */
export function stoppedReport(seed: number, why: string, output = ''): SeedReport {
  return { seed, digest: '-', violations: [`simulator stopped: ${why}`], stats: {}, virtualMs: 0, output };
}

/** Adds `stats` into `total` (the run's summed counts). */
export function addStats(total: Record<string, number>, stats: Record<string, number>): void {
  for (const [k, v] of Object.entries(stats)) total[k] = (total[k] ?? 0) + v;
}
