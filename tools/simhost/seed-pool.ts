/**
 * The parent side of `sim:host --jobs N`: runs seeds in N worker processes
 * (tools/simhost/seed-worker.ts), each seed in whichever worker is free next. A seed's run
 * depends only on its seed and the run's settings (each seed builds its own world; nothing of
 * one seed reaches the next), so its digest does not depend on the worker that ran it. A
 * worker that dies during a seed fails that seed (its report says how the worker ended) and
 * is replaced.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stoppedReport, type SeedReport, type SeedSettings } from './seed-report.js';

const WORKER = fileURLToPath(new URL('./seed-worker.js', import.meta.url));

/**
 * Runs `seeds` in `jobs` workers started with `settings`; `onReport` hears each report as it
 * completes (in completion order, not seed order). Resolves when every seed has reported.
 */
export function runSeedsInWorkers(seeds: readonly number[], jobs: number, settings: SeedSettings, onReport: (r: SeedReport) => void): Promise<void> {
  return new Promise((resolve) => {
    if (seeds.length === 0) { resolve(); return; }
    let next = 0;
    let reported = 0;
    const finish = (r: SeedReport): void => {
      reported++;
      onReport(r);
      if (reported === seeds.length) resolve();
    };
    const start = (): void => {
      const child: ChildProcess = fork(WORKER, [JSON.stringify(settings)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let current: number | undefined;
      let ready = false;
      const feed = (): void => {
        if (next >= seeds.length) { current = undefined; child.disconnect(); return; }
        current = seeds[next++]!;
        child.send({ seed: current });
      };
      child.on('message', (m: SeedReport | { ready: true }) => {
        if ('ready' in m) { ready = true; feed(); return; }
        current = undefined;
        finish(m);
        feed();
      });
      // A send to a worker that just died fails here; its 'exit' below reports the seed.
      child.on('error', () => undefined);
      child.on('exit', (code, signal) => {
        const how = signal ?? `code ${code}`;
        if (current !== undefined) {
          const seed = current;
          current = undefined;
          finish(stoppedReport(seed, `its worker process exited (${how})`));
        }
        if (!ready) {
          // It could not even start (the simulator failed to load): no worker will do better.
          while (next < seeds.length) finish(stoppedReport(seeds[next++]!, `a worker process failed to start (${how})`));
          return;
        }
        if (next < seeds.length) start();
      });
    };
    for (let i = 0; i < Math.min(jobs, seeds.length); i++) start();
  });
}
