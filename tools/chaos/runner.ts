/**
 * The chaos runner: a cluster of real `sampan kv` processes on loopback, concurrent clients
 * doing random put/get/delete/cas on a few keys, and a nemesis that SIGKILLs replicas (the
 * leader above all) and restarts them from their data dirs, freezes them with SIGSTOP and
 * wakes them with SIGCONT, requests snapshots during those faults, and restarts every replica
 * at once. Every invocation and completion is recorded (process.hrtime); at the end the
 * faults heal, every key is read from every replica, and the run is judged: the history is
 * linearizable per key, every replica holds the same state, no acknowledged write is lost,
 * no replica is stuck.
 *
 * The nemesis schedule is a pure function of the seed; which replica is the leader at a given
 * moment, and the clients' timing, are not.
 */
import { request } from 'node:http';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../../test/kv/support/cluster.js';
import { killAll, type Child } from '../../test/kv/support/procs.js';
import { checkHistory, lostWrites, type CheckResult, type KvOp, type OpKind, type OpStatus } from './linearizability.js';
import { Rng } from './rng.js';

/** The kinds of fault the nemesis injects. */
export const FAULT_KINDS = ['kill', 'kill-leader', 'pause', 'pause-leader', 'snapshot', 'restart-all'] as const;

/** One kind of fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Settings of one chaos run. */
export interface ChaosOptions {
  /** Seed of the nemesis schedule and of the clients' choices. */
  readonly seed: number;
  /** Seconds of load and faults. */
  readonly timeSec: number;
  /** Replicas (3 or 5). */
  readonly replicas?: number;
  /** Shards (keys map to shards by hash). */
  readonly shards?: number;
  /** Concurrent clients. */
  readonly clients?: number;
  /** Keys the clients use (few, so that conflicts are frequent). */
  readonly keys?: number;
  /** Faults to draw from (default: all). */
  readonly faults?: readonly FaultKind[];
  /** Keep the run directory: always, only on failure (default), or never. */
  readonly keep?: 'always' | 'failure' | 'never';
  /** Search steps allowed per key (default 20,000,000). */
  readonly stepBudget?: number;
  /** Treat 503 answers as unknown outcomes instead of certain failures (weaker, for triage). */
  readonly conservative?: boolean;
  /** `--rtt-ms` of the replicas (default 20). */
  readonly rttMs?: number;
  /** `--snapshot-entries` of the replicas (default 200, so that snapshots and compaction happen). */
  readonly snapshotEntries?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** One fault the nemesis applied. */
export interface FaultRecord {
  readonly kind: FaultKind;
  /** ms since the start of the run. */
  readonly at: number;
  readonly end: number;
  readonly target: number[];
  readonly detail: string;
}

/** What a chaos run found. */
export interface ChaosResult {
  readonly seed: number;
  /** Operations in the history (client operations and the final reads). */
  readonly ops: number;
  /** Operations by outcome. */
  readonly outcomes: Readonly<Record<OpStatus, number>>;
  readonly faults: readonly FaultRecord[];
  readonly check: CheckResult;
  /** Everything else that went wrong: divergence, lost writes, stuck or crashed replicas. */
  readonly problems: readonly string[];
  /** The kept run directory (history, nemesis log, replica logs), or null if removed. */
  readonly dir: string | null;
  /** `chaos: N ops, F faults, linearizable` (or `NOT linearizable`, `unknown`). */
  readonly summary: string;
  /** Whether the run passed: linearizable and no problems. */
  readonly passed: boolean;
}

/** An answer from a replica, or the failure to get one. */
interface Answer {
  readonly status: number;
  readonly text: string;
  /** Set when no HTTP answer came; `sent` tells whether the request may have been delivered. */
  readonly error?: { readonly code: string; readonly sent: boolean };
}

/**
 * One HTTP request on a fresh connection (no pooling: a refused connection then proves the
 * request was never delivered), bounded by `timeoutMs`.
 */
export function send(hostPort: string, method: string, path: string, body: string | undefined, timeoutMs: number): Promise<Answer> {
  const [host, port] = hostPort.split(':') as [string, string];
  return new Promise((resolve) => {
    let connected = false;
    let done = false;
    const finish = (a: Answer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const payload = body === undefined ? undefined : Buffer.from(body);
    const req = request({
      host, port: Number(port), method, path, agent: false,
      headers: payload === undefined ? {} : { 'content-length': payload.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => finish({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, text: '', error: { code: e.code ?? e.message, sent: true } }));
    });
    const timer = setTimeout(() => {
      finish({ status: 0, text: '', error: { code: 'CLIENT_TIMEOUT', sent: connected } });
      req.destroy();
    }, timeoutMs);
    req.on('socket', (s) => { s.once('connect', () => { connected = true; }); });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, text: '', error: { code: e.code ?? e.message, sent: connected } }));
    req.end(payload);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A step of the nemesis schedule, drawn from the seed before the run. */
export interface PlannedFault {
  /** ms after the start at which it begins (or as soon as the previous one ends). */
  readonly at: number;
  readonly kind: FaultKind;
  /** How long the fault lasts (ms): down time, frozen time. */
  readonly duration: number;
  /** Chooses a replica when the target is not the leader. */
  readonly pick: number;
  /** Whether to request snapshots while the fault lasts. */
  readonly snapshot: boolean;
  /** The shard whose leader is targeted, or snapshotted. */
  readonly shardPick: number;
}

/** The nemesis schedule of a run: a pure function of its settings. */
export function planFaults(seed: number, timeSec: number, kinds: readonly FaultKind[]): PlannedFault[] {
  const rng = new Rng(seed * 7919 + 17);
  const weights: Record<FaultKind, number> = { 'kill': 3, 'kill-leader': 4, 'pause': 2, 'pause-leader': 3, 'snapshot': 1, 'restart-all': 1 };
  const table = kinds.map((k) => [k, weights[k]] as const);
  const out: PlannedFault[] = [];
  let t = 1500 + rng.int(0, 1000);
  // Leave the last few seconds quiet so the end of the load is not all unknown outcomes.
  while (t < timeSec * 1000 - 3000 && table.length > 0 && out.length < 10_000) {
    const kind = rng.weighted(table);
    const duration = kind === 'snapshot' ? 0 : kind === 'restart-all' ? rng.int(200, 1500)
      : kind.startsWith('pause') ? rng.int(500, 7000) : rng.int(200, 4000);
    out.push({ at: t, kind, duration, pick: rng.u32(), snapshot: rng.next() < 0.5, shardPick: rng.u32() });
    t += duration + rng.int(800, 3500);
  }
  return out;
}

interface Status {
  readonly shards: Array<{ shardId: number; leaderId: number; term: number; commitIndex: number; appliedIndex: number; isLeader: boolean }>;
}

/** Runs one chaos run. Every child process is killed before it returns. */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const replicas = o.replicas ?? 3;
  const shards = o.shards ?? 1;
  const clientCount = o.clients ?? 6;
  const keyCount = o.keys ?? 5;
  const kinds = o.faults ?? FAULT_KINDS;
  const keep = o.keep ?? 'failure';
  const say = o.log ?? ((): void => {});
  const ids = Array.from({ length: replicas }, (_, i) => i + 1);
  const keys = Array.from({ length: keyCount }, (_, i) => `k${i}`);
  const cluster = new Cluster(['--shards', String(shards), '--rtt-ms', String(o.rttMs ?? 20),
    '--snapshot-entries', String(o.snapshotEntries ?? 200), '--compaction-overhead', '50']);
  const dir = cluster.root;
  const historyFile = join(dir, 'history.jsonl');
  const nemesisFile = join(dir, 'nemesis.jsonl');
  const t0 = process.hrtime.bigint();
  const now = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
  const ops: KvOp[] = [];
  const faults: FaultRecord[] = [];
  const problems: string[] = [];
  const incarnations = new Map<number, Child[]>(ids.map((id) => [id, []]));
  const killedByUs = new Set<Child>();
  const paused = new Set<number>();
  let check: CheckResult = { verdict: 'unknown', keys: [], steps: 0 };
  let passed = false;
  let opId = 0;

  const note = (event: Record<string, unknown>): void => {
    appendFileSync(nemesisFile, `${JSON.stringify({ t: Math.round(now()), ...event })}\n`);
  };
  const start = (id: number, flags: readonly string[] = []): void => {
    const c = cluster.start(id, flags);
    (incarnations.get(id) as Child[]).push(c);
    void c.exited.then((code) => {
      if (!killedByUs.has(c)) {
        problems.push(`replica ${id} exited on its own (${String(code)}): ${c.err.trim().split('\n').slice(-3).join(' | ')}`);
        note({ event: 'exited', replica: id, code });
      }
    });
  };
  const kill = async (id: number): Promise<void> => {
    const c = cluster.node(id).child;
    if (c === null) return;
    killedByUs.add(c);
    if (paused.has(id)) c.proc.kill('SIGCONT');
    paused.delete(id);
    await cluster.stop(id, 'SIGKILL');
  };
  const alive = (id: number): boolean => cluster.node(id).child !== null && !paused.has(id);
  const status = async (id: number, timeoutMs = 1000): Promise<Status | undefined> => {
    const a = await send(cluster.node(id).httpAddr, 'GET', '/status', undefined, timeoutMs);
    if (a.status !== 200) return undefined;
    return JSON.parse(a.text) as Status;
  };
  /** The leader of `shard` as the live replicas see it (the highest term wins), or 0. */
  const leaderOf = async (shard: number): Promise<number> => {
    for (let attempt = 0; attempt < 15; attempt++) {
      let best = { term: -1, leader: 0 };
      for (const id of ids.filter(alive)) {
        const s = (await status(id))?.shards.find((x) => x.shardId === shard);
        if (s !== undefined && s.leaderId > 0 && s.term > best.term) best = { term: s.term, leader: s.leaderId };
      }
      if (best.leader > 0) return best.leader;
      await sleep(200);
    }
    return 0;
  };
  const snapshotAll = async (why: string): Promise<void> => {
    for (let shard = 1; shard <= shards; shard++) {
      const live = ids.filter(alive);
      if (live.length === 0) return;
      const id = live[shard % live.length] as number;
      const a = await send(cluster.node(id).httpAddr, 'POST', `/admin/snapshot?shard=${shard}&compactionOverhead=5`, undefined, 15000);
      note({ event: 'snapshot', why, replica: id, shard, status: a.status, answer: a.text.slice(0, 200), error: a.error?.code });
    }
  };

  try {
    mkdirSync(dir, { recursive: true });
    say(`chaos: seed ${o.seed}, ${replicas} replicas, ${shards} shard(s), ${clientCount} clients, ${keyCount} keys, ${o.timeSec} s, dir ${dir}`);
    await cluster.allocate(ids);
    for (const id of ids) start(id, ['--initial-members', cluster.members(ids)]);
    for (const id of ids) await cluster.ready(id, 60_000);
    note({ event: 'ready' });

    // ---- Clients ----
    const stopAt = now() + o.timeSec * 1000;
    const clientTimeoutMs = 8000;
    const classify = (a: Answer): OpStatus => {
      if (a.error !== undefined) return a.error.sent ? 'info' : 'fail';
      if (a.status === 429 || a.status === 409 || a.status === 400 || a.status === 413) return 'fail';
      if (a.status === 503 && o.conservative !== true) return 'fail';
      return 'info';
    };
    const runOp = async (client: number, node: number, f: OpKind, key: string, value?: string, expected?: string | null): Promise<KvOp> => {
      const id = ++opId;
      const addr = cluster.node(node).httpAddr;
      const path = f === 'cas' ? `/cas/${key}` : `/kv/${key}`;
      const method = f === 'put' ? 'PUT' : f === 'get' ? 'GET' : f === 'delete' ? 'DELETE' : 'POST';
      const body = f === 'put' ? value : f === 'cas' ? JSON.stringify({ expected, value }) : undefined;
      const call = now();
      const a = await send(addr, method, path, body, clientTimeoutMs);
      const ret = now();
      const base = { id, client, node, key, f, call, ...(value === undefined ? {} : { value }), ...(f === 'cas' ? { expected } : {}) };
      let rec: KvOp & { node: number; http?: number; error?: string };
      if (a.error === undefined && a.status === 200) {
        if (f === 'get') rec = { ...base, ret, status: 'ok', read: a.text };
        else if (f === 'cas') {
          const r = JSON.parse(a.text) as { ok: boolean; current?: string | null };
          rec = { ...base, ret, status: 'ok', ok: r.ok, ...(r.ok ? {} : { current: r.current ?? null }) };
        } else rec = { ...base, ret, status: 'ok' };
      } else if (f === 'get' && a.status === 404 && a.text.includes('KEY_NOT_FOUND')) {
        rec = { ...base, ret, status: 'ok', read: null };
      } else {
        const st = classify(a);
        rec = { ...base, ...(st === 'fail' ? { ret } : {}), status: st, http: a.status, error: a.error?.code ?? a.text.slice(0, 160) };
      }
      ops.push(rec);
      appendFileSync(historyFile, `${JSON.stringify(rec)}\n`);
      return rec;
    };
    const client = async (c: number): Promise<void> => {
      const rng = new Rng(o.seed * 1000 + c);
      const lastSeen = new Map<string, string | null>();
      let seq = 0;
      while (now() < stopAt) {
        const key = rng.pick(keys);
        const node = rng.pick(ids);
        const f = rng.weighted<OpKind>([['get', 4], ['put', 3], ['cas', 3], ['delete', 1]]);
        const value = `c${c}-${++seq}`;
        const r = f === 'get' ? await runOp(c, node, 'get', key)
          : f === 'delete' ? await runOp(c, node, 'delete', key)
            : f === 'put' ? await runOp(c, node, 'put', key, value)
              : await runOp(c, node, 'cas', key, value, rng.next() < 0.15 ? null : (lastSeen.get(key) ?? null));
        if (r.status === 'ok') {
          if (f === 'get') lastSeen.set(key, r.read ?? null);
          else if (f === 'put' || (f === 'cas' && r.ok === true)) lastSeen.set(key, value);
          else if (f === 'delete') lastSeen.set(key, null);
          else lastSeen.set(key, r.current ?? null);
        } else await sleep(r.status === 'fail' ? 200 : 10);
      }
    };
    const clients = Array.from({ length: clientCount }, (_, c) => client(c + 1));

    // ---- Nemesis ----
    const plan = planFaults(o.seed, o.timeSec, kinds);
    const nemesis = async (): Promise<void> => {
      for (const p of plan) {
        if (now() >= stopAt - 2500) break;
        const wait = p.at - now();
        if (wait > 0) await sleep(Math.min(wait, stopAt - now()));
        if (now() >= stopAt - 2500) break;
        const at = now();
        const shard = 1 + (p.shardPick % shards);
        let target: number[] = [];
        let detail = '';
        if (p.kind === 'snapshot') {
          await snapshotAll('scheduled');
          detail = 'snapshot of every shard';
        } else if (p.kind === 'restart-all') {
          target = [...ids];
          for (const id of ids) await kill(id);
          note({ event: 'killed-all' });
          await sleep(p.duration);
          for (const id of ids) start(id);
          detail = `all down ${p.duration} ms`;
        } else {
          const leader = p.kind.endsWith('leader') ? await leaderOf(shard) : 0;
          const live = ids.filter(alive);
          const victim = leader > 0 && alive(leader) ? leader : (live[p.pick % Math.max(1, live.length)] ?? 0);
          if (victim === 0) continue;
          target = [victim];
          const child = cluster.node(victim).child as Child;
          if (p.kind.startsWith('kill')) {
            await kill(victim);
            note({ event: 'killed', replica: victim, leaderOfShard: leader > 0 ? shard : undefined });
          } else {
            paused.add(victim);
            child.proc.kill('SIGSTOP');
            note({ event: 'paused', replica: victim, leaderOfShard: leader > 0 ? shard : undefined });
          }
          const half = Math.floor(p.duration / 2);
          await sleep(half);
          if (p.snapshot) await snapshotAll(`during ${p.kind} of ${victim}`);
          await sleep(Math.max(0, p.duration - (now() - at)));
          if (p.kind.startsWith('kill')) start(victim);
          else {
            paused.delete(victim);
            child.proc.kill('SIGCONT');
          }
          note({ event: p.kind.startsWith('kill') ? 'restarted' : 'resumed', replica: victim });
          detail = `${p.kind.startsWith('kill') ? 'down' : 'frozen'} ${p.duration} ms${p.snapshot ? ', snapshots meanwhile' : ''}${leader > 0 ? ` (leader of shard ${shard})` : ''}`;
        }
        faults.push({ kind: p.kind, at: Math.round(at), end: Math.round(now()), target, detail });
        say(`  fault ${faults.length}: ${p.kind} ${target.join(',')} ${detail}`);
      }
    };
    await Promise.all([nemesis(), ...clients]);

    // ---- Heal and recover ----
    for (const id of ids) {
      const c = cluster.node(id).child;
      if (paused.has(id) && c !== null) c.proc.kill('SIGCONT');
      paused.delete(id);
      if (c === null) start(id);
    }
    note({ event: 'healed' });
    say(`  load over: ${ops.length} ops; healing and waiting for recovery`);
    for (const id of ids) {
      try {
        await cluster.ready(id, 60_000);
      } catch {
        problems.push(`replica ${id} stuck: no leader known for every shard 60 s after healing`);
      }
    }

    // ---- Final reads: every key from every replica, linearizable ----
    const finals = new Map<string, string | null>();
    const finalRead = async (id: number, key: string): Promise<KvOp | undefined> => {
      let r: KvOp | undefined;
      for (let attempt = 0; attempt < 10; attempt++) {
        r = await runOp(0, id, 'get', key);
        if (r.status === 'ok') break;
        await sleep(500);
      }
      return r;
    };
    for (const key of keys) {
      for (const id of ids) {
        const r = await finalRead(id, key);
        if (r === undefined || r.status !== 'ok') {
          problems.push(`replica ${id} stuck: linearizable read of ${key} failed 10 times (${JSON.stringify(r)})`);
          continue;
        }
        const v = r.read ?? null;
        if (!finals.has(key)) finals.set(key, v);
        else if (finals.get(key) !== v) problems.push(`final read of ${key}: replica ${id} read ${JSON.stringify(v)}, another ${JSON.stringify(finals.get(key))}`);
      }
    }

    // ---- Convergence: equal applied indexes, then equal local state ----
    const deadline = Date.now() + 30_000;
    let statuses: Array<Status | undefined> = [];
    for (;;) {
      statuses = await Promise.all(ids.map((id) => status(id, 2000)));
      const converged = statuses.every((s) => s !== undefined) && Array.from({ length: shards }, (_, i) => i + 1).every((shard) => {
        const xs = statuses.map((s) => s?.shards.find((x) => x.shardId === shard));
        const a0 = xs[0]?.appliedIndex;
        return xs.every((x) => x !== undefined && x.appliedIndex === a0 && x.commitIndex === a0);
      });
      if (converged) break;
      if (Date.now() > deadline) {
        problems.push(`replicas did not converge within 30 s: ${JSON.stringify(statuses.map((s) => s?.shards.map((x) => [x.shardId, x.commitIndex, x.appliedIndex])))}`);
        break;
      }
      await sleep(200);
    }
    for (const key of keys) {
      const seen: string[] = [];
      for (const id of ids) {
        const a = await send(cluster.node(id).httpAddr, 'GET', `/kv/${key}?stale=true`, undefined, 5000);
        const v = a.status === 200 ? a.text : a.status === 404 ? null : undefined;
        seen.push(`${id}=${JSON.stringify(v)}`);
        if (v === undefined || (finals.has(key) && v !== finals.get(key))) {
          problems.push(`replica ${id} diverges on ${key}: local state ${JSON.stringify(v)}, linearizable read ${JSON.stringify(finals.get(key))}`);
        }
      }
      note({ event: 'final', key, linearizable: finals.get(key), stale: seen.join(' ') });
    }

    // The replicas' metrics (of their last incarnation), kept with the logs.
    for (const id of ids) {
      const a = await send(cluster.node(id).httpAddr, 'GET', '/metrics', undefined, 5000);
      writeFileSync(join(dir, `metrics-r${id}.txt`), a.status === 200 ? a.text : `unavailable: ${a.status} ${a.error?.code ?? a.text}`);
    }

    // ---- Judgement ----
    problems.push(...lostWrites(ops, finals).map((l) => `lost write: ${l}`));
    say(`  checking ${ops.length} ops`);
    check = checkHistory(ops, { stepBudget: o.stepBudget ?? 20_000_000 });
    for (const k of check.keys) {
      if (k.verdict === 'not-linearizable') {
        const byId = new Map(ops.map((x) => [x.id, x]));
        const tail = (k.longest ?? []).slice(-6).map((i) => JSON.stringify(byId.get(i)));
        problems.push(`key ${k.key} is NOT linearizable: stuck at op ${JSON.stringify((k.stuckAt ?? []).map((i) => byId.get(i)))} ` +
          `after ${k.longest?.length ?? 0} ops leaving state ${JSON.stringify(k.stateAtStuck)}; last linearized: ${tail.join(' ')}`);
      }
      if (k.verdict === 'unknown') problems.push(`key ${k.key}: the search gave up after ${k.steps} steps (${k.ops} ops)`);
    }
    passed = check.verdict === 'linearizable' && problems.length === 0;
  } catch (e) {
    problems.push(`runner error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  } finally {
    for (const id of paused) cluster.node(id).child?.proc.kill('SIGCONT');
    for (const list of incarnations.values()) for (const c of list) killedByUs.add(c);
    await killAll();
    for (const [id, list] of incarnations) {
      const text = list.map((c, i) => `==== replica ${id}, incarnation ${i + 1} (exit ${String(c.proc.exitCode ?? c.proc.signalCode)})\n` +
        `---- stdout\n${c.out}\n---- stderr\n${c.err}\n`).join('');
      try {
        writeFileSync(join(dir, `r${id}.log`), text);
      } catch {
        // the directory may be gone already
      }
    }
  }
  const outcomes: Record<OpStatus, number> = { ok: 0, fail: 0, info: 0 };
  for (const x of ops) outcomes[x.status]++;
  const verdictText = check.verdict === 'linearizable' ? 'linearizable' : check.verdict === 'unknown' ? 'unknown' : 'NOT linearizable';
  const summary = `chaos: ${ops.length} ops, ${faults.length} faults, ${verdictText}`;
  const keepAll = keep === 'always' || (keep === 'failure' && !passed);
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ seed: o.seed, summary, passed, outcomes, problems, faults, check: check.keys.map((k) => ({ key: k.key, verdict: k.verdict, ops: k.ops, steps: k.steps })) }, null, 1));
  if (!keepAll) rmSync(dir, { recursive: true, force: true });
  else for (const id of ids) if (passed) rmSync(cluster.node(id).dataDir, { recursive: true, force: true });
  return { seed: o.seed, ops: ops.length, outcomes, faults, check, problems, dir: keepAll ? dir : null, summary, passed };
}
