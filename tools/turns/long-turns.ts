/**
 * Which event-loop turns of `sampan kv` are long, and what ran in them (issue 19).
 *
 *   node dist/tools/turns/long-turns.js [--seconds 30] [--connections 64] [--keys 100000] [--out DIR] [--bin other/bin/sampan.js] [-- kv flags…]
 *   node dist/tools/turns/long-turns.js --analyze DIR
 *
 * Starts three `sampan kv` processes with `--cpu-prof` and the turn probe (turn-probe.ts),
 * loads the leader with wrk (one thread, puts of 16-byte values to random keys), stops them,
 * and then, per process: the turns that used more than the probe's threshold (20 ms) of CPU, per 10,000 puts,
 * the longest, and what the CPU profile sampled inside them (by the innermost sampan frame,
 * GC, or what else ran), with the GC pauses the probe saw inside them. A measurement tool: its
 * figures are the shape of the tail, not throughput (the machine may be shared).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../free-ports.js';

const BIN = process.argv.includes('--bin') ? path.resolve(process.argv[process.argv.indexOf('--bin') + 1] as string)
  : fileURLToPath(new URL('../../../bin/sampan.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./turn-probe.js', import.meta.url));

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }
interface Probe { startUs: number; endUs: number; threshold: number; ticks: number; turns: Array<{ endUs: number; gapMs: number; cpuMs?: number }>; gcs: Array<{ startUs: number; ms: number; kind: number }> }

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? (process.argv[i + 1] as string) : def;
};

/** The frame a sample is charged to: the innermost sampan frame, else the innermost frame. */
function labeller(p: Profile): (id: number) => string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const cache = new Map<number, string>();
  const name = (n: ProfileNode): string => {
    const file = n.callFrame.url.replace(/^.*\/dist\//, '').replace(/^node:/, 'node:');
    return `${n.callFrame.functionName || '(anonymous)'} ${file}:${n.callFrame.lineNumber + 1}`;
  };
  return (id) => {
    const hit = cache.get(id);
    if (hit !== undefined) return hit;
    const leaf = byId.get(id) as ProfileNode;
    let label = leaf.callFrame.functionName.startsWith('(') ? leaf.callFrame.functionName : '';
    if (label === '') {
      const chain: string[] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const n = byId.get(cur) as ProfileNode;
        if (n.callFrame.url.includes('/dist/src/')) chain.push(name(n));
        if (chain.length === 2) break;
      }
      label = chain.length > 0 ? chain.join(' < ') : `[outside sampan] ${name(leaf)}`;
    }
    cache.set(id, label);
    return label;
  };
}

/** Prints one process's long turns and what ran in them; returns the count of long turns. */
function analyze(profile: Profile, probe: Probe, title: string, puts: number, window: readonly [number, number] | null): void {
  const label = labeller(profile);
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) { t += d; times.push(t); }
  // A turn's length is the CPU time the process used in it (see turn-probe.ts), not the wall
  // clock: on a shared machine the OS may leave the process off a core for 100 ms.
  // Only turns while wrk ran (start-up's module loading is not the service's work); runs
  // recorded without the window: from 5 s after the process started.
  const [from, to] = window ?? [probe.startUs + 5e6, probe.endUs];
  const inRun = (x: { endUs: number }): boolean => x.endUs >= Math.max(from, profile.startTime) && x.endUs <= Math.min(to, profile.endTime);
  const turns = probe.turns.filter((x) => inRun(x) && (x.cpuMs ?? x.gapMs) > probe.threshold);
  const lens = turns.map((x) => x.cpuMs ?? x.gapMs).sort((a, b) => a - b);
  const per10k = puts > 0 ? (turns.length * 10000) / puts : NaN;
  const wall = probe.turns.filter(inRun).length;
  console.log(`\n== ${title}: ${turns.length} turns using > ${probe.threshold} ms of CPU (${per10k.toFixed(1)} per 10k puts; ${wall} wall-clock gaps > ${probe.threshold} ms), `
    + `longest ${(lens.at(-1) ?? 0).toFixed(1)} ms, p50 of long ${(lens[Math.floor(lens.length / 2)] ?? 0).toFixed(1)} ms; `
    + `over 50 ms: ${lens.filter((g) => g > 50).length}, over 100 ms: ${lens.filter((g) => g > 100).length}`);
  const total = new Map<string, number>();
  let gcInLong = 0;
  const rows: string[] = [];
  for (const turn of [...turns].sort((a, b) => (b.cpuMs ?? b.gapMs) - (a.cpuMs ?? a.gapMs))) {
    const from = turn.endUs - turn.gapMs * 1000;
    const here = new Map<string, number>();
    let prev = profile.startTime;
    for (let i = 0; i < times.length; i++) {
      const ti = times[i] as number;
      if (ti >= from && ti <= turn.endUs) {
        const l = label(profile.samples[i] as number);
        here.set(l, (here.get(l) ?? 0) + (ti - prev) / 1000);
      }
      prev = ti;
    }
    const gc = probe.gcs.filter((g) => g.startUs >= from && g.startUs <= turn.endUs).reduce((s, g) => s + g.ms, 0);
    gcInLong += gc;
    for (const [l, ms] of here) total.set(l, (total.get(l) ?? 0) + ms);
    if (rows.length < 8) {
      const top = [...here].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([l, ms]) => `${ms.toFixed(0)} ms ${l}`).join('; ');
      rows.push(`  ${(turn.cpuMs ?? turn.gapMs).toFixed(1)} ms CPU in ${turn.gapMs.toFixed(1)} ms (GC ${gc.toFixed(1)} ms): ${top}`);
    }
  }
  console.log('longest turns:');
  for (const r of rows) console.log(r);
  const sum = [...total.values()].reduce((a, b) => a + b, 0);
  console.log(`sampled time inside long turns, by frame (total ${sum.toFixed(0)} ms; GC pauses inside them ${gcInLong.toFixed(0)} ms):`);
  for (const [l, ms] of [...total].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${ms.toFixed(0).padStart(6)} ms ${(100 * ms / sum).toFixed(1).padStart(5)}%  ${l}`);
  const gcAll = probe.gcs.reduce((s, g) => s + g.ms, 0);
  const gcMax = Math.max(0, ...probe.gcs.map((g) => g.ms));
  console.log(`GC over the whole run: ${probe.gcs.length} pauses >= 1 ms, ${gcAll.toFixed(0)} ms, longest ${gcMax.toFixed(1)} ms`);
}

function analyzeDir(dir: string): void {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as { leader: number; puts: number; wrk: string; loadFromUs?: number; loadToUs?: number };
  const window = meta.loadFromUs !== undefined && meta.loadToUs !== undefined ? [meta.loadFromUs, meta.loadToUs] as const : null;
  console.log(meta.wrk);
  for (let i = 1; i <= 3; i++) {
    const prof = path.join(dir, `sampan-${i}.cpuprofile`);
    const probe = path.join(dir, `probe-${i}.json`);
    if (!fs.existsSync(prof) || !fs.existsSync(probe)) { console.log(`replica ${i}: no profile or probe`); continue; }
    analyze(JSON.parse(fs.readFileSync(prof, 'utf8')) as Profile, JSON.parse(fs.readFileSync(probe, 'utf8')) as Probe,
      `replica ${i}${i === meta.leader ? ' (leader)' : ''}`, meta.puts, window);
  }
}

async function run(): Promise<void> {
  const seconds = Number(arg('--seconds', '30'));
  const conns = Number(arg('--connections', '64'));
  const keys = Number(arg('--keys', '100000'));
  const dir = arg('--out', fs.mkdtempSync(path.join(os.tmpdir(), 'sampan-turns-')));
  fs.mkdirSync(dir, { recursive: true });
  const dd = process.argv.indexOf('--');
  const extra = dd >= 0 ? process.argv.slice(dd + 1) : [];
  const ports = await freePorts(6);
  const raft = [0, 1, 2].map((i) => `127.0.0.1:${ports[i] as number}`);
  const http = [3, 4, 5].map((i) => `127.0.0.1:${ports[i] as number}`);
  const members = raft.map((a, i) => `${i + 1}=${a}`).join(',');
  const kids: ChildProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const c = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=sampan-${i + 1}.cpuprofile`, '--import', PROBE,
      BIN, 'kv', '--replica-id', String(i + 1), '--raft-address', raft[i] as string, '--http-address', http[i] as string,
      '--data-dir', path.join(dir, `data-${i + 1}`), '--initial-members', members, ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SAMPAN_TURN_PROBE_OUT: path.join(dir, `probe-${i + 1}.json`) } });
    kids.push(c);
    await new Promise<void>((res, rej) => {
      let out = '';
      c.stdout?.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready')) res(); });
      c.once('exit', (code) => rej(new Error(`sampan kv ${i + 1} exited (${String(code)}): ${out}`)));
    });
  }
  let leader = 0;
  for (let tries = 0; tries < 300 && leader === 0; tries++) {
    for (let i = 0; i < 3 && leader === 0; i++) {
      const s = await fetch(`http://${http[i] as string}/status`).then((r) => r.json()).catch(() => null) as { shards?: Array<{ isLeader: boolean }> } | null;
      if (s?.shards?.[0]?.isLeader === true) leader = i + 1;
    }
    if (leader === 0) await new Promise((r) => setTimeout(r, 100));
  }
  if (leader === 0) throw new Error('no leader');
  const lua = path.join(dir, 'put.lua');
  fs.writeFileSync(lua, `math.randomseed(os.time())\nwrk.method = "PUT"\nwrk.body = "0123456789abcdef"\n`
    + `request = function() return wrk.format(nil, "/kv/" .. string.format("k%06d", math.random(0, ${keys - 1}))) end\n`);
  const loadFromUs = Number(process.hrtime.bigint() / 1000n);
  const w = spawnSync('wrk', ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', lua, `http://${http[leader - 1] as string}`],
    { encoding: 'utf8', timeout: (seconds + 60) * 1000 });
  const loadToUs = Number(process.hrtime.bigint() / 1000n);
  const puts = Number(/(\d+) requests in/.exec(w.stdout)?.[1] ?? 0);
  await Promise.all(kids.map((c) => new Promise<void>((res) => { c.once('exit', () => res()); c.kill('SIGTERM'); })));
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ leader, puts, wrk: w.stdout, loadFromUs, loadToUs }));
  console.log(`profiles and probes in ${dir}`);
  analyzeDir(dir);
}

if (process.argv.includes('--analyze')) analyzeDir(arg('--analyze', '.'));
else await run();
