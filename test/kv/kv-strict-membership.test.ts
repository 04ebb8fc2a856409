/**
 * `POST /admin/members` against a real `sampan kv` process: a voter add that would leave the
 * shard without a quorum of live voters (here: a one-replica shard, the new replica never
 * started) is answered 409 NOT_ENOUGH_LIVE_VOTERS with the leader's one-line advice — not a
 * 500, not a timeout — and nothing is recorded; `"force": true` overrides the check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './support/cluster.js';
import { codeOf, http, killAll } from './support/procs.js';

type StatusBody = { shards: Array<{ membership: { voters: Record<string, string> } }> };

test('adding a voter to a one-replica shard is answered 409 NOT_ENOUGH_LIVE_VOTERS; "force": true adds it', { timeout: 60000 }, async () => {
  const c = new Cluster();
  await c.allocate([1]);
  try {
    c.start(1, ['--initial-members', c.members([1])]);
    await c.ready(1);
    const url = c.node(1).url;
    const members = `${url}/admin/members?shard=1`;
    const r = await http('POST', members, JSON.stringify({ op: 'add', replicaId: 2, address: '127.0.0.1:1' }));
    assert.equal(r.status, 409, r.text);
    assert.equal(codeOf(r), 'NOT_ENOUGH_LIVE_VOTERS');
    assert.match(r.json<{ error: { message: string } }>().error.message,
      /^adding voter 2 to shard 1 would leave 1 of 2 voters live, below the quorum of 2: add it as non-voting, start it and promote it once caught up/);
    const st = (await http('GET', `${url}/status`)).json<StatusBody>();
    assert.deepEqual(Object.keys(st.shards[0]?.membership.voters ?? {}), ['1'], 'nothing recorded');
    assert.equal(codeOf(await http('POST', members, JSON.stringify({ op: 'add', replicaId: 2, address: '127.0.0.1:1', force: 'yes' }))), 'INVALID_REQUEST');
    // The operator's override (the shard now needs replica 2 to commit: the hazard the check guards).
    const forced = await http('POST', members, JSON.stringify({ op: 'add', replicaId: 2, address: '127.0.0.1:1', force: true }));
    assert.equal(forced.status, 200, forced.text);
    const after = (await http('GET', `${url}/status`)).json<StatusBody>();
    assert.deepEqual(Object.keys(after.shards[0]?.membership.voters ?? {}).sort(), ['1', '2']);
  } finally {
    await killAll();
  }
});
