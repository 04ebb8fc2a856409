/**
 * `npm run measure:partition-heal -- [--cuts 10,45] [--runs 1] [--rtt-ms 50] [--target-ms 3000]
 *   [--testbed proxy|netns] [--bin path/to/bin/sampan.js] [--keep]`
 * For each cut length (seconds) and run: three `sampan kv` processes, a follower silently cut
 * off from the others for that long, then the time from the heal to the follower's first
 * linearizable read of a value written during the cut (see tools/chaos/partition-heal.ts).
 * `--testbed proxy` (default) cuts through the chaos proxies in blackhole mode; `--testbed
 * netns` (root and iproute2 needed) runs each replica in its own network namespace behind a
 * router namespace that drops the packets, as a firewall would (tools/chaos/netns-testbed.ts);
 * `--bin` runs another build (e.g. an older commit's) for comparison. Prints one line per run
 * and a JSON summary; exits 1 if any run took longer than `--target-ms` or never served.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { netnsTestbed, NS, setupNetns, teardownNetns } from './chaos/netns-testbed.js';
import { measurePartitionHeal, proxyTestbed, type PartitionHealResult } from './chaos/partition-heal.js';

const { values } = parseArgs({
  options: {
    'cuts': { type: 'string', default: '10,45' },
    'runs': { type: 'string', default: '1' },
    'rtt-ms': { type: 'string', default: '50' },
    'target-ms': { type: 'string', default: '3000' },
    'testbed': { type: 'string', default: 'proxy' },
    'bin': { type: 'string', default: fileURLToPath(new URL('../../bin/sampan.js', import.meta.url)) },
    'keep': { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  console.error(`measure:partition-heal: ${message}`);
  process.exit(2);
}

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

const cuts = (values.cuts ?? '').split(',').map((c) => int('cuts', c.trim(), 1));
const runs = int('runs', values.runs ?? '1', 1);
const rttMs = int('rtt-ms', values['rtt-ms'] ?? '50', 1);
const targetMs = int('target-ms', values['target-ms'] ?? '3000', 1);
const bin = values.bin!;
const testbedName = values.testbed;
if (testbedName !== 'proxy' && testbedName !== 'netns') fail(`--testbed must be proxy or netns, got '${String(testbedName)}'`);

// The netns harness must run inside the router namespace: set it up, run this script again
// there, and tear it down whatever happens.
if (testbedName === 'netns' && process.env['SAMPAN_HEAL_INNER'] !== '1') {
  try {
    setupNetns();
  } catch (e) {
    fail(`cannot create network namespaces (root and iproute2 needed): ${(e as Error).message}`);
  }
  let code = 1;
  try {
    const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit', env: { ...process.env, SAMPAN_HEAL_INNER: '1' },
    });
    code = r.status ?? 1;
  } finally {
    teardownNetns();
  }
  process.exit(code);
}

const results: PartitionHealResult[] = [];
let late = 0;
for (const cut of cuts) {
  for (let r = 0; r < runs; r++) {
    const res = await measurePartitionHeal({
      cutMs: cut * 1000, rttMs, keep: values.keep, say: (l) => console.log(l),
      testbed: testbedName === 'netns' ? (rtt) => netnsTestbed(rtt, bin) : proxyTestbed,
    });
    results.push(res);
    if (res.healToServeMs === null || res.healToServeMs > targetMs) late++;
    console.log(`${res.testbed}: cut ${cut} s, run ${r + 1}: follower served ${res.healToServeMs === null ? 'never (gave up)' : `${res.healToServeMs} ms`} after the heal;`
      + ` leader during the cut: connected=${String(res.leaderConnectedDuringCut)}, stalls=${String(res.leaderStallsDuringCut)},`
      + ` ${res.leaderStallWarnings.length} stall warning(s); follower: ${res.followerStallWarnings.length} stall warning(s)`);
  }
}
console.log(JSON.stringify({ testbed: testbedName, rttMs, targetMs, results: results.map((r) => ({ cutMs: r.cutMs, healToServeMs: r.healToServeMs })) }));
process.exit(late === 0 ? 0 : 1);
