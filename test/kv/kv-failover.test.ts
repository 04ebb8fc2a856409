/**
 * Writes during failover finish at election speed (issue #14 §3), with real processes: three
 * `sampan kv` replicas at the default `--rtt-ms` (election timeout 1 s); writers PUT through
 * the followers; the leader is SIGKILLed right after a write is handed to a follower. That
 * write and every write in flight at or started after the kill answer 200 within 3 s.
 * (`npm run measure:failover` runs the same round N times and prints the latencies.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFailoverRound } from '../../tools/failover-probe.js';

test('kv: the leader SIGKILLed right after a write is forwarded to it — that write and the ones after it answer 200 within 3 s', { timeout: 60000 }, async () => {
  const r = await runFailoverRound({ writers: 2, afterMs: 3000 });
  const killed = r.samples.find((s) => s.killed);
  assert.ok(killed !== undefined, 'the write at the kill was measured');
  assert.ok(r.newLeader !== 0 && r.newLeader !== r.oldLeader, `a new leader was elected (old ${r.oldLeader}, new ${r.newLeader})`);
  const bad = r.samples.filter((s) => s.status !== 200 || s.latencyMs >= 3000);
  assert.deepEqual(bad, [], `writes that failed or took 3 s or more; survivors: ${r.timeline.join(' ')}`);
  assert.ok(r.samples.length > 5, `${r.samples.length} writes measured`);
});
