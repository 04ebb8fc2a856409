/**
 * `npm run measure:failover [-- --reps N --rtt-ms MS --writers W --after-ms MS --kill-delay-ms MS --verbose]`
 * (issue #14 §3): N rounds of {@link runFailoverRound} — three `sampan kv` processes, writers
 * through the followers, the leader SIGKILLed right after a write is handed to a follower —
 * printing per round the latency of that write and of every write in flight at or started
 * after the kill, then max and p50 over all rounds. Target: every one of them answered 200
 * within 3 s at the default `--rtt-ms` (100: election timeout 1 s). Exits 1 when a write
 * failed or took 3 s or more.
 */
import { parseArgs } from 'node:util';
import { percentile, runFailoverRound, type WriteSample } from '../tools/failover-probe.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    'rtt-ms': { type: 'string', default: '100' },
    writers: { type: 'string', default: '4' },
    'after-ms': { type: 'string', default: '4000' },
    'kill-delay-ms': { type: 'string', default: '1' },
    verbose: { type: 'boolean', default: false },
  },
});
const reps = Number(values.reps);
const opts = {
  rttMs: Number(values['rtt-ms']), writers: Number(values.writers), afterMs: Number(values['after-ms']),
  killDelayMs: Number(values['kill-delay-ms']),
};
const TARGET_MS = 3000;
const ms = (x: number): string => `${Math.round(x)} ms`;

console.log(`failover: ${reps} rounds, --rtt-ms ${opts.rttMs}, ${opts.writers} writers through the followers, `
  + `leader SIGKILLed ${opts.killDelayMs} ms after a write is handed to a follower; ${opts.afterMs} ms of writes after`);
const all: WriteSample[] = [];
const killedWrites: number[] = [];
for (let rep = 1; rep <= reps; rep++) {
  const r = await runFailoverRound(opts);
  const k = r.samples.find((s) => s.killed);
  const lat = r.samples.map((s) => s.latencyMs);
  const failed = r.samples.filter((s) => s.status !== 200);
  all.push(...r.samples);
  if (k !== undefined) killedWrites.push(k.latencyMs);
  console.log(`round ${rep}: leader ${r.oldLeader} killed, new leader ${r.newLeader} seen at ${ms(r.newLeaderMs)}; `
    + `the write at the kill: ${k === undefined ? '?' : `${k.status} in ${ms(k.latencyMs)}`}; `
    + `${r.samples.length} writes at/after the kill: max ${ms(Math.max(...lat))}, p50 ${ms(percentile(lat, 50))}`
    + `${failed.length > 0 ? `; FAILED ${failed.length}: ${failed.map((s) => `${s.status} ${s.code ?? ''}`).join(', ')}` : ''}`);
  const slow = r.samples.filter((s) => s.latencyMs >= 1000).map((s) => `${ms(s.startMs)}→${ms(s.latencyMs)}`);
  if (slow.length > 0) console.log(`  waited ≥ 1 s (start after kill → latency): ${slow.join(' ')}`);
  if (values.verbose) console.log(`  survivors (role/term/leader): ${r.timeline.join(' ')}`);
}
const lat = all.map((s) => s.latencyMs);
const bad = all.filter((s) => s.status !== 200 || s.latencyMs >= TARGET_MS);
console.log(`all rounds: the write at the kill: max ${ms(Math.max(...killedWrites))}, p50 ${ms(percentile(killedWrites, 50))}; `
  + `${all.length} writes at/after the kill: max ${ms(Math.max(...lat))}, p50 ${ms(percentile(lat, 50))}, p99 ${ms(percentile(lat, 99))}; `
  + `failed or ≥ ${TARGET_MS} ms: ${bad.length}`);
process.exitCode = bad.length > 0 ? 1 : 0;
