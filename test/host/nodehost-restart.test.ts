/**
 * Crash and restart from disk: the leader's host closed abruptly and re-created on its
 * directory, and every host restarted; acknowledged data survives and restarted replicas
 * catch up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';

test('leader crash: the others elect a new leader and keep committing; the old leader restarts from disk and catches up', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const old = await c.waitLeader(1, [1, 2, 3]);
    for (let k = 0; k < 20; k++) await c.get(1 + (k % 3)).propose(1, setCmd(`a${k}`, String(k)));
    await c.crash(old);

    const rest = [1, 2, 3].filter((i) => i !== old);
    const next = await c.waitLeader(1, rest);
    assert.notEqual(next, old);
    for (let k = 0; k < 20; k++) await c.get(rest[k % 2] as number).propose(1, setCmd(`b${k}`, String(k)));

    // Restart from its directory: no initial members, no join; the log holds everything.
    await c.start(old);
    await c.startShard(1, [old], { members: [] });
    const restarted = c.sm(old, 1);
    await c.until(() => restarted.map.size === 40, 5000, 'the restarted replica catches up');
    for (let k = 0; k < 20; k++) {
      assert.equal(restarted.map.get(`a${k}`), String(k));
      assert.equal(restarted.map.get(`b${k}`), String(k));
    }
    // It replayed its own log from index 1 and then received the rest: no index applied twice.
    assert.equal(new Set(restarted.applied).size, restarted.applied.length);
    assert.deepEqual(restarted.applied, c.sm(next, 1).applied.filter((i) => i <= (restarted.applied.at(-1) ?? 0)));
    // It is a full member again: it serves linearizable reads and its vote counts.
    await c.waitLeader(1, [1, 2, 3]);
    assert.equal(await c.get(old).read(1, 'b19'), '19');
    await c.crash(rest[0] as number);
    await c.waitLeader(1, [old, rest[1] as number]);
    await c.get(old).propose(1, setCmd('c', 'after'), { timeoutMs: 3000 });
    assert.equal(await c.get(rest[1] as number).read(1, 'c'), 'after');
  } finally {
    await c.closeAll();
  }
});

test('every host restarts: all acknowledged writes survive on every shard, and the shards accept new ones', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const shards = [1, 2, 3, 4];
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    for (const s of shards) await c.startShard(s, [1, 2, 3]);
    for (const s of shards) await c.waitLeader(s, [1, 2, 3]);
    const acked: Array<[number, string]> = [];
    await Promise.all(shards.flatMap((s) => Array.from({ length: 10 }, async (_, k) => {
      await c.get(1 + (k % 3)).propose(s, setCmd(`k${k}`, `s${s}v${k}`));
      acked.push([s, `k${k}`]);
    })));
    assert.equal(acked.length, 40);
    for (const i of [1, 2, 3]) await c.crash(i);

    for (const i of [1, 2, 3]) await c.start(i);
    for (const s of shards) await c.startShard(s, [1, 2, 3], { members: [] });
    for (const s of shards) await c.waitLeader(s, [1, 2, 3]);
    for (const [s, key] of acked) {
      const k = Number(key.slice(1));
      assert.equal(await c.get(1 + ((s + k) % 3)).read(s, key), `s${s}v${k}`);
    }
    for (const s of shards) await c.get(1 + (s % 3)).propose(s, setCmd('new', 'yes'));
    for (const s of shards) for (const i of [1, 2, 3]) assert.equal(await c.get(i).read(s, 'new'), 'yes');
    // Restarted replicas kept their membership from the log.
    const m = await c.get(2).getShardMembership(1);
    assert.deepEqual([...m.voters].sort(), [...c.members([1, 2, 3])].sort());
  } finally {
    await c.closeAll();
  }
});
