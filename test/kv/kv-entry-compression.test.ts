/**
 * `sampan kv --entry-compression snappy` on real processes, one replica compressing and two
 * not: every replica reads every write, and the writes made through the compressing replica
 * cost every host far fewer WAL bytes (`/metrics`) than the same writes made through another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './support/cluster.js';
import { http, killAll, run } from './support/procs.js';

/** About 1 KiB of JSON-like records, different per key. */
function value(k: number): string {
  let s = '';
  for (let j = 0; s.length < 1000; j++) s += `{"id":${k * 100 + j},"user":"user-${(k * 7 + j) % 97}","status":"active","region":"eu-west-1"},`;
  return s.slice(0, 1000);
}

async function walBytes(url: string): Promise<number> {
  const text = (await http('GET', `${url}/metrics`)).text;
  const m = /^sampan_wal_written_bytes_total(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  assert.ok(m !== null, 'sampan_wal_written_bytes_total in /metrics');
  return Number(m[1]);
}

test('sampan kv --entry-compression snappy on one replica of three: every replica reads every write; writes through it cost far fewer WAL bytes', { timeout: 60000 }, async () => {
  const c = new Cluster();
  try {
    await c.allocate([1, 2, 3]);
    c.start(1, ['--initial-members', c.members([1, 2, 3]), '--entry-compression', 'snappy']);
    for (const i of [2, 3]) c.start(i, ['--initial-members', c.members([1, 2, 3])]);
    for (const i of [1, 2, 3]) await c.ready(i);
    const url = (i: number): string => c.node(i).url;
    const n = 40;
    const cost: Record<number, number> = {};
    for (const via of [1, 2]) {
      // A linearizable read on replica 3 first: every earlier write is applied (and so written) there.
      await http('GET', `${url(3)}/kv/none`);
      const before = await walBytes(url(3));
      for (let k = 0; k < n; k++) {
        const r = await http('PUT', `${url(via)}/kv/via${via}-${k}`, value(k));
        assert.equal(r.status, 200, r.text);
      }
      await http('GET', `${url(3)}/kv/none`);
      cost[via] = (await walBytes(url(3))) - before;
    }
    for (const j of [1, 2, 3]) {
      for (const via of [1, 2]) {
        for (const k of [0, n - 1]) assert.equal((await http('GET', `${url(j)}/kv/via${via}-${k}`)).text, value(k), `replica ${j} reads via${via}-${k}`);
      }
    }
    const [z, plain] = [cost[1] ?? 0, cost[2] ?? 0];
    assert.ok(z > 0 && z < 0.5 * plain, `replica 3's WAL bytes for ${n} writes: through the compressing replica ${z}, through another ${plain}`);
  } finally {
    await killAll();
  }
});

test('sampan kv --entry-compression: anything but none or snappy is a usage error (exit 2)', async () => {
  const child = run(['kv', '--replica-id', '1', '--raft-address', '127.0.0.1:1', '--http-address', '127.0.0.1:2',
    '--data-dir', '/nonexistent', '--entry-compression', 'lz4']);
  assert.equal(await child.exited, 2, child.err);
  assert.match(child.err, /--entry-compression/);
});
