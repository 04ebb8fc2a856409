/**
 * The parent side of `host-child.ts`: forks a NodeHost child process and calls it, plus the
 * small helpers the multi-process benchmarks share (free loopback ports, flags, temp dirs,
 * a summary of a .cpuprofile file).
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { SourceMap } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./host-child.js', import.meta.url));

/** An event a child forwarded: its name, payload and wall-clock time (ms). */
export interface ChildEvent { readonly event: string; readonly payload: Record<string, unknown>; readonly at: number }

interface Reply { id?: number; ok?: boolean; result?: unknown; error?: string; event?: string; payload?: Record<string, unknown>; at?: number; ready?: boolean }

/** Every child forked and not yet exited, killed on exit of the parent. */
const live = new Set<HostProcess>();

/** A NodeHost running in a child process. */
export class HostProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();
  /** Every event received, in order. */
  readonly events: ChildEvent[] = [];
  private readonly eventWaiters: Array<{ match: (e: ChildEvent) => boolean; res: (e: ChildEvent) => void }> = [];
  /** Resolves with the exit code when the child exits. */
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess, readonly label: string) {
    live.add(this);
    this.exited = new Promise((res) => {
      child.on('exit', (code) => {
        live.delete(this);
        for (const w of this.waiting.values()) w.rej(new Error(`${label} exited (code ${String(code)})`));
        this.waiting.clear();
        res(code);
      });
    });
    child.on('message', (m: Reply) => this.onMessage(m));
  }

  /** Forks a child (with extra node flags) and waits until it is ready. */
  static async spawn(label: string, execArgv: readonly string[] = []): Promise<HostProcess> {
    const child = fork(CHILD, [], { execArgv: [...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const hp = new HostProcess(child, label);
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`${label} did not start`)), 30000);
      child.once('message', () => { clearTimeout(t); res(); });
      child.once('exit', () => { clearTimeout(t); rej(new Error(`${label} exited at start`)); });
    });
    return hp;
  }

  private onMessage(m: Reply): void {
    if (m.event !== undefined) {
      const e: ChildEvent = { event: m.event, payload: m.payload ?? {}, at: m.at ?? 0 };
      this.events.push(e);
      for (let i = this.eventWaiters.length - 1; i >= 0; i--) {
        const w = this.eventWaiters[i];
        if (w !== undefined && w.match(e)) {
          this.eventWaiters.splice(i, 1);
          w.res(e);
        }
      }
      return;
    }
    if (m.id === undefined) return;
    const w = this.waiting.get(m.id);
    if (w === undefined) return;
    this.waiting.delete(m.id);
    if (m.ok === true) w.res(m.result);
    else w.rej(new Error(`${this.label}: ${m.error ?? 'failed'}`));
  }

  /** Calls `op` in the child; rejects after `timeoutMs`. */
  call<T = Record<string, number>>(op: string, args: Record<string, unknown> = {}, timeoutMs = 120000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((res, rej) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        rej(new Error(`${this.label}: ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        res: (v) => { clearTimeout(t); res(v as T); },
        rej: (e) => { clearTimeout(t); rej(e); },
      });
      this.child.send({ id, op, args });
    });
  }

  /** Resolves with the first event (already received or future) matching `match`. */
  waitEvent(match: (e: ChildEvent) => boolean, timeoutMs: number, since = 0): Promise<ChildEvent> {
    const seen = this.events.find((e) => e.at >= since && match(e));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      const w = { match: (e: ChildEvent) => e.at >= since && match(e), res: (e: ChildEvent) => { clearTimeout(t); res(e); } };
      const t = setTimeout(() => {
        const i = this.eventWaiters.indexOf(w);
        if (i >= 0) this.eventWaiters.splice(i, 1);
        rej(new Error(`${this.label}: no matching event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.eventWaiters.push(w);
    });
  }

  /** Asks the child to exit, and kills it if it has not within 10 s. */
  async exit(): Promise<void> {
    if (!live.has(this)) return;
    await this.call('exit', {}, 10000).catch(() => {});
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    await this.exited;
    clearTimeout(t);
  }

  /** Kills the child at once. */
  kill(): void {
    if (live.has(this)) this.child.kill('SIGKILL');
  }
}

/** Kills every child still alive (used on exit and on failure). */
export function killAll(): void {
  for (const h of live) h.kill();
}

/** Wall-clock milliseconds, comparable with child events' `at`. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export { freePorts } from '../tools/free-ports.js';

/** `--key=value` and bare `--flag` arguments. */
export function parseArgs(argv: readonly string[]): Map<string, string> {
  return new Map(argv.map((a) => {
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k ?? '', v.length > 0 ? v.join('=') : 'true'] as const;
  }));
}

/** A new temporary directory under `base`. */
export function tempDir(base: string, tag: string): string {
  return fs.mkdtempSync(path.join(base, `sampan-bench-${tag}-`));
}

/** The default base for temporary directories. */
export const defaultBase = (): string => os.tmpdir();

/** Median of `xs` (the lower middle for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? 0;
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const sourceMaps = new Map<string, SourceMap | null>();

/** `file:line` of a compiled frame, mapped back to its TypeScript source when a map exists. */
function sourceOf(url: string, line0: number, col0: number): string {
  if (url === '') return '';
  if (!url.startsWith('file://')) return `${url}:${line0 + 1}`;
  const file = fileURLToPath(url);
  let sm = sourceMaps.get(file);
  if (sm === undefined) {
    try {
      sm = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      sm = null;
    }
    sourceMaps.set(file, sm);
  }
  const e = sm?.findEntry(line0, col0) as { originalSource?: string; originalLine?: number } | undefined;
  if (e?.originalSource !== undefined && e.originalLine !== undefined) {
    const src = e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : path.resolve(path.dirname(file), e.originalSource);
    return `${path.relative(process.cwd(), src)}:${e.originalLine + 1}`;
  }
  return `${path.relative(process.cwd(), file)}:${line0 + 1}`;
}

/** A profiled frame as `function  file:line` (mapped to the .ts source); CPU and heap profiles share the frame shape. */
export function frameName(cf: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number }): string {
  return `${cf.functionName || '(anonymous)'}  ${sourceOf(cf.url, cf.lineNumber, cf.columnNumber)}`;
}

/**
 * The functions with the most self time in a .cpuprofile, as printable lines:
 * `self ms  self %  function  file:line` (mapped to the .ts source through source maps).
 */
export function topSelfTime(file: string, top = 15): string[] {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n] as const));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i] as number);
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    if (n === undefined) continue;
    total += dt;
    const k = frameName(n.callFrame);
    self.set(k, (self.get(k) ?? 0) + dt);
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [`profile: ${((p.endTime - p.startTime) / 1000).toFixed(0)} ms wall, ${total.toFixed(0)} ms sampled`,
    ...rows.map(([k, ms]) => `${ms.toFixed(1).padStart(9)} ms ${((ms / Math.max(total, 1e-9)) * 100).toFixed(1).padStart(5)}%  ${k}`)];
}

/** The layer a profiled frame belongs to: `src/<dir>` of sampan, a node module family, or V8's own. */
function layerOf(functionName: string, source: string): string {
  if (source === '') return functionName.startsWith('(') ? functionName : '(native)';
  const m = /^(?:.*\/)?(src\/[^/]+|bench|tools)\//.exec(source);
  if (m !== null) return m[1] as string;
  if (/^node:(_http|internal\/http|http)/.test(source)) return 'node http';
  if (/^node:(net|internal\/(net|stream|streams)|stream|_stream)/.test(source)) return 'node net/stream';
  if (/^node:(internal\/)?(fs|internal\/fs)/.test(source)) return 'node fs';
  if (/^node:internal\/(process\/task_queues|timers|async_hooks)|^node:timers/.test(source)) return 'node timers/microtasks';
  if (source.startsWith('node:')) return 'node other';
  return 'other';
}

/**
 * Self time of a .cpuprofile grouped by layer (see {@link layerOf}), as printable lines with
 * each layer's share of the sampled time, and the share of the non-idle time.
 */
export function selfTimeByLayer(file: string): string[] {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n] as const));
  const layer = new Map<number, string>();
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] as number;
    const n = byId.get(id);
    if (n === undefined) continue;
    let l = layer.get(id);
    if (l === undefined) {
      const cf = n.callFrame;
      l = layerOf(cf.functionName, sourceOf(cf.url, cf.lineNumber, cf.columnNumber));
      layer.set(id, l);
    }
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    self.set(l, (self.get(l) ?? 0) + dt);
  }
  const busy = total - (self.get('(idle)') ?? 0);
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]);
  return [`by layer: ${total.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms busy (share of all, share of busy)`,
    ...rows.map(([k, ms]) => `${ms.toFixed(1).padStart(9)} ms ${((ms / Math.max(total, 1e-9)) * 100).toFixed(1).padStart(5)}% `
      + `${k === '(idle)' ? '     ' : `${((ms / Math.max(busy, 1e-9)) * 100).toFixed(1).padStart(5)}%`}  ${k}`)];
}
