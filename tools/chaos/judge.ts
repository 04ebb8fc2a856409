/**
 * The end of a chaos run, once every fault is healed: every key is read from every current
 * member (linearizable reads, which join the history); the members must agree on the member
 * set, converge (equal applied = commit indexes per shard) and hold the same local state
 * (`?stale=true` reads equal the linearizable ones) and the same state hash at one index
 * (`state-hash-judge.ts`); no acknowledged write may be lost; and the history must be
 * linearizable per key.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChaosCluster, Status } from './cluster.js';
import type { History } from './clients.js';
import { send, sleep } from './http-client.js';
import { checkHistory, lostWrites, type CheckResult, type KvOp } from './linearizability.js';
import { sameStateHash } from './state-hash-judge.js';

/** What the judge needs. */
export interface JudgeInput {
  readonly cluster: ChaosCluster;
  readonly history: History;
  readonly keys: readonly string[];
  readonly shards: number;
  readonly stepBudget: number;
  readonly dir: string;
  note(event: Record<string, unknown>): void;
}

async function finalReads(j: JudgeInput, problems: string[]): Promise<Map<string, string | null>> {
  const finals = new Map<string, string | null>();
  for (const key of j.keys) {
    for (const id of j.cluster.members) {
      let r: KvOp | undefined;
      for (let attempt = 0; attempt < 10; attempt++) {
        r = await j.history.run(0, id, j.cluster.node(id).httpAddr, 'get', key);
        if (r.status === 'ok') break;
        await sleep(500);
      }
      if (r === undefined || r.status !== 'ok') {
        problems.push(`replica ${id} stuck: linearizable read of ${key} failed 10 times (${JSON.stringify(r)})`);
        continue;
      }
      const v = r.read ?? null;
      if (!finals.has(key)) finals.set(key, v);
      else if (finals.get(key) !== v) problems.push(`final read of ${key}: replica ${id} read ${JSON.stringify(v)}, another ${JSON.stringify(finals.get(key))}`);
    }
  }
  return finals;
}

async function converge(j: JudgeInput, problems: string[]): Promise<void> {
  const ids = j.cluster.members;
  const deadline = Date.now() + 30_000;
  const shards = Array.from({ length: j.shards }, (_, i) => i + 1);
  for (;;) {
    const statuses: Array<Status | undefined> = await Promise.all(ids.map((id) => j.cluster.status(id, 2000)));
    const converged = statuses.every((s) => s !== undefined) && shards.every((shard) => {
      const xs = statuses.map((s) => s?.shards.find((x) => x.shardId === shard));
      const a0 = xs[0]?.appliedIndex;
      return xs.every((x) => x !== undefined && x.appliedIndex === a0 && x.commitIndex === a0);
    });
    if (converged) {
      const want = [...ids].sort((a, b) => a - b).join(',');
      statuses.forEach((s, i) => {
        for (const x of s?.shards ?? []) {
          const voters = Object.keys(x.membership.voters).map(Number).sort((a, b) => a - b).join(',');
          if (voters !== want) problems.push(`replica ${ids[i] as number} sees voters {${voters}} of shard ${x.shardId}, the runner's members are {${want}}`);
        }
      });
      return;
    }
    if (Date.now() > deadline) {
      problems.push(`replicas did not converge within 30 s: ${JSON.stringify(statuses.map((s) => s?.shards.map((x) => [x.shardId, x.commitIndex, x.appliedIndex])))}`);
      return;
    }
    await sleep(200);
  }
}

async function sameLocalState(j: JudgeInput, finals: ReadonlyMap<string, string | null>, problems: string[]): Promise<void> {
  for (const key of j.keys) {
    const seen: string[] = [];
    for (const id of j.cluster.members) {
      const a = await send(j.cluster.node(id).httpAddr, 'GET', `/kv/${key}?stale=true`, undefined, 5000);
      const v = a.status === 200 ? a.text : a.status === 404 ? null : undefined;
      seen.push(`${id}=${JSON.stringify(v)}`);
      if (v === undefined || (finals.has(key) && v !== finals.get(key))) {
        problems.push(`replica ${id} diverges on ${key}: local state ${JSON.stringify(v)}, linearizable read ${JSON.stringify(finals.get(key))}`);
      }
    }
    j.note({ event: 'final', key, linearizable: finals.get(key), stale: seen.join(' ') });
  }
}

/** Runs the final reads and every check; returns the checker's result and the problems found. */
export async function judge(j: JudgeInput): Promise<{ check: CheckResult; problems: string[] }> {
  const problems: string[] = [];
  const finals = await finalReads(j, problems);
  await converge(j, problems);
  await sameLocalState(j, finals, problems);
  await sameStateHash(j.cluster, j.shards, problems, j.note);
  // The replicas' metrics (of their last incarnation), kept with the logs.
  for (const id of j.cluster.members) {
    const a = await send(j.cluster.node(id).httpAddr, 'GET', '/metrics', undefined, 5000);
    writeFileSync(join(j.dir, `metrics-r${id}.txt`), a.status === 200 ? a.text : `unavailable: ${a.status} ${a.error?.code ?? a.text}`);
  }
  const ops = j.history.ops;
  problems.push(...lostWrites(ops, finals).map((l) => `lost write: ${l}`));
  const check = checkHistory(ops, { stepBudget: j.stepBudget });
  const byId = new Map(ops.map((x) => [x.id, x]));
  for (const k of check.keys) {
    if (k.verdict === 'not-linearizable') {
      const tail = (k.longest ?? []).slice(-6).map((i) => JSON.stringify(byId.get(i)));
      problems.push(`key ${k.key} is NOT linearizable: stuck at op ${JSON.stringify((k.stuckAt ?? []).map((i) => byId.get(i)))} ` +
        `after ${k.longest?.length ?? 0} ops leaving state ${JSON.stringify(k.stateAtStuck)}; last linearized: ${tail.join(' ')}`);
    }
    if (k.verdict === 'unknown') problems.push(`key ${k.key}: the search gave up after ${k.steps} steps (${k.ops} ops)`);
  }
  return { check, problems };
}
