/**
 * Metrics of a small in-process cluster after real activity: the values read back from the
 * Prometheus text match what the hosts report, histograms are fed, detaching removes
 * everything, and a host never attached registers and measures nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Registry, register as globalRegistry } from 'prom-client';
import { attachMetrics } from '../../src/metrics/index.js';
import { HostCluster } from '../host/support/cluster.js';
import { setCmd } from '../host/support/kv.js';
import { parsePromText, valueOf } from './support/prom-text.js';

test('metrics after real activity: proposals counted, a leader known everywhere, terms agree, histograms fed', async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    const registries = new Map([1, 2, 3].map((i) => [i, new Registry()] as const));
    const attached = [1, 2, 3].map((i) => attachMetrics(c.get(i), { registry: registries.get(i) as Registry }));
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const follower = [1, 2, 3].find((i) => i !== leader) as number;
    for (let k = 0; k < 3; k++) await c.get(leader).propose(1, setCmd(`k${k}`, 'v'), { timeoutMs: 5000 });
    for (let k = 0; k < 2; k++) await c.get(follower).propose(1, setCmd(`f${k}`, 'v'), { timeoutMs: 5000 });
    const last = c.get(leader).getNodeHostInfo().shards[0]?.commitIndex ?? 0;
    await c.until(() => [1, 2, 3].every((i) => c.applied(i, 1) >= last), 5000, 'every replica applied');

    const term = c.get(leader).getLeaderId(1).term;
    let campaigns = 0;
    for (const i of [1, 2, 3]) {
      const p = parsePromText(await (registries.get(i) as Registry).metrics());
      const l = { shard: '1', replica: String(i) };
      assert.equal(valueOf(p, 'sampan_shard_has_leader', l), 1, `host ${i} knows a leader`);
      assert.equal(valueOf(p, 'sampan_shard_leader_id', l), leader);
      assert.equal(valueOf(p, 'sampan_shard_is_leader', l), i === leader ? 1 : 0);
      assert.equal(valueOf(p, 'sampan_shard_term', l), term, `host ${i} is in the leader's term`);
      const info = c.get(i).getNodeHostInfo().shards[0];
      assert.ok(info !== undefined);
      assert.ok(valueOf(p, 'sampan_shard_commit_index', l) >= last);
      assert.ok(valueOf(p, 'sampan_shard_applied_index', l) >= last);
      assert.equal(valueOf(p, 'sampan_shard_first_log_index', l), info.firstLogIndex);
      assert.equal(valueOf(p, 'sampan_shard_log_entries', l), info.lastLogIndex - info.firstLogIndex + 1);
      assert.equal(valueOf(p, 'sampan_shard_voters', l), 3);
      const proposals = valueOf(p, 'sampan_shard_proposals_total', l);
      assert.equal(proposals, i === leader ? 3 : i === follower ? 2 : 0, `proposals made through host ${i}`);
      assert.equal(valueOf(p, 'sampan_shard_proposals_dropped_total', l), 0);
      campaigns += valueOf(p, 'sampan_shard_campaigns_total', l);
      // The quorum gauges exist on the leader only.
      assert.equal(p.samples.some((s) => s.name === 'sampan_shard_quorum_failures_to_loss'), i === leader);
      // Host-wide: the engine ran, the WAL synced, and the histograms saw it.
      assert.ok(valueOf(p, 'sampan_engine_passes_total') > 0);
      assert.ok(valueOf(p, 'sampan_logdb_batches_total') > 0);
      assert.ok(valueOf(p, 'sampan_engine_bare_commits_dropped_total') >= 0, 'bare commit indexes dropped (bare-commits.ts)');
      assert.ok(valueOf(p, 'sampan_wal_syncs_total') > 0);
      assert.ok(valueOf(p, 'sampan_engine_pass_seconds_count') > 0);
      assert.ok(valueOf(p, 'sampan_logdb_batch_entries_count') > 0);
      assert.ok(valueOf(p, 'sampan_wal_fsync_seconds_count') > 0, 'fsync latencies observed');
      assert.ok(valueOf(p, 'sampan_transport_messages_sent_total') > 0);
      assert.equal(p.types.get('sampan_wal_fsync_seconds'), 'histogram');
      assert.equal(p.types.get('sampan_shard_proposals_total'), 'counter');
    }
    assert.ok(campaigns >= 1, 'the leader campaigned');
    assert.equal(valueOf(parsePromText(await (registries.get(leader) as Registry).metrics()), 'sampan_shard_quorum_failures_to_loss',
      { shard: '1', replica: String(leader) }), 2);

    // Detaching removes every metric and stops the measurements.
    for (const a of attached) a.detach();
    for (const r of registries.values()) assert.equal(r.getMetricsAsArray().length, 0);
    assert.equal((c.get(1) as unknown as { engine: { observer: unknown } }).engine.observer, null);
  } finally {
    await c.closeAll();
  }
});

test('one NodeHost per registry: a second attach is refused', async () => {
  const c = new HostCluster();
  try {
    await c.start(1);
    await c.start(2);
    const registry = new Registry();
    attachMetrics(c.get(1), { registry });
    assert.throws(() => attachMetrics(c.get(2), { registry }), { code: 'INVALID_OPERATION' });
  } finally {
    await c.closeAll();
  }
});

test('a host without metrics registers nothing, takes no timings, and never loads prom-client', async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    await c.get(leader).propose(1, setCmd('a', 'b'), { timeoutMs: 5000 });
    assert.equal(globalRegistry.getMetricsAsArray().length, 0, 'nothing in the global registry');
    for (const i of [1, 2, 3]) {
      assert.equal((c.get(i) as unknown as { engine: { observer: unknown } }).engine.observer, null, 'no observer, no clock reads');
    }
  } finally {
    await c.closeAll();
  }
  // `sampan` itself does not import prom-client; only `sampan/metrics` does.
  const main = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const script = `import { createRequire } from 'node:module';
    await import(${JSON.stringify(main)});
    const n = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('prom-client')).length;
    process.stdout.write(String(n));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '0', 'prom-client modules loaded by importing sampan');
});
