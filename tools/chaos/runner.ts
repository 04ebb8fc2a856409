/**
 * The chaos runner: a cluster of real `sampan kv` processes on loopback, each behind a
 * fault-injecting proxy (cluster.ts, proxy.ts), concurrent clients doing random
 * put/get/delete/cas on a few keys (clients.ts), and a nemesis (nemesis.ts) that kills,
 * freezes, partitions, replaces and damages replicas, transfers leadership and requests
 * snapshots during those faults (plan.ts lists the kinds). Every invocation and completion is
 * recorded; at the end the faults heal and the run is judged (judge.ts): the history is
 * linearizable per key, every member holds the same state, no acknowledged write is lost, no
 * replica is stuck or exited on its own.
 *
 * The nemesis schedule is a pure function of the seed; which replica is the leader at a given
 * moment, and the clients' timing, are not.
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChaosCluster } from './cluster.js';
import { History, runClient } from './clients.js';
import { judge } from './judge.js';
import type { CheckResult, KvOp, OpStatus } from './linearizability.js';
import type { NemesisContext } from './nemesis-context.js';
import { runNemesis, type FaultRecord } from './nemesis.js';
import { FAULT_KINDS, planFaults, type FaultKind } from './plan.js';

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
  /** The replicas' state machine: in memory (default) or SQLite (`disk`). */
  readonly stateMachine?: 'memory' | 'disk';
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
  /** `--read-mode` of the replicas: linearizable reads by ReadIndex (default) or by lease. */
  readonly readMode?: 'read-index' | 'lease';
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

export type { FaultRecord } from './nemesis.js';

/** What a chaos run found. */
export interface ChaosResult {
  readonly seed: number;
  /** Operations in the history (client operations and the final reads). */
  readonly ops: number;
  /** Operations by outcome. */
  readonly outcomes: Readonly<Record<OpStatus, number>>;
  readonly faults: readonly FaultRecord[];
  readonly check: CheckResult;
  /** Everything else that went wrong: divergence, lost writes, stuck or crashed replicas, failed repairs. */
  readonly problems: readonly string[];
  /** The member set at the end (replicas replaced by the nemesis are gone from it). */
  readonly members: readonly number[];
  /**
   * The longest time (ms) between two acknowledged writes of the clients, and when it began:
   * a liveness signal, not a verdict (a fault legitimately stops writes for its duration and
   * the 5 s request timeout of the requests caught in it).
   */
  readonly longestWriteGap: { readonly ms: number; readonly from: number };
  /** The kept run directory (history, nemesis log, replica logs), or null if removed. */
  readonly dir: string | null;
  /** `chaos: N ops, F faults, linearizable` (or `NOT linearizable`, `unknown`). */
  readonly summary: string;
  /** Whether the run passed: linearizable and no problems. */
  readonly passed: boolean;
}

/** Runs one chaos run. Every child process is killed and every proxy closed before it returns. */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const replicas = o.replicas ?? 3;
  const shards = o.shards ?? 1;
  const stateMachine = o.stateMachine ?? 'memory';
  const clientCount = o.clients ?? 6;
  const keys = Array.from({ length: o.keys ?? 5 }, (_, i) => `k${i}`);
  const keep = o.keep ?? 'failure';
  const say = o.log ?? ((): void => {});
  const problems: string[] = [];
  const t0 = process.hrtime.bigint();
  const now = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
  const cluster = new ChaosCluster({
    shards, rttMs: o.rttMs ?? 20, snapshotEntries: o.snapshotEntries ?? 200, stateMachine, readMode: o.readMode,
    onUnexpectedExit: (id, code, err) => {
      problems.push(`replica ${id} exited on its own (${String(code)}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
      note({ event: 'exited', replica: id, code });
    },
    onPortRetry: (id, error) => note({ event: 'port-retry', replica: id, error }),
  });
  const dir = cluster.root;
  const nemesisFile = join(dir, 'nemesis.jsonl');
  const note = (event: Record<string, unknown>): void => {
    appendFileSync(nemesisFile, `${JSON.stringify({ t: Math.round(now()), ...event })}\n`);
  };
  const history = new History(join(dir, 'history.jsonl'), now, o.conservative === true);
  let faults: FaultRecord[] = [];
  let check: CheckResult = { verdict: 'unknown', keys: [], steps: 0 };
  let passed = false;

  try {
    mkdirSync(dir, { recursive: true });
    say(`chaos: seed ${o.seed}, ${replicas} replicas, ${shards} shard(s), ${stateMachine} state machine, ${clientCount} clients, ${keys.length} keys, ${o.timeSec} s, dir ${dir}`);
    const ids: number[] = [];
    for (let i = 0; i < replicas; i++) ids.push(await cluster.create());
    for (const id of ids) cluster.addMember(id);
    for (const id of ids) cluster.start(id, ['--initial-members', cluster.membersFlag(ids)]);
    for (const id of ids) {
      if (!(await cluster.ready(id, 60_000))) throw new Error(`replica ${id} was not ready 60 s after the start`);
    }
    note({ event: 'ready' });

    const stopAt = now() + o.timeSec * 1000;
    const clients = Array.from({ length: clientCount }, (_, c) => runClient(history, cluster, c + 1, o.seed, keys, stopAt));
    const ctx: NemesisContext = { cluster, shards, note, problem: (text) => { problems.push(text); note({ event: 'problem', text }); } };
    const nemesis = runNemesis(ctx, planFaults(o.seed, o.timeSec, o.faults ?? FAULT_KINDS), now, stopAt, say);
    [faults] = await Promise.all([nemesis, ...clients]);

    // ---- Heal and recover ----
    cluster.net.heal();
    for (const id of cluster.members) {
      cluster.resume(id);
      if (cluster.node(id).child === null) cluster.start(id);
    }
    note({ event: 'healed' });
    say(`  load over: ${history.ops.length} ops; healing and waiting for recovery`);
    for (const id of cluster.members) {
      if (!(await cluster.ready(id, 60_000))) problems.push(`replica ${id} stuck: no leader known for every shard 60 s after healing`);
    }
    say(`  checking ${history.ops.length} ops`);
    const verdict = await judge({ cluster, history, keys, shards, stepBudget: o.stepBudget ?? 20_000_000, dir, note });
    check = verdict.check;
    problems.push(...verdict.problems);
    passed = check.verdict === 'linearizable' && problems.length === 0;
  } catch (e) {
    problems.push(`runner error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  } finally {
    note({ event: 'proxies', stats: cluster.net.stats() });
    await cluster.shutdown();
    for (const n of cluster.all) {
      const text = n.incarnations.map((c, i) => `==== replica ${n.id}, incarnation ${i + 1} (exit ${String(c.proc.exitCode ?? c.proc.signalCode)})\n` +
        `---- stdout\n${c.out}\n---- stderr\n${c.err}\n`).join('');
      try {
        writeFileSync(join(dir, `r${n.id}.log`), text);
      } catch {
        // the directory may be gone already
      }
    }
  }
  const outcomes: Record<OpStatus, number> = { ok: 0, fail: 0, info: 0 };
  for (const x of history.ops) outcomes[x.status]++;
  const verdictText = check.verdict === 'linearizable' ? 'linearizable' : check.verdict === 'unknown' ? 'unknown' : 'NOT linearizable';
  const summary = `chaos: ${history.ops.length} ops, ${faults.length} faults, ${verdictText}`;
  const keepAll = keep === 'always' || (keep === 'failure' && !passed);
  const members = [...cluster.members];
  const longestWriteGap = writeGap(history.ops);
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({
    seed: o.seed, summary, passed, outcomes, problems, members, longestWriteGap, faults,
    check: check.keys.map((k) => ({ key: k.key, verdict: k.verdict, ops: k.ops, steps: k.steps })),
  }, null, 1));
  if (!keepAll) rmSync(dir, { recursive: true, force: true });
  else if (passed) for (const n of cluster.all) rmSync(n.dataDir, { recursive: true, force: true });
  return { seed: o.seed, ops: history.ops.length, outcomes, faults, check, problems, members, longestWriteGap, dir: keepAll ? dir : null, summary, passed };
}

/** The longest gap between the completions of two acknowledged client writes. */
export function writeGap(ops: readonly KvOp[]): { ms: number; from: number } {
  const done = ops.filter((x) => x.status === 'ok' && x.f !== 'get' && x.client > 0 && x.ret !== undefined)
    .map((x) => x.ret as number).sort((a, b) => a - b);
  let best = { ms: 0, from: 0 };
  for (let i = 1; i < done.length; i++) {
    const gap = (done[i] as number) - (done[i - 1] as number);
    if (gap > best.ms) best = { ms: Math.round(gap), from: Math.round(done[i - 1] as number) };
  }
  return best;
}
