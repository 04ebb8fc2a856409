/**
 * `node dist/bench/profile-service.js [--target=leader|follower|spread] [--conns=256]
 * [--seconds=10] [--op=put|get] [--dir=DIR] [--top=25]`: where a service request's time goes
 * (issue 19). Starts three `sampan kv` processes under `node --cpu-prof`, warms them up, drives
 * wrk (the bench's scripts) at the leader, at one follower, or spread over all three, stops
 * them, and prints each process's self time grouped by layer (src/kv, src/host, node http, GC,
 * …) and its hottest functions. Compare shares between runs, not rates: the profiler slows
 * every process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, selfTimeByLayer, topSelfTime } from './host-rpc.js';
import { missingTools, runWrk, runWrkSpread, startSampan } from './service.js';

const args = parseArgs(process.argv.slice(2));
const target = args.get('target') ?? 'leader';
const conns = Number(args.get('conns') ?? 256);
const seconds = Number(args.get('seconds') ?? 10);
const op = args.get('op') ?? 'put';
const top = Number(args.get('top') ?? 25);
if (!['leader', 'follower', 'spread'].includes(target)) throw new Error(`--target must be leader, follower or spread, got ${target}`);
const missing = missingTools();
if (missing !== null) throw new Error(missing);

const dir = fs.mkdtempSync(path.join(args.get('dir') ?? os.tmpdir(), 'sampan-prof-'));
const profDir = path.join(dir, 'prof');
fs.mkdirSync(profDir);
const cl = await startSampan(dir, dir, profDir);
const ids: number[] = [];
try {
  for (const u of cl.urls) {
    const st = await fetch(`${u}/status`).then(async (x) => await x.json() as { replicaId: number });
    ids.push(st.replicaId);
  }
  const script = op === 'put' ? cl.putScript : cl.getScript;
  runWrk(cl.url, cl.putScript, 16, 3);
  const r = target === 'spread' ? await runWrkSpread(cl.urls, script, conns, seconds)
    : runWrk(target === 'leader' ? cl.url : cl.urls[1] as string, script, conns, seconds);
  console.log(`${op} at ${conns} connections on ${target} (profiled, not a rate to quote): ${Math.round(r.rps)} req/s, `
    + `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
} finally {
  await cl.stop();
}
ids.forEach((id, i) => {
  const f = path.join(profDir, `sampan-${id}.cpuprofile`);
  const role = i === 0 ? 'leader' : 'follower';
  if (!fs.existsSync(f)) {
    console.log(`\n## replica ${id} (${role}): no profile at ${f}`);
    return;
  }
  console.log([`\n## replica ${id} (${role}), ${f}`, '', ...selfTimeByLayer(f), '', ...topSelfTime(f, top)].join('\n'));
});
console.log(`\nprofiles kept in ${profDir}`);
