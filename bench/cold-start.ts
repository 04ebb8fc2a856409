/**
 * `node dist/bench/cold-start.js [--warm=0] [--conns=256] [--runs=3] [--seconds=2]`: the first
 * seconds of a fresh `sampan kv` cluster under a sudden load (issue 19). Starts three replicas,
 * optionally warms the leader up with 16 connections for `--warm` seconds, then runs wrk
 * `--runs` times at `--conns` connections on the leader and prints each run's rate, p50 and
 * p99: the first run of a cold cluster shows the warm-up tail that later runs do not.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from './host-rpc.js';
import { runWrk, startSampan } from './service.js';

const args = parseArgs(process.argv.slice(2));
const warm = Number(args.get('warm') ?? 0);
const conns = Number(args.get('conns') ?? 256);
const runs = Number(args.get('runs') ?? 3);
const seconds = Number(args.get('seconds') ?? 2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sampan-cold-'));
const cl = await startSampan(dir, dir);
try {
  if (warm > 0) {
    const r = runWrk(cl.url, cl.putScript, 16, warm);
    console.log(`warm-up, 16 connections for ${warm} s: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
  }
  for (let i = 0; i < runs; i++) {
    const r = runWrk(cl.url, cl.putScript, conns, seconds);
    console.log(`run ${i + 1}, ${conns} connections for ${seconds} s: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
  }
} finally {
  await cl.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
