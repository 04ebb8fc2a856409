/**
 * hashicorp/raft beside sampan in `npm run bench` (issue 19): the library workload
 * (`library.ts`, one shard) run on hashicorp/raft by the Go program `bench/hashicorp/main.go`,
 * built offline from Debian's packages (`golang-go`, `golang-github-hashicorp-raft-dev`,
 * `golang-github-hashicorp-raft-boltdb-dev`, sources under /usr/share/gocode) into a cache
 * directory, once per version of main.go and of Go. The program starts three Raft servers as
 * three processes and prints one JSON line per run; this module builds it, runs it, parses its
 * lines and turns them into report rows.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Row } from './limits.js';
import { median } from './host-rpc.js';

/** The Debian packages the workload needs. */
export const GO_PACKAGES = ['golang-go', 'golang-github-hashicorp-raft-dev', 'golang-github-hashicorp-raft-boltdb-dev'] as const;

/** The command that installs them. */
export const INSTALL_COMMAND = `apt-get install -y ${GO_PACKAGES.join(' ')}`;

/** Where Debian's Go library packages put their sources (a GOPATH). */
export const DEBIAN_GOPATH = '/usr/share/gocode';

/** The Go program's source. */
export const MAIN_GO = fileURLToPath(new URL('../../bench/hashicorp/main.go', import.meta.url));

/**
 * The environment of the offline build: GOPATH mode (no modules, so no proxy and no go.sum)
 * over Debian's sources. As a command line, from the repository root:
 * `GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOPROXY=off go build -o BIN bench/hashicorp/main.go`.
 */
export function buildEnv(env: NodeJS.ProcessEnv = process.env, gopath = DEBIAN_GOPATH): NodeJS.ProcessEnv {
  return { ...env, GOPATH: gopath, GO111MODULE: 'off', GOFLAGS: '', GOPROXY: 'off' };
}

/**
 * Why the workload cannot run here, as the one line `npm run bench` prints (skipped, with the
 * install command), or null when `go` is on `env.PATH` and the hashicorp sources are under
 * `gopath`.
 */
export function hashicorpMissing(env: NodeJS.ProcessEnv = process.env, gopath = DEBIAN_GOPATH): string | null {
  let why: string | null = null;
  if (spawnSync('go', ['version'], { env, stdio: 'ignore' }).error !== undefined) why = 'go is not on PATH';
  else {
    const absent = ['github.com/hashicorp/raft', 'github.com/hashicorp/raft-boltdb'].filter((p) => !fs.existsSync(path.join(gopath, 'src', p)));
    if (absent.length > 0) why = `no ${absent.join(' or ')} under ${gopath}/src`;
  }
  return why === null ? null : `hashicorp/raft workload skipped: ${why} (Debian: ${INSTALL_COMMAND})`;
}

/** `go version` output and the Debian versions of the two hashicorp packages, for the report header. */
export function hashicorpVersion(env: NodeJS.ProcessEnv = process.env): string {
  const go = spawnSync('go', ['version'], { env, encoding: 'utf8' }).stdout?.trim().split(' ')[2] ?? '?';
  const deb = (p: string): string => spawnSync('dpkg-query', ['-W', '-f', '${Version}', p], { encoding: 'utf8' }).stdout?.trim() || '?';
  return `hashicorp/raft ${deb('golang-github-hashicorp-raft-dev')} + raft-boltdb ${deb('golang-github-hashicorp-raft-boltdb-dev')} (Debian), ${go}`;
}

/** The default cache of built binaries: `$XDG_CACHE_HOME/sampan-bench` or `~/.cache/sampan-bench`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'sampan-bench');
}

/**
 * The built program: `cacheDir/hashicorp-bench-<hash>`, the hash covering main.go and `go
 * version`, so a changed source or compiler builds anew (removing the binaries of other
 * versions) and an unchanged one is reused. Throws when the build fails (with go's output).
 */
export function ensureBinary(cacheDir = defaultCacheDir(), env: NodeJS.ProcessEnv = process.env): string {
  const goVersion = spawnSync('go', ['version'], { env, encoding: 'utf8' }).stdout ?? '';
  const hash = createHash('sha256').update(fs.readFileSync(MAIN_GO)).update(goVersion).digest('hex').slice(0, 16);
  const bin = path.join(cacheDir, `hashicorp-bench-${hash}`);
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('go', ['build', '-o', tmp, MAIN_GO], { env: buildEnv(env), encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`building ${MAIN_GO} failed (${r.error?.message ?? `exit ${String(r.status)}`}):\n${r.stderr}${r.stdout}`);
  }
  fs.renameSync(tmp, bin);
  // Binaries of earlier versions of main.go or Go are not run again.
  for (const f of fs.readdirSync(cacheDir)) {
    if (/^hashicorp-bench-[0-9a-f]{16}$/.test(f) && path.join(cacheDir, f) !== bin) fs.rmSync(path.join(cacheDir, f), { force: true });
  }
  return bin;
}

/** The first line of the program: Go's version and the Raft settings used. */
export interface HashicorpInfo { readonly type: 'info'; readonly go: string; readonly config: Readonly<Record<string, number | string>> }

/** One timed run: `count` commands applied at `inflight` in flight; latencies in ms. */
export interface HashicorpRun {
  readonly type: 'run';
  readonly inflight: number; readonly size: number; readonly rep: number;
  readonly count: number; readonly errors: number; readonly wallMs: number; readonly opsPerSec: number;
  readonly p50Ms: number; readonly p99Ms: number; readonly p999Ms: number; readonly maxMs: number;
  /** CPU (user + system) of each of the three processes over the run, % of one core. */
  readonly cpuPct: readonly number[];
}

/** A line of the program's output. */
export type HashicorpLine = HashicorpInfo | HashicorpRun | { readonly type: 'done' };

const RUN_NUMBERS = ['inflight', 'size', 'rep', 'count', 'errors', 'wallMs', 'opsPerSec', 'p50Ms', 'p99Ms', 'p999Ms', 'maxMs'] as const;

/**
 * Parses one line of the program's stdout; null for a blank line. Throws on anything else
 * than an info, run or done object with the fields of its type (numbers finite).
 */
export function parseLine(line: string): HashicorpLine | null {
  if (line.trim() === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`hashicorp-bench: not JSON: ${line.slice(0, 200)}`);
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  switch (o.type) {
    case 'done': return { type: 'done' };
    case 'info':
      if (typeof o.go !== 'string' || typeof o.config !== 'object' || o.config === null) break;
      return { type: 'info', go: o.go, config: o.config as Record<string, number | string> };
    case 'run': {
      const bad = RUN_NUMBERS.filter((k) => typeof o[k] !== 'number' || !Number.isFinite(o[k]));
      const cpu = o.cpuPct;
      if (bad.length > 0 || !Array.isArray(cpu) || cpu.some((c) => typeof c !== 'number')) {
        throw new Error(`hashicorp-bench: run line without ${[...bad, ...(Array.isArray(cpu) ? [] : ['cpuPct'])].join(', ')}: ${line.slice(0, 200)}`);
      }
      return o as unknown as HashicorpRun;
    }
  }
  throw new Error(`hashicorp-bench: unexpected line: ${line.slice(0, 200)}`);
}

/** What to run: in-flight levels, command size, runs of `seconds` each, warm-up first. */
export interface HashicorpPlan {
  /** Data directory of the three servers (created; the caller removes it). */
  readonly dir: string;
  readonly inflights: readonly number[];
  readonly size: number;
  readonly seconds: number;
  readonly reps: number;
  readonly warmupSeconds: number;
}

let live: ChildProcess | null = null;

/** Kills the program if it is running (on SIGINT of the bench). */
export function killHashicorp(): void {
  live?.kill('SIGKILL');
}

/**
 * Runs the program `bin` with `plan`; `onProgress` gets its progress lines (without prefix).
 * Resolves with its info and runs once it printed `done` and exited 0; rejects otherwise,
 * with the end of its stderr.
 */
export async function runHashicorp(bin: string, plan: HashicorpPlan, onProgress: (msg: string) => void = () => {}): Promise<{ info: HashicorpInfo | null; runs: HashicorpRun[] }> {
  const args = [`-dir=${plan.dir}`, `-inflight=${plan.inflights.join(',')}`, `-size=${plan.size}`, `-seconds=${plan.seconds}`,
    `-reps=${plan.reps}`, `-warmup=${plan.warmupSeconds}`];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live = child;
  const tail: string[] = [];
  let info: HashicorpInfo | null = null;
  const runs: HashicorpRun[] = [];
  let done = false;
  let bad: Error | null = null;
  createInterface({ input: child.stderr }).on('line', (l) => {
    const m = /^\[hashicorp-bench\] (.*)$/.exec(l);
    if (m !== null) onProgress(m[1] ?? '');
    tail.push(l);
    if (tail.length > 40) tail.shift();
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (l) => {
    try {
      const x = parseLine(l);
      if (x?.type === 'info') info = x;
      else if (x?.type === 'run') runs.push(x);
      else if (x?.type === 'done') done = true;
    } catch (e) {
      bad ??= e as Error;
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
    child.once('error', rej);
    child.once('close', (c, s) => res([c, s]));
  }).finally(() => { live = null; });
  if (bad !== null) throw bad;
  if (code !== 0 || !done) {
    throw new Error(`hashicorp-bench ${code !== null ? `exited with ${code}` : `killed by ${String(signal)}`}${done ? '' : ' before done'}:\n${tail.join('\n')}`);
  }
  return { info, runs };
}

/**
 * One report row per in-flight level (in the order first run): the median of its runs'
 * ops/s and latencies, every run's ops/s, and the CPU per process of the median run.
 * Workload `hashicorp`; `extra` has the keys of the library rows (shards 1).
 */
export function hashicorpRows(runs: readonly HashicorpRun[]): Row[] {
  const levels = [...new Set(runs.map((r) => `${r.size}|${r.inflight}`))];
  return levels.map((k) => {
    const rs = runs.filter((r) => `${r.size}|${r.inflight}` === k);
    const first = rs[0] as HashicorpRun;
    const mid = [...rs].sort((a, b) => a.opsPerSec - b.opsPerSec)[Math.floor((rs.length - 1) / 2)] as HashicorpRun;
    return {
      workload: 'hashicorp', name: `hashicorp/raft ${first.size} B inflight=${first.inflight}`,
      opsPerSec: median(rs.map((r) => r.opsPerSec)), runs: rs.map((r) => r.opsPerSec),
      p50: median(rs.map((r) => r.p50Ms)), p99: median(rs.map((r) => r.p99Ms)),
      extra: { system: 'hashicorp/raft', shards: 1, size: first.size, inflight: first.inflight, read: 'false',
        p999: median(rs.map((r) => r.p999Ms)), errors: rs.reduce((a, r) => a + r.errors, 0),
        cpuPctPerProcess: mid.cpuPct.map((c) => c.toFixed(0)).join('/') },
    };
  });
}
