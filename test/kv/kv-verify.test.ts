/**
 * State hashes in the KV service: the memory and disk state machines hash the same content
 * alike (and different content differently, whatever the insertion order), `GET /cluster`
 * compares replicas, and end to end three `sampan kv` processes agree after
 * `POST /admin/verify` — each `/status` shows the same `{index, hash}`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvOp, encodeCommand } from '../../src/kv/command-codec.js';
import { DiskKvStateMachine } from '../../src/kv/disk-state-machine.js';
import { MemoryKvStateMachine } from '../../src/kv/memory-state-machine.js';
import { compareHashes } from '../../src/kv/state-hash-check.js';
import { Cluster } from './support/cluster.js';
import { http, killAll, until } from './support/procs.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const put = (index: number, k: string, v: string): { index: number; cmd: Uint8Array } => ({ index, cmd: encodeCommand({ op: KvOp.Put, key: b(k), value: b(v) }) });

test('getHash: memory and disk agree on equal content, in any insertion order; differ on different content', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-kvhash-'));
  const disk = new DiskKvStateMachine(join(dir, 'a.sqlite'));
  try {
    await disk.open(new AbortController().signal);
    const mem = new MemoryKvStateMachine();
    const other = new MemoryKvStateMachine();
    assert.equal(mem.getHash(), disk.getHash(), 'empty');
    mem.update([put(1, 'b', '2'), put(2, 'a', '1'), put(3, '\u00ff', 'x')]);
    disk.update([put(1, 'a', '1'), put(2, '\u00ff', 'x'), put(3, 'b', '2')]);
    other.update([put(1, 'a', '1'), put(2, 'b', '2'), put(3, '\u00ff', 'y')]);
    assert.equal(mem.getHash(), disk.getHash());
    assert.notEqual(other.getHash(), mem.getHash());
    // Key/value boundaries count: ("ab","c") is not ("a","bc").
    const x = new MemoryKvStateMachine();
    const y = new MemoryKvStateMachine();
    x.update([put(1, 'ab', 'c')]);
    y.update([put(1, 'a', 'bc')]);
    assert.notEqual(x.getHash(), y.getHash());
  } finally {
    await disk.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compareHashes: mismatch at one index, agreement at the newest, unknown otherwise', () => {
  const h = (index: number, hash: string): { index: number; hash: string } => ({ index, hash });
  assert.equal(compareHashes([h(9, 'aa'), h(9, 'aa'), null]), 'agree');
  assert.equal(compareHashes([h(9, 'aa'), h(9, 'bb'), h(9, 'aa')]), 'mismatch');
  assert.equal(compareHashes([h(9, 'aa'), h(12, 'cc'), h(12, 'cc')]), 'agree', 'one replica behind: its older record cannot disagree');
  assert.equal(compareHashes([h(9, 'aa'), h(12, 'cc')]), 'unknown');
  assert.equal(compareHashes([null, null]), 'unknown');
});

test('three kv replicas: POST /admin/verify, every /status shows the same hash, /cluster says agree', { timeout: 90000 }, async () => {
  const c = new Cluster();
  const ids = [1, 2, 3] as const;
  await c.allocate(ids);
  const url = (id: number): string => c.node(id).url;
  try {
    const peers = ids.map((id) => `${id}=${c.node(id).httpAddr}`).join(',');
    for (const id of ids) c.start(id, ['--initial-members', c.members([...ids]), '--peer-http', peers]);
    for (const id of ids) await c.ready(id);
    const before = (await http('GET', `${url(1)}/cluster`)).json<{ shards: Array<{ stateHashes: string }> }>();
    assert.equal(before.shards[0]?.stateHashes, 'unknown', 'no marker yet');
    for (let k = 0; k < 10; k++) assert.equal((await http('PUT', `${url(1 + (k % 3))}/kv/k${k}`, `v${k}`)).status, 200);
    const leader = await c.leader(1);
    const via = ids.find((i) => i !== leader) as number;
    const r = await http('POST', `${url(via)}/admin/verify`);
    assert.equal(r.status, 200, r.text);
    const mine = r.json<{ index: number; hash: string }>();
    assert.ok(mine.index > 10);
    assert.match(mine.hash, /^[0-9a-f]{16}$/);
    for (const id of ids) {
      await until(`replica ${id} hashed index ${mine.index}`, 10000, async () => {
        const st = (await http('GET', `${url(id)}/status`)).json<{ shards: Array<{ stateHash: { index: number; hash: string } | null }> }>();
        return st.shards[0]?.stateHash?.index === mine.index ? st.shards[0].stateHash : undefined;
      }).then((sh) => assert.deepEqual(sh, mine, `replica ${id}`));
    }
    const cl = (await http('GET', `${url(leader)}/cluster`)).json<{ shards: Array<{ stateHashes: string; replicas: Array<{ stateHash: unknown }> }> }>();
    assert.equal(cl.shards[0]?.stateHashes, 'agree');
    assert.deepEqual(cl.shards[0]?.replicas.map((x) => x.stateHash), [mine, mine, mine]);
  } finally {
    await killAll();
    rmSync(c.root, { recursive: true, force: true });
  }
});
