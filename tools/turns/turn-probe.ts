/**
 * A preload for measuring long event-loop turns (`node --import dist/tools/turns/turn-probe.js`):
 * a 1 ms interval timer notes every gap between its runs longer than SAMPAN_TURN_PROBE_MS
 * (default 20) with the CPU time the process used in it, and a PerformanceObserver notes every GC pause of 1 ms or more; both are
 * written as JSON to SAMPAN_TURN_PROBE_OUT when the process exits. Times are
 * `process.hrtime` microseconds, the clock of V8's CPU profiles (`--cpu-prof`), so that
 * tools/turns/long-turns.ts can say what ran in each long turn. Measurement only: not part of
 * the library.
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const out = process.env.SAMPAN_TURN_PROBE_OUT;
const threshold = Number(process.env.SAMPAN_TURN_PROBE_MS ?? 20);
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
// performance.now() (GC entries) to hrtime microseconds.
const perfToUs = nowUs() - performance.now() * 1000;

const turns: Array<{ endUs: number; gapMs: number; cpuMs: number }> = [];
const gcs: Array<{ startUs: number; ms: number; kind: number }> = [];
let last = nowUs();
let lastCpu = process.cpuUsage();
let ticks = 0;
const timer = setInterval(() => {
  const t = nowUs();
  const gap = (t - last) / 1000;
  ticks++;
  // CPU time the process used in the gap: a turn is long when the thread ran, not when the OS
  // left the process waiting for a core (a loaded machine stretches wall-clock gaps).
  const cpu = process.cpuUsage(lastCpu);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  if (gap > threshold) turns.push({ endUs: t, gapMs: gap, cpuMs });
  lastCpu = process.cpuUsage();
  last = t;
}, 1);
timer.unref();
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.duration >= 1) gcs.push({ startUs: perfToUs + e.startTime * 1000, ms: e.duration, kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0 });
  }
});
obs.observe({ entryTypes: ['gc'] });
const startUs = nowUs();
process.on('exit', () => {
  if (out !== undefined) writeFileSync(out, JSON.stringify({ startUs, endUs: nowUs(), threshold, ticks, turns, gcs }));
});
