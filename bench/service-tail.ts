/**
 * `node dist/bench/service-tail.js [--conns=1] [--seconds=10] [--warm=3]`: what each `sampan kv`
 * process did while wrk measured a tail (issue 19: the service's p99 at one connection is several
 * times the library's). Starts three replicas (extra flags from `SAMPAN_BENCH_KV_ARGS`, as the
 * other service benches), warms the leader up with 16 connections for `--warm` seconds (which
 * also fills the keyspace the snapshots carry), runs wrk once, and prints per process the
 * deltas over the run of what could make a request wait: GC pauses by kind (count, total,
 * longest), the event loop's delay (p99, longest: the longest turn), WAL fsyncs slower than
 * 5, 10, 50 and 250 ms, snapshots taken, streamed and received, and proposals and messages dropped. Compare two runs by these counts; the rates
 * need a quiet machine.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from './host-rpc.js';
import { runWrk, startSampan } from './service.js';

const args = parseArgs(process.argv.slice(2));
const conns = Number(args.get('conns') ?? 1);
const seconds = Number(args.get('seconds') ?? 10);
const warm = Number(args.get('warm') ?? 3);

/** One process's `/metrics`, as a map from the full series (name and labels) to its value. */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await fetch(`${url}/metrics`).then(async (x) => await x.text());
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

/** The sum, over every series whose name and labels start with `prefix`, of after − before. */
function delta(before: Map<string, number>, after: Map<string, number>, prefix: string): number {
  let d = 0;
  for (const [k, v] of after) if (k.startsWith(prefix)) d += v - (before.get(k) ?? 0);
  return d;
}

/** One series' value after the run (gauges: the loop's delay and the longest GC pause are windows of 30–60 s). */
function gauge(after: Map<string, number>, series: string): number {
  return after.get(series) ?? NaN;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sampan-tail-'));
const cl = await startSampan(dir, dir);
try {
  if (warm > 0) runWrk(cl.url, cl.putScript, 16, warm);
  const before = await Promise.all(cl.urls.map(scrape));
  const r = runWrk(cl.url, cl.putScript, conns, seconds);
  const after = await Promise.all(cl.urls.map(scrape));
  console.log(`${conns} connection(s) for ${seconds} s on the leader: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}`);
  cl.urls.forEach((_, i) => {
    const b = before[i] as Map<string, number>, a = after[i] as Map<string, number>;
    const gc = ['minor', 'major', 'incremental', 'weakcb'].map((kind) => {
      const n = delta(b, a, `sampan_gc_pauses_total{kind="${kind}"`);
      const ms = delta(b, a, `sampan_gc_pause_seconds_total{kind="${kind}"`) * 1000;
      const max = gauge(a, `sampan_gc_pause_max_seconds{kind="${kind}"}`) * 1000;
      return `${kind} ${n} (${ms.toFixed(1)} ms, max ${max.toFixed(1)})`;
    }).join(', ');
    const syncs = delta(b, a, 'sampan_wal_fsync_seconds_count');
    const le = (x: string): number => delta(b, a, `sampan_wal_fsync_seconds_bucket{le="${x}"`);
    const slow5 = syncs - le('0.005'), slow10 = syncs - le('0.01'), slow50 = syncs - le('0.05'), slow250 = syncs - le('0.25');
    console.log(`${i === 0 ? 'leader  ' : `member ${i + 1}`}: GC ${gc}; loop delay p99 ${(gauge(a, 'sampan_event_loop_delay_p99_seconds') * 1000).toFixed(1)} ms, `
      + `max ${(gauge(a, 'sampan_event_loop_delay_max_seconds') * 1000).toFixed(1)} ms; fsyncs ${syncs} (> 5 ms: ${slow5}, > 10 ms: ${slow10}, > 50 ms: ${slow50}, > 250 ms: ${slow250}); `
      + `snapshots ${delta(b, a, 'sampan_shard_snapshots_taken_total')}, streamed ${delta(b, a, 'sampan_shard_snapshots_sent_total')}, `
      + `received ${delta(b, a, 'sampan_shard_snapshots_received_total')}; proposals dropped ${delta(b, a, 'sampan_shard_proposals_dropped_total')}, `
      + `messages dropped ${delta(b, a, 'sampan_transport_messages_dropped_total')}`);
  });
} finally {
  await cl.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
