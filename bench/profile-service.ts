/**
 * `node dist/bench/profile-service.js [--target=leader|follower|spread] [--conns=256]
 * [--seconds=10] [--op=put|get] [--dir=DIR] [--top=25] [--no-prof]`: where a service request's time goes
 * (issue 19). Starts three `sampan kv` processes under `node --cpu-prof`, warms them up, drives
 * wrk (the bench's scripts) at the leader, at one follower, or spread over all three, stops
 * them, and prints each process's self time grouped by layer (src/kv, src/host, node http, GC,
 * …) and its hottest functions. Compare shares between runs, not rates: the profiler slows
 * every process. Also prints, per process, what each answered request cost in counts from
 * `/metrics` (engine passes, Raft messages, LogDB batches, WAL syncs, transport messages and
 * bytes, HTTP requests answered there): counts do not depend on the machine's load.
 * `--no-prof`: the counts alone, without the profiler.
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
const prof = !args.has('no-prof');
if (!['leader', 'follower', 'spread'].includes(target)) throw new Error(`--target must be leader, follower or spread, got ${target}`);
const missing = missingTools();
if (missing !== null) throw new Error(missing);

const dir = fs.mkdtempSync(path.join(args.get('dir') ?? os.tmpdir(), 'sampan-prof-'));
const profDir = path.join(dir, 'prof');
fs.mkdirSync(profDir);
const cl = await startSampan(dir, dir, prof ? profDir : undefined);

/** Counters of `/metrics` whose deltas are printed per request (unlabelled lines only, plus the HTTP total). */
const COUNTERS = ['sampan_engine_passes_total', 'sampan_engine_messages_total', 'sampan_logdb_batches_total', 'sampan_wal_syncs_total',
  'sampan_transport_messages_sent_total', 'sampan_transport_sent_bytes_total', 'sampan_http_requests_total'];
/** Histograms whose mean over the run (delta of `_sum` over delta of `_count`) is printed per process. */
const TIMINGS = ['sampan_wal_fsync_seconds', 'sampan_logdb_save_seconds', 'sampan_engine_pass_seconds'];

async function scrape(url: string): Promise<Map<string, number>> {
  const text = await fetch(`${url}/metrics`).then(async (x) => await x.text());
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? ([\d.e+-]+)$/.exec(line);
    if (m === null) continue;
    const timing = /^(.+)_(sum|count)$/.exec(m[1] as string);
    if (timing !== null && TIMINGS.includes(timing[1] as string) && m[2] === undefined) out.set(m[1] as string, Number(m[3]));
    if (!COUNTERS.includes(m[1] as string)) continue;
    if (m[1] === 'sampan_http_requests_total' && !(m[2] ?? '').includes('route="kv_')) continue;
    out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + Number(m[3]));
  }
  return out;
}
let perRequest: string[] = [];
const ids: number[] = [];
try {
  for (const u of cl.urls) {
    const st = await fetch(`${u}/status`).then(async (x) => await x.json() as { replicaId: number });
    ids.push(st.replicaId);
  }
  const script = op === 'put' ? cl.putScript : cl.getScript;
  runWrk(cl.url, cl.putScript, 16, 3);
  const before = await Promise.all(cl.urls.map(scrape));
  const r = target === 'spread' ? await runWrkSpread(cl.urls, script, conns, seconds)
    : runWrk(target === 'leader' ? cl.url : cl.urls[1] as string, script, conns, seconds);
  console.log(`${op} at ${conns} connections on ${target} (${prof ? 'profiled; ' : ''}a shared machine: not a rate to quote): ${Math.round(r.rps)} req/s, `
    + `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
  const after = await Promise.all(cl.urls.map(scrape));
  const answered = after.reduce((a, m, i) => a + (m.get('sampan_http_requests_total') ?? 0) - (before[i]?.get('sampan_http_requests_total') ?? 0), 0);
  perRequest = ['', `per answered request (${answered} in all, counters of /metrics):`, ...cl.urls.map((_, i) => {
    const d = (k: string): number => ((after[i]?.get(k) ?? 0) - (before[i]?.get(k) ?? 0)) / Math.max(1, answered);
    const mean = (k: string): string => {
      const n = (after[i]?.get(`${k}_count`) ?? 0) - (before[i]?.get(`${k}_count`) ?? 0);
      const s = (after[i]?.get(`${k}_sum`) ?? 0) - (before[i]?.get(`${k}_sum`) ?? 0);
      return `${k.replace(/^sampan_|_seconds$/g, '')} ${n === 0 ? '-' : ((s / n) * 1000).toFixed(2)} ms × ${(n / seconds).toFixed(0)}/s`;
    };
    return `replica ${ids[i] ?? '?'} (${i === 0 ? 'leader' : 'follower'}): ${COUNTERS.map((k) => `${k.replace(/^sampan_|_total$/g, '')} ${d(k).toFixed(3)}`).join(', ')}`
      + `\n    means: ${TIMINGS.map(mean).join(', ')}`;
  })];
} finally {
  await cl.stop();
}
console.log(perRequest.join('\n'));
if (prof) ids.forEach((id, i) => {
  const f = path.join(profDir, `sampan-${id}.cpuprofile`);
  const role = i === 0 ? 'leader' : 'follower';
  if (!fs.existsSync(f)) {
    console.log(`\n## replica ${id} (${role}): no profile at ${f}`);
    return;
  }
  console.log([`\n## replica ${id} (${role}), ${f}`, '', ...selfTimeByLayer(f), '', ...topSelfTime(f, top)].join('\n'));
});
if (prof) console.log(`\nprofiles kept in ${profDir}`);
