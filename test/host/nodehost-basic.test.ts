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
    assert.equal(rs.length, 20);
    for (const r of rs) assert.ok(r.value >= 1 && r.value <= 20);
    // A linearizable read from a follower sees every acknowledged write.
    const follower = [1, 2, 3].find((i) => i !== c.leaderOf(1)) as number;
    assert.equal(await c.get(follower).read(1, 'k19'), 'v19');
    await c.until(() => [1, 2, 3].every((i) => sms.get(i)?.map.size === 20), 3000, 'all applied');
    for (const i of [1, 2, 3]) assert.equal(dec.decode(new TextEncoder().encode(String(sms.get(i)?.map.get('k7')))), 'v7');
  } finally {
    await c.closeAll();
  }
});
