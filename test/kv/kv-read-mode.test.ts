/**
 * `sampan kv --read-mode lease|read-index` on real processes: lease reads are linearizable on
 * every replica; with both followers stopped (SIGSTOP) the leader still answers a read at once
 * — only a lease can confirm it then — and stops once its lease has run out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './support/cluster.js';
import { http, killAll, run } from './support/procs.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('sampan kv --read-mode lease: reads on every replica; followers stopped, the leader answers only within its lease', { timeout: 60000 }, async () => {
  // --rtt-ms 100 (after the cluster's default 20): a lease of 8 ticks = 800 ms.
  const c = new Cluster(['--read-mode', 'lease', '--rtt-ms', '100']);
  try {
    await c.allocate([1, 2, 3]);
    for (const i of [1, 2, 3]) c.start(i, ['--initial-members', c.members([1, 2, 3])]);
    for (const i of [1, 2, 3]) await c.ready(i);
    const url = (i: number): string => c.node(i).url;
    for (const i of [1, 2, 3]) {
      assert.equal((await http('PUT', `${url(i)}/kv/x`, `from-${i}`)).status, 200);
      for (const j of [1, 2, 3]) {
        const r = await http('GET', `${url(j)}/kv/x`);
        assert.equal(r.text, `from-${i}`, `replica ${j} reads replica ${i}'s write (${r.status})`);
      }
    }
    const leader = await c.leader(1);
    const followers = [1, 2, 3].filter((i) => i !== leader);
    await sleep(300); // heartbeats acknowledged: a fresh lease
    for (const f of followers) c.node(f).child?.proc.kill('SIGSTOP');
    const t0 = performance.now();
    const served = await http('GET', `${url(leader)}/kv/x`, undefined, 5000);
    const ms = performance.now() - t0;
    assert.equal(served.status, 200, served.text);
    assert.equal(served.text, 'from-3', 'served by the lease: no follower can confirm a ReadIndex round');
    assert.ok(ms < 800, `answered in ${ms.toFixed(0)} ms`);

    await sleep(1500); // past the lease (and past check-quorum: the leader steps down)
    const late = await http('GET', `${url(leader)}/kv/x`, undefined, 1000).catch(() => null);
    assert.ok(late === null || late.status !== 200, `no read confirmed after the lease ran out: ${late?.status} ${late?.text}`);

    for (const f of followers) c.node(f).child?.proc.kill('SIGCONT');
    for (const i of [1, 2, 3]) await c.ready(i);
    const again = await http('GET', `${url(leader)}/kv/x`);
    assert.equal(again.text, 'from-3');
  } finally {
    for (const n of c.nodes.values()) n.child?.proc.kill('SIGCONT');
    await killAll();
  }
});

test('sampan kv --read-mode: anything but lease or read-index is a usage error (exit 2)', async () => {
  const child = run(['kv', '--replica-id', '1', '--raft-address', '127.0.0.1:1', '--http-address', '127.0.0.1:2',
    '--data-dir', '/nonexistent', '--read-mode', 'fast']);
  assert.equal(await child.exited, 2, child.err);
  assert.match(child.err, /--read-mode/);
});
