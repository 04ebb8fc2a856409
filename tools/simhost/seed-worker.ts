/**
 * A worker process of `sim:host --jobs N` (forked by tools/simhost/seed-pool.ts): its globals
 * are given over to the simulator, it runs the seeds the parent sends over IPC one at a time
 * (`{ seed }`) and answers each with its {@link SeedReport}, the seed's `console.log` output
 * captured in it. It exits when the parent disconnects. Argument 2 is the run's
 * {@link SeedSettings} as JSON.
 */
import { makeSeedRunner } from './seed-runner.js';
import type { SeedReport, SeedSettings } from './seed-report.js';

const settings = JSON.parse(process.argv[2] ?? '{}') as SeedSettings;
const run = await makeSeedRunner(settings, true);
const send = (r: SeedReport): void => { process.send!(r); };
process.on('message', (m: { seed: number }) => { void run(m.seed).then(send); });
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
