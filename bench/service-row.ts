/**
 * `node dist/bench/service-row.js [--system=sampan|etcd] [--op=put|get] [--conns=256] [--seconds=8] [--reps=1] [--spread] [--warm=0]`:
 * one row of the service workload (`service.ts`) on a fresh cluster, for quick A/B runs
 * (e.g. with SAMPAN_BENCH_KV_ARGS="--snapshot-entries 0"); `--spread`: the clients spread over
 * the three members (one wrk each) instead of all on the leader; `--warm=N`: N seconds of puts
 * at 16 connections first, unrecorded (as the full bench's warm-up begins).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from './host-rpc.js';
import { runWrk, runWrkSpread, startEtcd, startSampan } from './service.js';

const args = parseArgs(process.argv.slice(2));
const system = args.get('system') ?? 'sampan';
const op = args.get('op') ?? 'put';
const conns = Number(args.get('conns') ?? 256);
const seconds = Number(args.get('seconds') ?? 8);
const reps = Number(args.get('reps') ?? 1);
const spread = args.has('spread');
const warm = Number(args.get('warm') ?? 0);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sampan-row-'));
const cl = system === 'etcd' ? await startEtcd(dir, dir) : await startSampan(dir, dir);
try {
  if (warm > 0) runWrk(cl.url, cl.putScript, 16, warm);
  for (let i = 0; i < reps; i++) {
    const script = op === 'put' ? cl.putScript : cl.getScript;
    const r = spread ? await runWrkSpread(cl.urls, script, conns, seconds) : runWrk(cl.url, script, conns, seconds);
    console.log(`${system} ${op} c=${conns}${spread ? ' spread' : ''}: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
  }
} finally {
  await cl.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
