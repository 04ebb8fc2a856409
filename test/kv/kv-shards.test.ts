/**
 * End to end: one process with `--shards 4`: keys spread over four shards by hash; with the
 * on-disk (SQLite) state machine, a SIGKILL and a restart from the data dir lose nothing
 * acknowledged; a restart with another --shards is refused in one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './support/cluster.js';
import { http, killAll, run } from './support/procs.js';
import { shardOf } from '../../src/kv/shard-hash.js';

test('one replica with --shards 4 and the disk state machine survives SIGKILL', { timeout: 60000 }, async () => {
  const c = new Cluster(['--shards', '4', '--state-machine', 'disk', '--snapshot-entries', '20', '--compaction-overhead', '5']);
  await c.allocate([1]);
  const url = c.node(1).url;
  try {
    c.start(1, ['--initial-members', c.members([1])]);
    await c.ready(1);
    const st = (await http('GET', `${url}/status`)).json<{ shards: Array<{ shardId: number }> }>();
    assert.deepEqual(st.shards.map((s) => s.shardId), [1, 2, 3, 4]);
    const used = new Set<number>();
    for (let k = 0; k < 60; k++) {
      const key = `key-${k}`;
      used.add(shardOf(new TextEncoder().encode(key), 4));
      const r = await http('PUT', `${url}/kv/${key}`, `v${k}`);
      assert.equal(r.status, 200, r.text);
    }
    assert.equal(used.size, 4, 'the keys spread over every shard');
    const cas = await http('POST', `${url}/cas/key-1`, JSON.stringify({ expected: 'v1', value: 'w1' }));
    assert.deepEqual(cas.json(), { ok: true });
    assert.equal((await http('DELETE', `${url}/kv/key-2`)).status, 200);
    const snap = await http('POST', `${url}/admin/snapshot?shard=2`);
    assert.ok(snap.status === 200 || snap.status === 409, snap.text);

    await c.stop(1, 'SIGKILL');
    c.start(1);
    await c.ready(1);
    for (let k = 0; k < 60; k++) {
      const r = await http('GET', `${url}/kv/key-${k}`);
      if (k === 2) assert.equal(r.status, 404);
      else assert.equal(r.text, k === 1 ? 'w1' : `v${k}`);
    }
    await c.stop(1, 'SIGTERM');

    // The data dir was made for four shards: another count is refused, in one line.
    const n = c.node(1);
    const bad = run(['kv', '--replica-id', '1', '--raft-address', n.raft, '--http-address', n.httpAddr, '--data-dir', n.dataDir, '--shards', '2', '--state-machine', 'disk']);
    assert.notEqual(await bad.exited, 0);
    assert.match(bad.err, /--shards 4, not 2/);
    assert.equal(bad.err.trim().split('\n').length, 1, bad.err);
  } finally {
    await killAll();
  }
});
