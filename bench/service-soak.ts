/**
 * `node dist/bench/service-soak.js [--conns=64] [--seconds=300]`: the service under a steady
 * load for minutes, second by second (issue 19: a 5-minute soak at 64 connections showed wrk's
 * per-second rate swinging between 0 and 20,000). Starts three `sampan kv` (extra flags from
 * `SAMPAN_BENCH_KV_ARGS`, as the other service benches), runs one wrk against the leader, and
 * once a second reads the leader's applied index, every process's RSS and the data directories'
 * size. Prints the distribution of the per-second rates (and the seconds below half the
 * median: the stalls), wrk's own figures, and the ranges of memory and disk.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from './host-rpc.js';
import { startSampan } from './service.js';

const args = parseArgs(process.argv.slice(2));
const conns = Number(args.get('conns') ?? 64);
const seconds = Number(args.get('seconds') ?? 300);

/** The leader's applied index, from its `/metrics`. */
async function appliedIndex(url: string): Promise<number> {
  const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) }).then(async (x) => await x.text());
  const line = text.split('\n').find((l) => l.startsWith('sampan_shard_applied_index'));
  return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? NaN);
}

/** A process's resident set in MiB, from /proc (NaN where /proc is missing). */
function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? NaN : Number(m[1]) / 1024;
  } catch { return NaN; }
}

/** Bytes under `dir`, recursively (files that vanish while walking are skipped). */
function du(dir: string): number {
  let n = 0;
  let entries: fs.Dirent[];
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return 0; }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += du(p);
    else try { n += fs.statSync(p).size; } catch { /* removed meanwhile */ }
  }
  return n;
}

/** The `q` quantile (0–1) of `xs`. */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

const range = (xs: readonly number[], digits = 0): string =>
  `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sampan-soak-'));
const cl = await startSampan(dir, dir);
try {
  const wrk = spawn('wrk', ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', cl.putScript, cl.url],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  wrk.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const done = new Promise<number | null>((r) => wrk.once('exit', (code) => r(code)));
  const rates: number[] = [];
  const rss: number[][] = cl.pids.map(() => []);
  const disk: number[] = [];
  let last = await appliedIndex(cl.url);
  let lastAt = performance.now();
  let running = true;
  void done.then(() => { running = false; });
  while (running) {
    await new Promise((r) => setTimeout(r, 1000));
    if (!running) break;
    const idx = await appliedIndex(cl.url);
    const now = performance.now();
    rates.push((idx - last) / ((now - lastAt) / 1000));
    last = idx;
    lastAt = now;
    cl.pids.forEach((pid, i) => rss[i]?.push(rssMiB(pid)));
    disk.push(du(dir) / 1024 / 1024 / 3);
  }
  const code = await done;
  if (code !== 0) throw new Error(`wrk exited ${String(code)}: ${out}`);
  const lat = (label: string): string => new RegExp(`\\s${label}%\\s+(\\S+)`).exec(out)?.[1] ?? '?';
  const med = quantile(rates, 0.5);
  const low = rates.filter((r) => r < med / 2).length;
  const zero = rates.filter((r) => r < med / 20).length;
  console.log(`${conns} connections for ${seconds} s on the leader: wrk ${/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? '?'} req/s, `
    + `p50 ${lat('50')}, p90 ${lat('90')}, p99 ${lat('99')}`);
  console.log(`applied per second over ${rates.length} s: min ${Math.round(Math.min(...rates))}, p10 ${Math.round(quantile(rates, 0.1))}, `
    + `median ${Math.round(med)}, p90 ${Math.round(quantile(rates, 0.9))}, max ${Math.round(Math.max(...rates))}; `
    + `seconds below half the median: ${low}, below a twentieth: ${zero}`);
  console.log(`RSS MiB (leader first): ${rss.map((r) => range(r)).join(', ')}; data per replica MiB: ${range(disk, 1)}`);
  if (args.has('series')) {
    console.log(`applied per second: ${rates.map((r) => Math.round(r)).join(' ')}`);
    console.log(`data per replica MiB, every 10 s: ${disk.filter((_, i) => i % 10 === 9).map((d) => d.toFixed(1)).join(' ')}`);
  }
} finally {
  await cl.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
