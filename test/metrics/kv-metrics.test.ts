/**
 * `/metrics` and `/status` of a real `sampan kv` process: the exposition parses as Prometheus
 * text and carries the host's, the shards' and the HTTP layer's metrics under their names;
 * `/status` adds the quorum-health view to the contract's fields.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../kv/support/cluster.js';
import { http, killAll } from '../kv/support/procs.js';
import { parsePromText, valueOf } from './support/prom-text.js';

test('sampan kv: /metrics is Prometheus text with the shard, host and HTTP metrics; /status has the quorum view', { timeout: 60000 }, async () => {
  const c = new Cluster(['--shards', '2']);
  await c.allocate([1]);
  try {
    c.start(1, ['--initial-members', c.members([1])]);
    await c.ready(1);
    const url = c.node(1).url;
    for (let k = 0; k < 4; k++) assert.equal((await http('PUT', `${url}/kv/key-${k}`, 'v')).status, 200);

    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const p = parsePromText(await res.text());
    for (const shard of ['1', '2']) {
      const l = { shard, replica: '1' };
      assert.equal(valueOf(p, 'sampan_shard_has_leader', l), 1);
      assert.equal(valueOf(p, 'sampan_shard_is_leader', l), 1);
      assert.ok(valueOf(p, 'sampan_shard_applied_index', l) > 0);
      assert.equal(valueOf(p, 'sampan_shard_quorum_failures_to_loss', l), 1, 'a one-voter shard: the next failure loses it');
    }
    const proposals = valueOf(p, 'sampan_shard_proposals_total', { shard: '1' }) + valueOf(p, 'sampan_shard_proposals_total', { shard: '2' });
    assert.equal(proposals, 4, 'every write counted once, on its shard');
    assert.equal(valueOf(p, 'sampan_http_requests_total', { route: 'kv_put', status: '200' }), 4);
    assert.equal(valueOf(p, 'sampan_http_in_flight'), 0);
    assert.ok(valueOf(p, 'sampan_wal_fsync_seconds_count') > 0);
    assert.equal(p.types.get('sampan_http_requests_total'), 'counter');

    const status = (await http('GET', `${url}/status`)).json<{ shards: Array<Record<string, unknown>> }>();
    for (const s of status.shards) {
      // The contract's fields are all still there…
      for (const f of ['shardId', 'replicaId', 'leaderId', 'term', 'isLeader', 'commitIndex', 'appliedIndex', 'snapshotIndex', 'firstLogIndex', 'membership']) {
        assert.ok(f in s, `status field ${f}`);
      }
      // …and the quorum view is added.
      assert.deepEqual(s['quorum'], { voters: 1, quorum: 1, active: [1], lost: [], failuresToLoss: 1 });
    }
  } finally {
    await killAll();
  }
});
