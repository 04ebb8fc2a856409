/**
 * Elections, proposals and linearizable reads across several hosts on the in-memory network,
 * with the WAL LogDB on real files; leadership events and leader transfer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { retryDropped } from './support/assert.js';
import { setCmd } from './support/kv.js';

const dec = new TextDecoder();

test('one shard on three hosts: a leader is elected, proposals from any host apply everywhere in the same order', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const info = c.get(leader).getNodeHostInfo();
    assert.equal(info.raftAddress, c.address(leader));
    const mine = info.shards.find((s) => s.shardId === 1);
    assert.ok(mine?.isLeader);
    assert.equal(mine?.role, 'leader');
    assert.deepEqual([...(mine?.membership.voters.keys() ?? [])].sort(), [1, 2, 3]);

    const rs = await Promise.all(Array.from({ length: 30 }, (_, k) => c.get(1 + (k % 3)).propose(1, setCmd(`k${k}`, `v${k}`))));
    // Each result is the state machine's own: the map size after that entry, and its index.
    const indexes = rs.map((r) => Number(dec.decode(r.data)));
    assert.equal(new Set(indexes).size, 30, 'every proposal got its own log index');
    await c.until(() => [1, 2, 3].every((i) => c.sm(i, 1).map.size === 30), 3000, 'all applied everywhere');
    const order = c.sm(1, 1).applied;
    for (const i of [2, 3]) assert.deepEqual(c.sm(i, 1).applied, order, `host ${i} applied in the same order`);
    for (const [k, r] of rs.entries()) assert.equal(c.sm(2, 1).map.get(`k${k}`), `v${k}`, `result ${r.value} of k${k}`);
  } finally {
    await c.closeAll();
  }
});

test('64 shards on three hosts all elect leaders and accept proposals', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const shards = Array.from({ length: 64 }, (_, k) => k + 1);
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    for (const s of shards) await c.startShard(s, [1, 2, 3]);
    await c.until(() => shards.every((s) => c.leaderOf(s) !== 0), 10000, 'a leader for every shard');
    // Under load a shard may change leader: a dropped request is retried, as the contract says.
    await Promise.all(shards.map((s) => retryDropped(() => c.get(1 + (s % 3)).propose(s, setCmd('shard', String(s))))));
    // A linearizable read on another host sees each shard's own write, and no other shard's.
    const seen = await Promise.all(shards.map((s) => retryDropped(() => c.get(1 + ((s + 1) % 3)).read(s, 'shard'))));
    assert.deepEqual(seen, shards.map(String));
    for (const i of [1, 2, 3]) assert.equal(c.get(i).getNodeHostInfo().shards.length, 64);
  } finally {
    await c.closeAll();
  }
});

test('five hosts: a few shards commit, and keep committing with two hosts down', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const all = [1, 2, 3, 4, 5];
  try {
    for (const i of all) await c.start(i);
    for (const s of [1, 2, 3]) await c.startShard(s, all);
    for (const s of [1, 2, 3]) await c.waitLeader(s, all);
    for (const s of [1, 2, 3]) await c.get(s).propose(s, setCmd('a', `s${s}`));
    // Crash two hosts, including the leader of shard 1 if it is among the first two picked.
    const down = [c.leaderOf(1), ...all.filter((i) => i !== c.leaderOf(1))].slice(0, 2);
    for (const i of down) await c.crash(i);
    const up = all.filter((i) => !down.includes(i));
    for (const s of [1, 2, 3]) {
      await c.waitLeader(s, up, 5000);
      await retryDropped(() => c.get(up[0] as number).propose(s, setCmd('b', `s${s}`), { timeoutMs: 3000 }));
      for (const i of up) assert.equal(await retryDropped(() => c.get(i).read(s, 'b')), `s${s}`);
      for (const i of up) assert.equal(await retryDropped(() => c.get(i).read(s, 'a')), `s${s}`);
    }
  } finally {
    await c.closeAll();
  }
});

test('linearizable reads: a write acknowledged on any host is visible to a read started after it on any other', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    await c.waitLeader(1, [1, 2, 3]);
    // Delays make followers' state machines lag, so a plain local read would often be stale.
    c.network.setFaults({ delayRate: 0.5, delayMinMs: 1, delayMaxMs: 15 });
    let staleLocal = 0;
    for (let n = 1; n <= 40; n++) {
      const writer = 1 + (n % 3);
      await c.get(writer).propose(1, setCmd('x', String(n)), { timeoutMs: 3000 });
      for (const reader of [1, 2, 3].filter((i) => i !== writer)) {
        if (await c.get(reader).staleRead(1, 'x') !== String(n)) staleLocal++;
        assert.equal(await c.get(reader).read(1, 'x', { timeoutMs: 3000 }), String(n), `read on host ${reader} after write ${n} on host ${writer}`);
      }
      // readIndex + readLocal is the same guarantee in two steps.
      const other = 1 + ((n + 1) % 3);
      await c.get(other).readIndex(1);
      assert.equal(await c.get(other).readLocal(1, 'x'), String(n));
    }
    // Not an assertion of the library, a check of the test: the faults did make lag visible.
    assert.ok(staleLocal > 0, 'the delays never made a follower lag; the read test proves nothing');
  } finally {
    await c.closeAll();
  }
});

test("'leader:updated' reports the elected leader on every host, and leader transfer moves leadership", { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const events = new Map<number, Array<{ shardId: number; replicaId: number; leaderId: number; term: number }>>();
  try {
    for (const i of [1, 2, 3]) {
      const nh = await c.start(i);
      events.set(i, []);
      nh.on('leader:updated', (p) => events.get(i)?.push(p));
    }
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    await c.get(leader).propose(1, setCmd('k', 'v'));
    const term = c.get(leader).getLeaderId(1).term;
    for (const i of [1, 2, 3]) {
      const li = c.get(i).getLeaderId(1);
      assert.deepEqual(li, { leaderId: leader, term, valid: true });
      const last = events.get(i)?.at(-1);
      assert.deepEqual(last, { shardId: 1, replicaId: i, leaderId: leader, term }, `last leader event on host ${i}`);
    }

    const target = [1, 2, 3].find((i) => i !== leader) as number;
    // Asked on a follower: the request is forwarded to the leader.
    const asker = [1, 2, 3].find((i) => i !== leader && i !== target) as number;
    // Resolves once the asker sees the target lead.
    await c.get(asker).requestLeaderTransfer(1, target, { timeoutMs: 3000 });
    assert.equal(c.get(asker).getLeaderId(1).leaderId, target);
    await c.until(() => c.leaderOf(1) === target, 3000, `leadership on ${target}`);
    await c.until(() => [1, 2, 3].every((i) => c.get(i).getLeaderId(1).leaderId === target), 3000, 'the new leader known everywhere');
    const newTerm = c.get(target).getLeaderId(1).term;
    assert.ok(newTerm > term, 'the transfer started a new term');
    await c.until(() => [1, 2, 3].every((i) => events.get(i)?.some((e) => e.leaderId === target && e.term === newTerm)), 2000, 'leader events for the new leader');
    // The shard still works after the transfer, and the old data is there.
    await c.get(leader).propose(1, setCmd('k2', 'v2'));
    assert.equal(await c.get(leader).read(1, 'k'), 'v');
  } finally {
    await c.closeAll();
  }
});
