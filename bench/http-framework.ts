/**
 * `npm run bench:http`: the cost of an HTTP framework for the KV service. The same routes on
 * `node:http` and on fastify (with schema validation), each in its own process, driven by
 * `wrk` (one thread) in another, side by side in one run: requests/s and latency for GET and
 * PUT of 16-byte values at 64 connections. Median of `--reps` runs of `--seconds` each.
 * Needs `wrk` (Debian: `apt-get install wrk`) and fastify (`npm i --no-save fastify`: not a
 * dependency of sampan). `--kinds=node` runs `node:http` alone (no fastify needed): the
 * ceiling of an HTTP service on `node:http` on this machine, e.g. `--connections=256`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { freePorts } from '../tools/free-ports.js';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const reps = Number(args.get('reps') ?? 3);
const seconds = Number(args.get('seconds') ?? 5);
const connections = Number(args.get('connections') ?? 64);
const kinds = (args.get('kinds') ?? 'node,fastify').split(',');
const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'http-server-child.js');

async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}

async function startServer(kind: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CHILD, kind, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    child.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  return child;
}

function wrk(url: string, script: string | null): { rps: number; p50: number; p99: number } {
  const a = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  if (script !== null) a.push('-s', script);
  const r = spawnSync('wrk', [...a, url], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const ms = (label: string): number => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(r.stdout);
    if (m === null) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  return { rps, p50: ms('50'), p99: ms('99') };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error !== undefined) {
    console.error('bench:http needs wrk (Debian: apt-get install wrk)');
    process.exitCode = 2;
    return;
  }
  const fastify = 'fastify';
  try {
    if (kinds.includes('fastify')) await import(fastify);
  } catch {
    console.error('bench:http needs fastify, which sampan does not depend on: run `npm i --no-save fastify` first (or pass --kinds=node)');
    process.exitCode = 2;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sampan-bench-http-'));
  const put = join(dir, 'put.lua');
  writeFileSync(put, 'wrk.method = "PUT"\nwrk.body = "0123456789abcdef"\ncounter = 0\nrequest = function()\n  counter = counter + 1\n  return wrk.format(nil, "/kv/k" .. (counter % 100000))\nend\n');
  const rows: string[] = [];
  const results = new Map<string, { rps: number[]; p50: number[]; p99: number[] }>();
  const runOne = async (rep: number, kind: string): Promise<void> => {
    const port = await freePort();
    const child = await startServer(kind, port);
    try {
      for (const [op, script] of [['GET', null], ['PUT', put]] as const) {
        const r = wrk(`http://127.0.0.1:${port}/kv/hello`, script);
        const k = `${kind} ${op}`;
        const acc = results.get(k) ?? { rps: [], p50: [], p99: [] };
        acc.rps.push(r.rps); acc.p50.push(r.p50); acc.p99.push(r.p99);
        results.set(k, acc);
        process.stderr.write(`rep ${rep + 1}/${reps} ${k}: ${r.rps.toFixed(0)} req/s\n`);
      }
    } finally {
      child.kill('SIGKILL');
    }
  };
  try {
    for (let rep = 0; rep < reps; rep++) for (const kind of kinds) await runOne(rep, kind);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  rows.push(`| framework | op | req/s (median, min–max) | p50 ms | p99 ms |`, `|---|---|--:|--:|--:|`);
  for (const [k, r] of results) {
    const [kind, op] = k.split(' ');
    rows.push(`| ${kind} | ${op} | ${median(r.rps).toFixed(0)} (${Math.min(...r.rps).toFixed(0)}–${Math.max(...r.rps).toFixed(0)}) | ${median(r.p50).toFixed(2)} | ${median(r.p99).toFixed(2)} |`);
  }
  for (const op of kinds.includes('fastify') && kinds.includes('node') ? ['GET', 'PUT'] : []) {
    const n = median(results.get(`node ${op}`)?.rps ?? []);
    const f = median(results.get(`fastify ${op}`)?.rps ?? []);
    rows.push(`\n${op}: fastify/node:http = ${(f / n).toFixed(2)}`);
  }
  console.log(rows.join('\n'));
}

await main();
