/**
 * Test support: free loopback ports, `sampan kv` / `sampan demo` child processes, and small
 * HTTP helpers. Every child is tracked so a test's `finally` can kill them all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The command under test (the built CLI). */
export const BIN = fileURLToPath(new URL('../../../../bin/sampan.js', import.meta.url));

export { freePorts } from '../../../tools/free-ports.js';

/** A child process of the command, with its output collected. */
export interface Child {
  readonly proc: ChildProcess;
  out: string;
  err: string;
  /** Resolves with the exit code (or the signal name) once it exits. */
  readonly exited: Promise<number | string>;
}

const children = new Set<Child>();

/** Starts `node bin/sampan.js ...args`. */
export function run(args: readonly string[]): Child {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const c: Child = {
    proc, out: '', err: '',
    exited: new Promise((res) => proc.once('exit', (code, sig) => res(code ?? sig ?? -1))),
  };
  proc.stdout?.on('data', (d: Buffer) => { c.out += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { c.err += d.toString(); });
  children.add(c);
  void c.exited.then(() => children.delete(c));
  return c;
}

/** SIGKILLs every child still running (call in `finally`). */
export async function killAll(): Promise<void> {
  const all = [...children];
  for (const c of all) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) {
      c.proc.kill('SIGCONT');
      c.proc.kill('SIGKILL');
    }
  }
  await Promise.all(all.map((c) => c.exited));
}

/** Polls `fn` until it returns a value other than undefined; fails after `ms`. */
export async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
}

/** An HTTP answer. */
export interface Res {
  readonly status: number;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

/** Sends one request with a bounded wait. */
export async function http(method: string, url: string, body?: string | Uint8Array, timeoutMs = 15000): Promise<Res> {
  const r = await fetch(url, { method, body, signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  return { status: r.status, text, json: <T>() => JSON.parse(text) as T };
}

/** The error code of an error answer. */
export function codeOf(r: Res): string {
  return r.json<{ error: { code: string } }>().error.code;
}

/** Whether every port of `ports` can be bound on 127.0.0.1 right now. */
export async function canBind(ports: readonly number[]): Promise<boolean> {
  const bound: Server[] = [];
  try {
    for (const p of ports) {
      bound.push(await new Promise<Server>((res, rej) => {
        const s = createServer();
        s.once('error', rej);
        s.listen(p, '127.0.0.1', () => res(s));
      }));
    }
    return true;
  } catch {
    return false;
  } finally {
    await Promise.all(bound.map((s) => new Promise((r) => s.close(r))));
  }
}
