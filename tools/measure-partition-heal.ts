/**
 * `npm run measure:partition-heal -- [--cuts 10,45] [--runs 1] [--rtt-ms 50] [--keep]`
 * For each cut length (seconds) and run: three `sampan kv` processes, a follower blackholed
 * from the others through the chaos proxies for that long, then the time from the heal to the
 * follower's first linearizable read of a value written during the cut (see
 * tools/chaos/partition-heal.ts). Prints one line per run and a JSON summary; exits 1 if any
 * run took longer than `--target-ms` (default 3000) or never served.
 */
import { parseArgs } from 'node:util';
import { measurePartitionHeal, type PartitionHealResult } from './chaos/partition-heal.js';

const { values } = parseArgs({
  options: {
    'cuts': { type: 'string', default: '10,45' },
    'runs': { type: 'string', default: '1' },
    'rtt-ms': { type: 'string', default: '50' },
    'target-ms': { type: 'string', default: '3000' },
    'keep': { type: 'boolean', default: false },
  },
});

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`measure:partition-heal: --${name} must be an integer >= ${min}, got '${v}'`);
    process.exit(2);
  }
  return n;
}

const cuts = (values.cuts ?? '').split(',').map((c) => int('cuts', c.trim(), 1));
const runs = int('runs', values.runs ?? '1', 1);
const rttMs = int('rtt-ms', values['rtt-ms'] ?? '50', 1);
const targetMs = int('target-ms', values['target-ms'] ?? '3000', 1);
const results: PartitionHealResult[] = [];
let late = 0;
for (const cut of cuts) {
  for (let r = 0; r < runs; r++) {
    const res = await measurePartitionHeal({ cutMs: cut * 1000, rttMs, keep: values.keep, say: (l) => console.log(l) });
    results.push(res);
    if (res.healToServeMs === null || res.healToServeMs > targetMs) late++;
    console.log(`cut ${cut} s, run ${r + 1}: follower served ${res.healToServeMs === null ? 'never (gave up)' : `${res.healToServeMs} ms`} after the heal;`
      + ` leader during the cut: connected=${String(res.leaderConnectedDuringCut)}, stalls=${String(res.leaderStallsDuringCut)},`
      + ` ${res.leaderStallWarnings.length} stall warning(s); follower: ${res.followerStallWarnings.length} stall warning(s)`);
  }
}
console.log(JSON.stringify({ rttMs, targetMs, results: results.map((r) => ({ cutMs: r.cutMs, healToServeMs: r.healToServeMs })) }));
process.exit(late === 0 ? 0 : 1);
