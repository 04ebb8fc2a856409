/**
 * One failover round against real processes (issue #14 §3): three `sampan kv` replicas on
 * loopback; writers PUT continuously through the followers; right after one write is handed
 * to a follower's socket the leader is SIGKILLed; the round records the latency and outcome of
 * that write and of every write in flight at the kill or started after it, for a while.
 * Used by `bench/failover.ts` (`npm run measure:failover`) and by `test/kv/kv-failover.test.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './free-ports.js';

const BIN = fileURLToPath(new URL('../../bin/sampan.js', import.meta.url));

/** Options of one round. */
export interface FailoverRoundOptions {
  /** `--rtt-ms` of every replica (default 100: sampan's default; election timeout 10 ticks). */
  readonly rttMs?: number;
  /** Concurrent sequential writers, spread over the two followers (default 4). */
  readonly writers?: number;
  /** How long the writers go on after the kill, in ms (default 4000). */
  readonly afterMs?: number;
  /** Delay between handing the chosen write to the socket and the SIGKILL, in ms (default 1). */
  readonly killDelayMs?: number;
  /** Per-request client timeout, in ms (default 10,000: longer than the service's 5 s). */
  readonly requestTimeoutMs?: number;
}

/** One write measured around the kill. */
export interface WriteSample {
  /** Start relative to the kill, in ms (negative: in flight when the leader was killed). */
  readonly startMs: number;
  readonly latencyMs: number;
  /** HTTP status, or 0 for a client-side failure (timeout, connection error). */
  readonly status: number;
  /** The error code of an error answer, when there was one. */
  readonly code?: string;
  /** The write handed over right before the kill. */
  readonly killed: boolean;
}

/** What a round measured. */
export interface FailoverRound {
  /** The replica id of the killed leader and of the next one. */
  readonly oldLeader: number;
  readonly newLeader: number;
  /** When a new leader was first seen by the prober, in ms after the kill (polling, ±50 ms). */
  readonly newLeaderMs: number;
  /** The write in flight at the kill, then every write in flight at or started after it. */
  readonly samples: readonly WriteSample[];
  /** What the survivors reported after the kill (polled every 20 ms): `+ms id:role/term/leader`. */
  readonly timeline: readonly string[];
}

interface Proc {
  readonly id: number;
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stderr: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A PUT through `agent`; resolves with the status and body (status 0 on a client error). */
function put(agent: Agent, url: string, body: string, timeoutMs: number, sent?: () => void): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'PUT', agent, timeout: timeoutMs, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', () => resolve({ status: 0, body: 'response error' }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.end(body, () => sent?.());
  });
}

async function getJson(url: string): Promise<unknown> {
  const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
  return await r.json();
}

/** Shard 1 as replica `p` sees it (null: unreachable). */
async function shardSeenBy(p: Proc): Promise<{ leaderId: number; role: string; term: number } | null> {
  try {
    const s = await getJson(`${p.url}/status`) as { shards: Array<{ shardId: number; leaderId: number; role: string; term: number }> };
    return s.shards.find((x) => x.shardId === 1) ?? null;
  } catch {
    return null;
  }
}

/** The leader of shard 1 as replica `p` sees it (0: none or unreachable). */
async function leaderSeenBy(p: Proc): Promise<number> {
  return (await shardSeenBy(p))?.leaderId ?? 0;
}

function codeOf(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/**
 * Runs one round: starts the replicas, waits for a leader all agree on, warms up, runs the
 * writers, kills the leader right after a write is handed to a follower, keeps writing for
 * `afterMs`, and stops everything (the data directory is removed).
 * @throws Error when the cluster does not come up or elect a leader in time.
 */
export async function runFailoverRound(o: FailoverRoundOptions = {}): Promise<FailoverRound> {
  const rttMs = o.rttMs ?? 100;
  const writers = o.writers ?? 4;
  const afterMs = o.afterMs ?? 4000;
  const timeoutMs = o.requestTimeoutMs ?? 10_000;
  const root = mkdtempSync(join(tmpdir(), 'sampan-failover-'));
  const ports = await freePorts(6);
  const ids = [1, 2, 3];
  const members = ids.map((id, i) => `${id}=127.0.0.1:${ports[2 * i] as number}`).join(',');
  const procs = new Map<number, Proc>();
  const agent = new Agent({ keepAlive: true, maxSockets: writers + 2 });
  try {
    for (const [i, id] of ids.entries()) {
      const child = spawn(process.execPath, [BIN, 'kv', '--replica-id', String(id),
        '--raft-address', `127.0.0.1:${ports[2 * i] as number}`, '--http-address', `127.0.0.1:${ports[2 * i + 1] as number}`,
        '--data-dir', join(root, `r${id}`), '--rtt-ms', String(rttMs), '--initial-members', members], { stdio: ['ignore', 'ignore', 'pipe'] });
      const p: Proc = {
        id, url: `http://127.0.0.1:${ports[2 * i + 1] as number}`, child, stderr: '',
        exited: new Promise((res) => child.once('exit', () => res())),
      };
      child.stderr?.on('data', (d: Buffer) => { p.stderr = (p.stderr + d.toString()).slice(-4000); });
      procs.set(id, p);
    }
    const all = [...procs.values()];
    let leader = 0;
    const upBy = Date.now() + 30_000;
    for (;;) {
      const seen = await Promise.all(all.map(leaderSeenBy));
      if (seen[0] !== 0 && seen.every((x) => x === seen[0])) {
        leader = seen[0] as number;
        break;
      }
      if (Date.now() > upBy) throw new Error(`no leader agreed on within 30 s: ${all.map((p) => p.stderr).join('\n')}`);
      await sleep(50);
    }
    const followers = all.filter((p) => p.id !== leader);
    // Warm-up: connections open, JIT warm, every replica has applied something of this term.
    for (let k = 0; k < 20; k++) {
      const f = followers[k % followers.length] as Proc;
      const r = await put(agent, `${f.url}/kv/warm-${k}`, 'w', timeoutMs);
      if (r.status !== 200) throw new Error(`warm-up write failed: ${r.status} ${r.body}`);
    }

    const samples: WriteSample[] = [];
    let killAt = 0;
    let stopAt = Number.POSITIVE_INFINITY;
    let seq = 0;
    let killSent: (() => void) | null = null;
    const killed = new Promise<void>((res) => { killSent = res; });
    const loop = async (w: number): Promise<void> => {
      const via = followers[w % followers.length] as Proc;
      while (performance.now() < stopAt) {
        const isKillWrite = w === 0 && killAt === 0 && seq >= writers * 5;
        const n = seq++;
        const start = performance.now();
        const r = await put(agent, `${via.url}/kv/f-${w}-${n}`, `v${n}`, timeoutMs, isKillWrite ? () => {
          setTimeout(() => {
            killAt = performance.now();
            procs.get(leader)?.child.kill('SIGKILL');
            stopAt = killAt + afterMs;
            killSent?.();
          }, o.killDelayMs ?? 1);
        } : undefined);
        const end = performance.now();
        if (killAt !== 0 && (end >= killAt || isKillWrite)) {
          samples.push({
            startMs: start - killAt, latencyMs: end - start, status: r.status, killed: isKillWrite,
            ...(r.status === 200 ? {} : { code: codeOf(r.body) ?? r.body.slice(0, 80) }),
          });
        }
      }
    };
    const loops = Array.from({ length: writers }, (_, w) => loop(w));
    await killed;
    let newLeader = 0;
    let newLeaderMs = -1;
    const timeline: string[] = [];
    const last = new Map<number, string>();
    while (performance.now() < stopAt && newLeader === 0) {
      const seen = await Promise.all(followers.map(shardSeenBy));
      const at = performance.now() - killAt;
      followers.forEach((f, i) => {
        const s = seen[i];
        const d = s === null || s === undefined ? 'unreachable' : `${s.role}/${s.term}/${s.leaderId}`;
        if (last.get(f.id) !== d) timeline.push(`+${Math.round(at)}ms ${f.id}:${d}`);
        last.set(f.id, d);
      });
      const l = seen.find((x) => x !== null && x !== undefined && x.leaderId !== 0 && x.leaderId !== leader);
      if (l !== undefined && l !== null) {
        newLeader = l.leaderId;
        newLeaderMs = at;
      } else {
        await sleep(20);
      }
    }
    await Promise.all(loops);
    samples.sort((a, b) => a.startMs - b.startMs);
    return { oldLeader: leader, newLeader, newLeaderMs, samples, timeline };
  } finally {
    agent.destroy();
    for (const p of procs.values()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all([...procs.values()].map((p) => p.exited));
    rmSync(root, { recursive: true, force: true });
  }
}

/** The p-th percentile (0..100) of `xs` (nearest rank); NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}
