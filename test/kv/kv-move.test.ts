/**
 * End to end: `POST /admin/move` replaces a replica with one on a fourth process (started with
 * `--join`): refused with 421 NOT_LEADER off the leader, resumed after a move that stopped after
 * its first step, and the shard keeps its quorum once the old process is gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './support/cluster.js';
import { http, killAll, until } from './support/procs.js';

test('a replica moves to a fourth process over HTTP; the move resumes and is refused off the leader', {
  timeout: 60000,
}, async () => {
  const c = new Cluster();
  await c.allocate([1, 2, 3, 4]);
  const url = (id: number): string => c.node(id).url;
  try {
    for (const id of [1, 2, 3]) c.start(id, ['--initial-members', c.members([1, 2, 3])]);
    for (const id of [1, 2, 3]) await c.ready(id);
    for (let k = 0; k < 5; k++) assert.equal((await http('PUT', `${url(1)}/kv/m${k}`, `v${k}`)).status, 200);
    c.start(4, ['--join']);
    await c.ready(4, 20000).catch(() => undefined); // a joiner knows no leader until it is added
    const leader = await c.leader(1);
    const from = [1, 2, 3].find((i) => i !== leader) as number;
    const other = [1, 2, 3].find((i) => i !== leader && i !== from) as number;
    const body = JSON.stringify({ from, replicaId: 4, address: c.node(4).raft });

    // A move interrupted after its first step (as if its caller crashed there).
    const add = await http('POST', `${url(leader)}/admin/members?shard=1`, JSON.stringify({ op: 'add-non-voting', replicaId: 4, address: c.node(4).raft }));
    assert.equal(add.status, 200, add.text);
    const off = await http('POST', `${url(other)}/admin/move?shard=1`, body);
    assert.equal(off.status, 421, off.text);
    assert.equal(off.json<{ error: { code: string } }>().error.code, 'NOT_LEADER');
    assert.match(off.text, new RegExp(`replica ${leader}`));

    const moved = await http('POST', `${url(leader)}/admin/move?shard=1`, body);
    assert.equal(moved.status, 200, moved.text);
    assert.deepEqual(moved.json<{ steps: string[] }>().steps, ['promoted', 'removed']);
    const again = await http('POST', `${url(leader)}/admin/move?shard=1`, body);
    assert.deepEqual(again.json<{ steps: string[] }>().steps, [], again.text);

    // The old process goes; the shard still has three voters, one of them the new one.
    await c.stop(from, 'SIGKILL');
    await c.stop(other, 'SIGKILL');
    assert.equal((await http('PUT', `${url(leader)}/kv/after`, 'move')).status, 200, 'leader + replica 4 are a quorum of 3');
    await until('replica 4 has the write', 10000, async () => ((await http('GET', `${url(4)}/kv/after?stale=true`)).text === 'move' ? true : undefined));
    assert.equal((await http('GET', `${url(4)}/kv/m4`)).text, 'v4');
    const st = (await http('GET', `${url(4)}/status`)).json<{ shards: Array<{ membership: { voters: Record<string, string> } }> }>();
    assert.deepEqual(Object.keys(st.shards[0]?.membership.voters ?? {}).sort(), [String(leader), String(other), '4'].sort());
  } finally {
    await killAll();
  }
});
