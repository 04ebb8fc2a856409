/**
 * End to end: three `sampan kv` processes on loopback. Writes and reads from every replica,
 * compare-and-set races, a leader SIGKILLed and restarted with nothing acknowledged lost,
 * snapshots and exports over HTTP, a leader transfer, metrics. (Adding a replica: kv-join.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from './support/cluster.js';
import { http, killAll, until } from './support/procs.js';

test('three kv replicas: reads, writes, CAS races, leader crash, snapshots, leader transfer', { timeout: 110000 }, async () => {
  const c = new Cluster();
  await c.allocate([1, 2, 3]);
  const url = (id: number): string => c.node(id).url;
  try {
    for (const id of [1, 2, 3]) c.start(id, ['--initial-members', c.members([1, 2, 3])]);
    for (const id of [1, 2, 3]) await c.ready(id);

    // Writes through every replica; linearizable and stale reads on every replica.
    for (let k = 0; k < 9; k++) {
      const r = await http('PUT', `${url(1 + (k % 3))}/kv/key-${k}`, `value-${k}`);
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json<{ index: number }>().index > 0);
    }
    for (const id of [1, 2, 3]) {
      for (let k = 0; k < 9; k++) {
        const r = await http('GET', `${url(id)}/kv/key-${k}`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.text, `value-${k}`);
      }
      await until(`stale read on ${id}`, 5000, async () => ((await http('GET', `${url(id)}/kv/key-8?stale=true`)).text === 'value-8' ? true : undefined));
    }
    // Keys are percent-decoded path segments.
    const odd = 'a b/ü?&';
    assert.equal((await http('PUT', `${url(2)}/kv/${encodeURIComponent(odd)}`, 'odd')).status, 200);
    assert.equal((await http('GET', `${url(3)}/kv/${encodeURIComponent(odd)}`)).text, 'odd');
    assert.equal((await http('DELETE', `${url(3)}/kv/key-0`)).status, 200);
    assert.equal((await http('GET', `${url(1)}/kv/key-0`)).status, 404);

    // CAS races: many clients on all replicas, exactly one winner per round.
    let current: string | null = null;
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(Array.from({ length: 12 }, (_, client) => http('POST', `${url(1 + (client % 3))}/cas/race`,
        JSON.stringify({ expected: current, value: `r${round}-c${client}` }))));
      for (const r of results) assert.equal(r.status, 200, r.text);
      const bodies = results.map((r) => r.json<{ ok: boolean; current?: string | null }>());
      const winners = bodies.map((b, i) => (b.ok ? i : -1)).filter((i) => i >= 0);
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(bodies)}`);
      const won = `r${round}-c${winners[0] as number}`;
      for (const b of bodies) if (!b.ok) assert.equal(b.current, won);
      current = won;
    }
    assert.equal((await http('GET', `${url(2)}/kv/race`)).text, current);

    // The leader is SIGKILLed while a client writes through a follower; it restarts; every
    // acknowledged write is on every replica.
    const leader = await c.leader(1);
    const via = [1, 2, 3].find((i) => i !== leader) as number;
    const acked: string[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop && i < 400; i++) {
        const r = await http('PUT', `${url(via)}/kv/crash-${i}`, `v${i}`).catch(() => null);
        if (r?.status === 200) acked.push(`crash-${i}`);
      }
    })();
    await until('some writes before the crash', 10000, () => (acked.length >= 5 ? true : undefined));
    await c.stop(leader, 'SIGKILL');
    const before = acked.length;
    await until('writes after the crash', 20000, () => (acked.length >= before + 10 ? true : undefined));
    stop = true;
    await writer;
    c.start(leader);
    await c.ready(leader);
    for (const id of [1, 2, 3]) {
      for (const k of acked) {
        const r = await http('GET', `${url(id)}/kv/${k}`);
        assert.equal(r.status, 200, `${k} on replica ${id}: ${r.text}`);
      }
    }

    // Snapshots: local (the log is compacted from it) and exported to a directory.
    const snap = await http('POST', `${url(2)}/admin/snapshot?shard=1&compactionOverhead=0`);
    assert.equal(snap.status, 200, snap.text);
    const index = snap.json<{ index: number }>().index;
    assert.ok(index > 0);
    const s2 = (await http('GET', `${url(2)}/status`)).json<{ shards: Array<{ snapshotIndex: number; firstLogIndex: number }> }>().shards[0];
    assert.ok((s2?.snapshotIndex ?? 0) >= index);
    assert.ok((s2?.firstLogIndex ?? 0) > 1, `the log is compacted: ${JSON.stringify(s2)}`);
    assert.equal((await http('PUT', `${url(2)}/kv/after-snapshot`, 'x')).status, 200);
    const exportDir = join(c.root, 'export');
    mkdirSync(exportDir);
    const exp = await http('POST', `${url(3)}/admin/snapshot?shard=1&export=${encodeURIComponent(exportDir)}`);
    assert.equal(exp.status, 200, exp.text);
    const path = exp.json<{ index: number; path?: string }>().path;
    assert.ok(path !== undefined && existsSync(path), exp.text);

    // Leadership moves where asked.
    const now = await c.leader(1);
    const target = [1, 2, 3].find((i) => i !== now) as number;
    const lt = await http('POST', `${url(via)}/admin/leader-transfer?shard=1&target=${target}`);
    assert.equal(lt.status, 202, lt.text);
    await until('leadership moves', 10000, async () => ((await c.leader(1)) === target ? true : undefined));

    const m = await http('GET', `${url(1)}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.text, /sampan_shard_applied_index\{shard="1",replica="1"\} \d+/);
  } finally {
    await killAll();
  }
});
