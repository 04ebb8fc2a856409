/**
 * End to end: `POST /admin/members` with `{"ops":[…]}` replaces a voter through one joint
 * change (add 4, remove 3) across real `sampan kv` processes; 200 once the final
 * configuration is applied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './support/cluster.js';
import { http, killAll, until } from './support/procs.js';

test('a voter replaced by one joint change over HTTP', { timeout: 60000 }, async () => {
  const c = new Cluster();
  await c.allocate([1, 2, 3, 4]);
  const url = (id: number): string => c.node(id).url;
  try {
    for (const id of [1, 2, 3]) c.start(id, ['--initial-members', c.members([1, 2, 3])]);
    for (const id of [1, 2, 3]) await c.ready(id);
    assert.equal((await http('PUT', `${url(1)}/kv/a`, 'x')).status, 200);
    c.start(4, ['--join']);
    const bad = await http('POST', `${url(1)}/admin/members?shard=1`, JSON.stringify({ ops: [] }));
    assert.equal(bad.status, 400, bad.text);
    const res = await http('POST', `${url(1)}/admin/members?shard=1`, JSON.stringify({
      ops: [{ op: 'add', replicaId: 4, address: c.node(4).raft }, { op: 'remove', replicaId: 3 }],
    }));
    assert.equal(res.status, 200, res.text);
    type St = { shards: Array<{ membership: { voters: Record<string, string> } }> };
    // 200 means the final configuration applied on the answering replica.
    const st = (await http('GET', `${url(1)}/status`)).json<St>();
    assert.deepEqual(Object.keys(st.shards[0]?.membership.voters ?? {}).sort(), ['1', '2', '4']);
    await until('replica 4 catches up', 15000, async () => ((await http('GET', `${url(4)}/kv/a?stale=true`)).status === 200 ? true : undefined));
    assert.equal((await http('PUT', `${url(1)}/kv/b`, 'y')).status, 200);
  } finally {
    await killAll();
  }
});
