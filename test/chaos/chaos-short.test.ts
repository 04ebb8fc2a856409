/**
 * A short chaos run inside `npm test`: three `sampan kv` processes, concurrent clients on a
 * few keys, and a nemesis that SIGKILLs replicas (the leader above all) and restarts them,
 * and freezes replicas with SIGSTOP, with snapshots meanwhile. The history must be
 * linearizable, every replica must converge, no acknowledged write may be lost.
 * The run directory (history, replica logs) is kept and printed when it fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos } from '../../tools/chaos/runner.js';

test('chaos: kill and pause faults on three replicas leave a linearizable history and converged replicas', { timeout: 240_000 }, async () => {
  const seed = 20240611;
  const res = await runChaos({
    seed, timeSec: 35, replicas: 3, shards: 1, clients: 5, keys: 4,
    faults: ['kill', 'kill-leader', 'pause', 'pause-leader', 'snapshot'],
    keep: 'failure', rttMs: 50,
  });
  const why = `${res.summary}; seed ${seed}; kept ${res.dir ?? '(removed)'}\n${res.problems.join('\n')}`;
  assert.ok(res.faults.length >= 4, `too few faults: ${why}`);
  assert.ok(res.outcomes.ok >= 200, `too few completed operations: ${JSON.stringify(res.outcomes)} ${why}`);
  assert.equal(res.check.verdict, 'linearizable', why);
  assert.deepEqual(res.problems, [], why);
  assert.ok(res.passed, why);
  assert.match(res.summary, /^chaos: \d+ ops, \d+ faults, linearizable$/);
});
