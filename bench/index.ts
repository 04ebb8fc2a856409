/**
 * `npm run bench` (issue 8): sampan against what users would use instead, in one run on this
 * machine. Workloads, in the order they run:
 *
 * 3. limits: raw append + fdatasync rate of the data disk (batched like the WAL) and loopback
 *    TCP throughput and round trip (`limits.ts`);
 * 2. service: `sampan kv` × 3 against etcd × 3 through wrk (`service.ts`);
 * 1. library: three NodeHosts as processes, in-process clients (`library.ts`); then the same
 *    with `readMode: 'lease'`, for linearizable reads at 64 in flight, ReadIndex against lease
 *    side by side (issue 17 §2: the goal is lease ≥ 2× ReadIndex);
 * then hashicorp (issue 19): the 1-shard, 16-byte library workload on hashicorp/raft (three
 *    processes, raft-boltdb, fsync on; `hashicorp.ts`), shown beside sampan's rows, when `go`
 *    and Debian's hashicorp packages are installed (else one line: skipped, with the install command).
 *
 * Flags: `--quick` (one run of 3 s per row, fewer rows: a ~1-minute smoke run), `--json` (one
 * JSON line per row on stdout instead of tables), `--only=limits,service,library,hashicorp`,
 * `--seconds=N --reps=N` (default 10 and 3: the median of 3 runs of 10 s, with min and max),
 * `--inflight=1,256` (the in-flight levels of the proposal rows; default 1,16,64,256,1024),
 * `--dir=DIR` (data of both systems; default the OS temp dir), `--profile` (run the sampan kv
 * processes under `node --cpu-prof` and print the leader's hottest functions), `--charts=DIR`
 * (write `bench-rows.jsonl` and throughput-against-latency SVG charts into DIR; `chart.ts`),
 * `--spread` (the service workload's clients spread over the three members of each system,
 * one wrk per member with a third of the connections, instead of all on the leader).
 * Each fresh cluster gets an unrecorded warm-up first: puts at 16 connections and at one, then
 * gets (sampan's JIT, page caches, connections).
 * A progress line goes to stderr. Needs `wrk` and `etcd` for the service workload.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loopbackTcp, rawFsync, type Row } from './limits.js';
import { etcdVersion, killServiceChildren, missingTools, runWrk, runWrkSpread, startEtcd, startSampan, type Cluster } from './service.js';
import { runLoad, startLibrary } from './library.js';
import { ensureBinary, hashicorpMissing, hashicorpRows, hashicorpVersion, killHashicorp, runHashicorp } from './hashicorp.js';
import { killAll, median, parseArgs, topSelfTime } from './host-rpc.js';
import { writeCharts } from './chart.js';

const args = parseArgs(process.argv.slice(2));
const quick = args.has('quick');
const json = args.has('json');
const seconds = Number(args.get('seconds') ?? (quick ? 3 : 10));
const reps = Number(args.get('reps') ?? (quick ? 1 : 3));
const only = new Set((args.get('only') ?? 'limits,service,library,hashicorp').split(','));
const baseDir = args.get('dir') ?? os.tmpdir();
const profile = args.has('profile');
const chartsDir = args.get('charts');
/** In-flight levels of the proposal rows, sampan's and hashicorp/raft's. */
const inflights = args.get('inflight')?.split(',').map(Number) ?? (quick ? [1, 64, 1024] : [1, 16, 64, 256, 1024]);
const spread = args.has('spread');

const rows: Row[] = [];
const t0 = Date.now();

/** Rewrites the progress line on stderr. */
function progress(msg: string): void {
  const line = `[bench ${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}`;
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else process.stderr.write(`${line}\n`);
}

function emit(r: Row): void {
  rows.push(r);
  if (json) console.log(JSON.stringify(r));
}

const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
const range = (xs: readonly number[]): string => (xs.length > 1 ? ` (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '');

async function limits(dir: string): Promise<void> {
  for (const batch of quick ? [4096, 65536] : [512, 4096, 65536]) {
    const runs: Array<{ ops: number; p50: number; p99: number; mbps: number }> = [];
    for (let r = 0; r < reps; r++) {
      progress(`limits: append+fdatasync ${batch} B batches, run ${r + 1}/${reps}`);
      runs.push(await rawFsync(dir, batch, seconds));
    }
    emit({ workload: 'limits', name: `fdatasync ${batch} B`, opsPerSec: median(runs.map((x) => x.ops)), runs: runs.map((x) => x.ops),
      p50: median(runs.map((x) => x.p50)), p99: median(runs.map((x) => x.p99)), extra: { mbps: median(runs.map((x) => x.mbps)) } });
  }
  const runs: Array<Awaited<ReturnType<typeof loopbackTcp>>> = [];
  for (let r = 0; r < reps; r++) {
    progress(`limits: loopback TCP, run ${r + 1}/${reps}`);
    runs.push(await loopbackTcp(seconds));
  }
  emit({ workload: 'limits', name: 'loopback TCP 16 B ping-pong', opsPerSec: median(runs.map((x) => x.rtts)), runs: runs.map((x) => x.rtts),
    p50: median(runs.map((x) => x.rttP50)), p99: median(runs.map((x) => x.rttP99)), extra: { streamMBps: median(runs.map((x) => x.mbps)) } });
}

async function service(dir: string): Promise<void> {
  const missing = missingTools();
  if (missing !== null) {
    console.error(`service workload skipped: ${missing}`);
    return;
  }
  const plan: Array<{ op: 'put' | 'get'; c: number }> = [
    ...(quick ? [1, 64, 256] : [1, 16, 64, 256]).map((c) => ({ op: 'put' as const, c })), { op: 'get', c: 64 },
  ];
  const results = new Map<string, Array<{ rps: number; p50: number; p99: number; errors: number; non2xx: number }>>();
  const profDir = profile ? fs.mkdtempSync(path.join(dir, 'prof-')) : undefined;
  let profLeader = 0;
  for (let r = 0; r < reps; r++) {
    for (const system of ['sampan', 'etcd'] as const) {
      const data = fs.mkdtempSync(path.join(dir, `${system}-`));
      progress(`service: starting ${system} × 3, run ${r + 1}/${reps}`);
      let cl: Cluster | null = null;
      try {
        cl = system === 'sampan' ? await startSampan(data, data, r === 0 ? profDir : undefined) : await startEtcd(data, data);
        // Not recorded: both systems warm up (sampan's JIT, both page caches and connections),
        // on the paths the rows measure. Gets warmed by puts alone ran their first seconds cold
        // in every run (sampan's get p99 98.7 ms against 5–10 ms warm), and so did puts at one
        // connection after puts at 16: sampan's first 4 s at one connection ran 30–50% slower
        // than the next ones in four runs of five (`service-row.js --conns=1 --seconds=4
        // --reps=4 --warm=3`, 2026-12-07; etcd's first run was slower in one of two, by 18%).
        progress(`service: ${system} warm-up, run ${r + 1}/${reps}`);
        runWrk(cl.url, cl.putScript, 16, quick ? 2 : 3);
        runWrk(cl.url, cl.putScript, 1, quick ? 1 : 2);
        runWrk(cl.url, cl.getScript, 16, quick ? 1 : 2);
        for (const p of plan) {
          progress(`service: ${system} ${p.op} at ${p.c} connections, run ${r + 1}/${reps} (${seconds} s)`);
          const script = p.op === 'put' ? cl.putScript : cl.getScript;
          const res = spread ? await runWrkSpread(cl.urls, script, p.c, seconds) : runWrk(cl.url, script, p.c, seconds);
          const k = `${system} ${p.op} ${p.c}`;
          results.set(k, [...(results.get(k) ?? []), res]);
        }
        if (system === 'sampan' && r === 0 && profDir !== undefined) {
          const st = await fetch(`${cl.url}/status`).then(async (x) => await x.json() as { replicaId: number });
          profLeader = st.replicaId;
        }
      } finally {
        await cl?.stop();
        fs.rmSync(data, { recursive: true, force: true });
      }
    }
  }
  for (const p of plan) {
    const get = (s: string): Array<{ rps: number; p50: number; p99: number; errors: number; non2xx: number }> => results.get(`${s} ${p.op} ${p.c}`) ?? [];
    const s = get('sampan');
    const e = get('etcd');
    for (const [system, xs] of [['sampan', s], ['etcd', e]] as const) {
      emit({ workload: 'service', name: `${system} ${p.op} c=${p.c}${spread ? ' spread' : ''}`, opsPerSec: median(xs.map((x) => x.rps)), runs: xs.map((x) => x.rps),
        p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)),
        extra: { system, op: p.op, connections: p.c, spread: spread ? 1 : 0, errors: xs.reduce((a, x) => a + x.errors, 0), non2xx: xs.reduce((a, x) => a + x.non2xx, 0),
          ratioSampanEtcd: median(s.map((x) => x.rps)) / median(e.map((x) => x.rps)) } });
    }
  }
  if (profDir !== undefined) {
    const f = path.join(profDir, `sampan-${profLeader}.cpuprofile`);
    if (fs.existsSync(f)) console.error([`\nCPU profile of the sampan leader (replica ${profLeader}), ${f}:`, ...topSelfTime(f, 25)].join('\n'));
    else console.error(`no profile at ${f}`);
  }
}

async function library(dir: string): Promise<void> {
  const shardsList = [1, 16];
  const sizes = quick ? [16] : [16, 128];
  for (const shards of shardsList) {
    const data = fs.mkdtempSync(path.join(dir, `lib-${shards}-`));
    progress(`library: starting 3 hosts × ${shards} shard(s)`);
    const cl = await startLibrary(data, shards);
    try {
      progress(`library: ${shards} shard(s), warm-up`);
      await runLoad(cl, 64, 16, quick ? 1 : 2);
      const plan: Array<{ size: number; n: number; read: boolean }> = [];
      for (const size of sizes) for (const n of inflights) plan.push({ size, n, read: false });
      plan.push({ size: 0, n: 64, read: true });
      for (const p of plan) {
        const runs: Array<Awaited<ReturnType<typeof runLoad>>> = [];
        for (let r = 0; r < reps; r++) {
          progress(`library: ${shards} shard(s), ${p.read ? 'ReadIndex reads' : `${p.size} B proposals`}, ${p.n} in flight, run ${r + 1}/${reps}`);
          runs.push(await runLoad(cl, p.n, p.size, seconds, p.read));
        }
        const cpu = runs.map((x) => x.cpuPct.map((v) => v.toFixed(0)).join('/'));
        const mid = [...runs].sort((a, b) => a.ops - b.ops)[Math.floor((runs.length - 1) / 2)];
        const fsyncP50 = median(mid?.timings.map((t) => t.syncMsP50) ?? []);
        const perBatch = Math.max(0, ...(mid?.timings.map((t) => t.entriesPerBatch) ?? []));
        emit({ workload: 'library', name: `${shards} shard(s) ${p.read ? 'readIndex' : `${p.size} B`} inflight=${p.n}`,
          opsPerSec: median(runs.map((x) => x.ops)), runs: runs.map((x) => x.ops), p50: median(runs.map((x) => x.p50)), p99: median(runs.map((x) => x.p99)),
          extra: { shards, size: p.size, inflight: p.n, read: String(p.read), p999: median(runs.map((x) => x.p999)), errors: runs.reduce((a, x) => a + x.errors, 0), cpuPctPerProcess: cpu[Math.floor((cpu.length - 1) / 2)] ?? '',
            fsyncP50Ms: fsyncP50, entriesPerBatch: perBatch } });
      }
    } finally {
      await cl.stop();
      fs.rmSync(data, { recursive: true, force: true });
    }
  }
  await leaseReads(dir, shardsList);
}

/** Linearizable reads at 64 in flight on clusters whose shards read by lease (`readMode: 'lease'`). */
async function leaseReads(dir: string, shardsList: readonly number[]): Promise<void> {
  for (const shards of shardsList) {
    const data = fs.mkdtempSync(path.join(dir, `lease-${shards}-`));
    progress(`library: starting 3 hosts × ${shards} shard(s), lease reads`);
    const cl = await startLibrary(data, shards, [], 'lease');
    try {
      progress(`library: ${shards} shard(s), lease reads, warm-up`);
      await runLoad(cl, 64, 16, quick ? 1 : 2);
      await runLoad(cl, 64, 0, 1, true);
      const runs: Array<Awaited<ReturnType<typeof runLoad>>> = [];
      for (let r = 0; r < reps; r++) {
        progress(`library: ${shards} shard(s), lease reads, 64 in flight, run ${r + 1}/${reps}`);
        runs.push(await runLoad(cl, 64, 0, seconds, true));
      }
      const cpu = runs.map((x) => x.cpuPct.map((v) => v.toFixed(0)).join('/'));
      emit({ workload: 'library', name: `${shards} shard(s) leaseRead inflight=64`,
        opsPerSec: median(runs.map((x) => x.ops)), runs: runs.map((x) => x.ops), p50: median(runs.map((x) => x.p50)), p99: median(runs.map((x) => x.p99)),
        extra: { shards, size: 0, inflight: 64, read: 'lease', p999: median(runs.map((x) => x.p999)), errors: runs.reduce((a, x) => a + x.errors, 0), cpuPctPerProcess: cpu[Math.floor((cpu.length - 1) / 2)] ?? '',
          fsyncP50Ms: NaN, entriesPerBatch: 0 } });
    } finally {
      await cl.stop();
      fs.rmSync(data, { recursive: true, force: true });
    }
  }
}

/** The 1-shard, 16-byte proposal rows on hashicorp/raft (three processes, fsync on). */
async function hashicorp(dir: string): Promise<void> {
  const missing = hashicorpMissing();
  if (missing !== null) {
    console.error(missing);
    return;
  }
  const data = fs.mkdtempSync(path.join(dir, 'hashicorp-'));
  try {
    progress('hashicorp/raft: building bench/hashicorp/main.go (once)');
    const bin = ensureBinary();
    const { runs } = await runHashicorp(bin, { dir: data, inflights, size: 16, seconds, reps, warmupSeconds: quick ? 1 : 2 },
      (msg) => progress(`hashicorp/raft: ${msg}`));
    for (const r of hashicorpRows(runs)) emit(r);
  } catch (e) {
    // The comparison is optional: its failure is reported and sampan's rows are still printed.
    console.error(`\nhashicorp/raft workload failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
}

function printTables(): void {
  const out: string[] = [];
  const lim = rows.filter((r) => r.workload === 'limits');
  if (lim.length > 0) {
    out.push('\n### Limits', '', '| what | ops/s (median, min–max) | p50 ms | p99 ms | MB/s |', '|---|--:|--:|--:|--:|');
    for (const r of lim) out.push(`| ${r.name} | ${fmt(r.opsPerSec)}${range(r.runs)} | ${fmt(r.p50, 3)} | ${fmt(r.p99, 3)} | ${fmt(Number(r.extra.mbps ?? r.extra.streamMBps), 1)} |`);
  }
  const svc = rows.filter((r) => r.workload === 'service');
  if (svc.length > 0) {
    out.push(`\n### Service: sampan kv × 3 vs etcd × 3 (${spread ? 'one wrk of 1 thread per member, clients spread over the three' : 'wrk, 1 thread, on the leader'})`, '',
      '| op | conns | sampan req/s (min–max) | p50 ms | p99 ms | etcd req/s (min–max) | p50 ms | p99 ms | sampan/etcd |', '|---|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const s of svc.filter((r) => r.extra.system === 'sampan')) {
      const e = svc.find((r) => r.extra.system === 'etcd' && r.extra.op === s.extra.op && r.extra.connections === s.extra.connections);
      const errs = (r: Row | undefined): string => (r !== undefined && (Number(r.extra.errors) > 0 || Number(r.extra.non2xx) > 0) ? ` [err ${String(r.extra.errors)}, non-2xx ${String(r.extra.non2xx)}]` : '');
      out.push(`| ${String(s.extra.op)} | ${String(s.extra.connections)} | ${fmt(s.opsPerSec)}${range(s.runs)}${errs(s)} | ${fmt(s.p50, 2)} | ${fmt(s.p99, 2)} | `
        + `${fmt(e?.opsPerSec ?? NaN)}${range(e?.runs ?? [])}${errs(e)} | ${fmt(e?.p50 ?? NaN, 2)} | ${fmt(e?.p99 ?? NaN, 2)} | ${fmt(Number(s.extra.ratioSampanEtcd), 2)} |`);
    }
  }
  const lib = rows.filter((r) => r.workload === 'library');
  if (lib.length > 0) {
    out.push('\n### Library: 3 NodeHosts as processes, in-process clients, fsync on', '',
      '| shards | op | in flight | ops/s (min–max) | p50 ms | p99 ms | p99.9 ms | CPU % per process | fdatasync p50 ms | entries/batch | errors |', '|--:|---|--:|--:|--:|--:|--:|---|--:|--:|--:|');
    for (const r of lib) {
      const op = r.extra.read === 'true' ? 'ReadIndex' : r.extra.read === 'lease' ? 'lease read' : `propose ${String(r.extra.size)} B`;
      out.push(`| ${String(r.extra.shards)} | ${op} | ${String(r.extra.inflight)} | ${fmt(r.opsPerSec)}${range(r.runs)} | `
        + `${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(Number(r.extra.p999), 2)} | ${String(r.extra.cpuPctPerProcess)} | ${fmt(Number(r.extra.fsyncP50Ms), 2)} | ${String(r.extra.entriesPerBatch)} | ${String(r.extra.errors)} |`);
    }
  }
  const leased = lib.filter((r) => r.extra.read === 'lease');
  if (leased.length > 0) {
    out.push('\n### Linearizable reads at 64 in flight: ReadIndex against lease (goal: lease ≥ 2×)', '',
      '| shards | ReadIndex ops/s (min–max) | p50 ms | lease ops/s (min–max) | p50 ms | lease/ReadIndex |', '|--:|--:|--:|--:|--:|--:|');
    for (const l of leased) {
      const ri = lib.find((r) => r.extra.read === 'true' && r.extra.shards === l.extra.shards && r.extra.inflight === 64);
      out.push(`| ${String(l.extra.shards)} | ${fmt(ri?.opsPerSec ?? NaN)}${range(ri?.runs ?? [])} | ${fmt(ri?.p50 ?? NaN, 2)} | `
        + `${fmt(l.opsPerSec)}${range(l.runs)} | ${fmt(l.p50, 2)} | ${fmt(l.opsPerSec / (ri?.opsPerSec ?? NaN), 2)} |`);
    }
  }
  const hc = rows.filter((r) => r.workload === 'hashicorp');
  if (hc.length > 0) {
    out.push('\n### Library beside hashicorp/raft: 1 shard, 16 B proposals, 3 processes on loopback, fsync on', '',
      '| in flight | sampan ops/s (min–max) | p50 ms | p99 ms | p99.9 ms | hashicorp/raft ops/s (min–max) | p50 ms | p99 ms | p99.9 ms | hashicorp CPU % per process | errors | sampan/hashicorp |',
      '|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|');
    for (const h of hc) {
      const s = lib.find((r) => r.extra.read === 'false' && r.extra.shards === 1 && r.extra.size === h.extra.size && r.extra.inflight === h.extra.inflight);
      out.push(`| ${String(h.extra.inflight)} | ${fmt(s?.opsPerSec ?? NaN)}${range(s?.runs ?? [])} | ${fmt(s?.p50 ?? NaN, 2)} | ${fmt(s?.p99 ?? NaN, 2)} | ${fmt(Number(s?.extra.p999 ?? NaN), 2)} | `
        + `${fmt(h.opsPerSec)}${range(h.runs)} | ${fmt(h.p50, 2)} | ${fmt(h.p99, 2)} | ${fmt(Number(h.extra.p999), 2)} | ${String(h.extra.cpuPctPerProcess)} | ${String(h.extra.errors)} | ${fmt((s?.opsPerSec ?? NaN) / h.opsPerSec, 2)} |`);
    }
  }
  console.log(out.join('\n'));
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(baseDir, 'sampan-bench-'));
  const onSignal = (): void => { killServiceChildren(); killAll(); killHashicorp(); fs.rmSync(dir, { recursive: true, force: true }); process.exit(130); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (!json) {
    console.log(`sampan bench: ${quick ? 'quick' : 'full'}, ${reps} run(s) of ${seconds} s per row; ${os.cpus().length} CPUs, `
      + `load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}, data in ${dir}${only.has('service') && missingTools() === null ? `, ${etcdVersion()}` : ''}`
      + `${only.has('hashicorp') && hashicorpMissing() === null ? `, ${hashicorpVersion()}` : ''}; ${new Date().toISOString()}`);
  }
  try {
    if (only.has('limits')) await limits(dir);
    if (only.has('service')) await service(dir);
    if (only.has('library')) await library(dir);
    if (only.has('hashicorp')) await hashicorp(dir);
  } finally {
    killServiceChildren();
    killAll();
    killHashicorp();
    fs.rmSync(dir, { recursive: true, force: true });
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
  if (!json) printTables();
  if (chartsDir !== undefined) {
    fs.mkdirSync(chartsDir, { recursive: true });
    fs.writeFileSync(path.join(chartsDir, 'bench-rows.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    for (const f of writeCharts(rows, chartsDir)) console.error(`wrote ${f}`);
  }
}

await main();
