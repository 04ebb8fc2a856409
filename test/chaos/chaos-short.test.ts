/**
 * Short chaos runs inside `npm test`: three `sampan kv` processes behind their proxies,
 * concurrent clients on a few keys, and a nemesis that (1) SIGKILLs replicas (the leader above
 * all) and restarts them, and freezes replicas with SIGSTOP, with snapshots meanwhile; (2)
 * partitions the network (majority/minority, the leader isolated, a bridge, one-way) and
 * transfers leadership; (3) restarts replicas (the leader half of the time) on new raft
 * addresses, with no membership change. The history must be linearizable, every replica must converge, no
 * acknowledged write may be lost. The run directory (history, replica logs) is kept and
 * printed when it fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FaultKind } from '../../tools/chaos/plan.js';
import { runChaos } from '../../tools/chaos/runner.js';

async function shortRun(seed: number, timeSec: number, faults: readonly FaultKind[], minFaults: number, minOk: number): Promise<void> {
  const res = await runChaos({ seed, timeSec, replicas: 3, shards: 1, clients: 5, keys: 4, faults, keep: 'failure', rttMs: 50 });
  const why = `${res.summary}; seed ${seed}; kept ${res.dir ?? '(removed)'}\n${res.problems.join('\n')}`;
  assert.ok(res.faults.length >= minFaults, `too few faults: ${why}`);
  assert.ok(res.outcomes.ok >= minOk, `too few completed operations: ${JSON.stringify(res.outcomes)} ${why}`);
  assert.equal(res.check.verdict, 'linearizable', why);
  assert.deepEqual(res.problems, [], why);
  assert.ok(res.passed, why);
  assert.match(res.summary, /^chaos: \d+ ops, \d+ faults, linearizable$/);
}

test('chaos: kill and pause faults on three replicas leave a linearizable history and converged replicas', { timeout: 240_000 }, async () => {
  await shortRun(20240611, 35, ['kill', 'kill-leader', 'pause', 'pause-leader', 'snapshot'], 4, 200);
});

test('chaos: partitions and leader transfers on three replicas leave a linearizable history and converged replicas', { timeout: 180_000 }, async () => {
  // Seed 20261159 plans a bridge, a transfer, a one-way partition and two majority/minority splits.
  await shortRun(20261159, 20, ['partition-halves', 'partition-leader', 'bridge', 'one-way', 'transfer'], 4, 100);
});

test('chaos: restarts on a new raft address on three replicas leave a linearizable history and converged replicas', { timeout: 180_000 }, async () => {
  // Seed 20261202 plans five moves, the first and last aimed at a shard's leader.
  await shortRun(20261202, 20, ['new-address'], 3, 100);
});
