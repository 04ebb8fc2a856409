import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';

const dec = new TextDecoder();

test('three hosts elect a leader, apply proposals everywhere, and serve linearizable reads', async () => {
  const c = new HostCluster();
  try {
    const sms = new Map<number, KvStateMachine>();
    for (const i of [1, 2, 3]) {
      const nh = await c.start(i);
      await nh.startReplica(c.members([1, 2, 3]), false, () => { const sm = new KvStateMachine(); sms.set(i, sm); return sm; }, { shardId: 1, replicaId: i });
    }
    await c.until(() => c.leaderOf(1) !== 0 && [1, 2, 3].every((i) => c.get(i).getLeaderId(1).valid), 5000, 'a leader known everywhere');
    const results = [];
    for (let k = 0; k < 20; k++) results.push(c.get(1 + (k % 3)).propose(1, setCmd(`k${k}`, `v${k}`)));
    const rs = await Promise.all(results);
    // Each result is the state machine's own: the map size after that entry (20 distinct keys,
    // so 1..20, each once) and the entry's log index (distinct).
    assert.deepEqual(rs.map((r) => r.value).sort((a, b) => a - b), Array.from({ length: 20 }, (_, k) => k + 1));
    assert.equal(new Set(rs.map((r) => dec.decode(r.data))).size, 20, 'every proposal got its own log index');
    // A linearizable read from a follower sees every acknowledged write.
    const follower = [1, 2, 3].find((i) => i !== c.leaderOf(1)) as number;
    assert.equal(await c.get(follower).read(1, 'k19'), 'v19');
    await c.until(() => [1, 2, 3].every((i) => sms.get(i)?.map.size === 20), 3000, 'all applied');
    const expected = new Map(Array.from({ length: 20 }, (_, k) => [`k${k}`, `v${k}`] as const));
    for (const i of [1, 2, 3]) assert.deepEqual(sms.get(i)?.map, expected, `host ${i} holds every write`);
  } finally {
    await c.closeAll();
  }
});
