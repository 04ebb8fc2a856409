/**
 * End to end: a fourth replica added with `POST /admin/members` and started with `--join`
 * catches up (it starts knowing no addresses and learns the leader's from its messages).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './support/cluster.js';
import { http, killAll, until } from './support/procs.js';

test('a fourth replica added over HTTP joins and catches up', {
  timeout: 60000,
}, async () => {
  const c = new Cluster();
  await c.allocate([1, 2, 3, 4]);
  const url = (id: number): string => c.node(id).url;
  try {
    for (const id of [1, 2, 3]) c.start(id, ['--initial-members', c.members([1, 2, 3])]);
    for (const id of [1, 2, 3]) await c.ready(id);
    for (let k = 0; k < 5; k++) assert.equal((await http('PUT', `${url(1)}/kv/j${k}`, `v${k}`)).status, 200);
    const add = await http('POST', `${url(2)}/admin/members?shard=1`, JSON.stringify({ op: 'add', replicaId: 4, address: c.node(4).raft }));
    assert.equal(add.status, 200, add.text);
    c.start(4, ['--join']);
    await c.ready(4);
    await until('replica 4 catches up', 10000, async () => ((await http('GET', `${url(4)}/kv/j4?stale=true`)).status === 200 ? true : undefined));
    assert.equal((await http('GET', `${url(4)}/kv/j0`)).text, 'v0');
    const st = (await http('GET', `${url(4)}/status`)).json<{ shards: Array<{ membership: { voters: Record<string, string> } }> }>();
    assert.deepEqual(Object.keys(st.shards[0]?.membership.voters ?? {}).sort(), ['1', '2', '3', '4']);
  } finally {
    await killAll();
  }
});
