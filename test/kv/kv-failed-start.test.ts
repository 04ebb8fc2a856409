/**
 * End to end (issue #14 §2): a `sampan kv` first start that fails — its HTTP or raft port in
 * use, no members given — exits with one clear line and leaves the data dir as it was, so the
 * corrected retry starts, elects and serves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { HttpListener } from '../../src/kv/early-bind.js';
import { Cluster } from './support/cluster.js';
import { freePorts, http, killAll, type Child } from './support/procs.js';

async function holdPort(address: string): Promise<Server> {
  const [host, port] = address.split(':') as [string, string];
  const s = createServer();
  await new Promise<void>((res, rej) => { s.once('error', rej); s.listen(Number(port), host, () => res()); });
  return s;
}

async function release(s: Server): Promise<void> {
  await new Promise((r) => s.close(r));
}

/** Waits for `c` to exit and checks it failed with exactly one line matching `re`. */
async function failsWithOneLine(c: Child, re: RegExp): Promise<void> {
  assert.equal(await c.exited, 1, c.err);
  assert.match(c.err.trim(), re);
  assert.equal(c.err.trim().split('\n').length, 1, c.err);
  assert.doesNotMatch(c.err, /\n\s+at /);
}

test('HTTP port in use on a first start: one line, the data dir untouched; the retry elects and serves', { timeout: 60000 }, async () => {
  const c = new Cluster();
  await c.allocate([1, 2]);
  const one = c.node(1);
  const held: Server[] = [];
  try {
    // A one-member shard, data dir absent.
    let holder = await holdPort(one.httpAddr);
    held.push(holder);
    await failsWithOneLine(c.start(1, ['--initial-members', c.members([1])]), /^sampan kv: HTTP address .*: address in use$/);
    assert.ok(!existsSync(one.dataDir), `nothing was created: ${existsSync(one.dataDir) ? readdirSync(one.dataDir).join(',') : ''}`);
    await release(holder);
    c.start(1, ['--initial-members', c.members([1])]);
    await c.ready(1);
    assert.equal((await http('PUT', `${one.url}/kv/k`, 'v')).status, 200);
    assert.equal((await http('GET', `${one.url}/kv/k`)).text, 'v');

    // Data dir present and empty (made by the operator), disk state machine: still empty.
    const two = c.node(2);
    mkdirSync(two.dataDir);
    holder = await holdPort(two.httpAddr);
    held.push(holder);
    await failsWithOneLine(c.start(2, ['--initial-members', c.members([2]), '--state-machine', 'disk']), /HTTP address .*: address in use$/);
    assert.deepEqual(readdirSync(two.dataDir), []);
    await release(holder);
    c.start(2, ['--initial-members', c.members([2]), '--state-machine', 'disk']);
    await c.ready(2);
    assert.equal((await http('PUT', `${two.url}/kv/k`, 'w')).status, 200);
  } finally {
    for (const s of held) if (s.listening) s.close();
    await killAll();
  }
});

test('no members on a first start, or the raft port in use: one line, nothing written; the corrected retry starts', { timeout: 60000 }, async () => {
  const c = new Cluster();
  await c.allocate([1]);
  const n = c.node(1);
  const [other] = await freePorts(1) as [number];
  try {
    await failsWithOneLine(c.start(1), /^sampan kv: data dir .* holds no data: give the initial members of a new shard, or join/);
    assert.ok(!existsSync(n.dataDir));
    // The raft port is taken.
    const holder = await holdPort(n.raft);
    try {
      await failsWithOneLine(c.start(1, ['--initial-members', c.members([1])]), /^sampan kv: raft address .*: address in use$/);
      assert.ok(!existsSync(n.dataDir));
    } finally {
      await release(holder);
    }
    // Corrected: another raft address, with members. Not refused as "belongs to raft address …".
    const raft = `127.0.0.1:${other}`;
    const child = c.start(1, ['--raft-address', raft, '--initial-members', `1=${raft}`]);
    await c.ready(1);
    assert.equal((await http('PUT', `${n.url}/kv/a`, 'b')).status, 200);
    assert.match(child.out, new RegExp(`raft ${raft}`));
  } finally {
    await killAll();
  }
});

test('the HTTP port bound before the replica exists answers 503 SHARD_NOT_READY', async () => {
  const l = await HttpListener.bind('127.0.0.1', 0);
  try {
    const port = (l.server.address() as { port: number }).port;
    const r = await http('PUT', `http://127.0.0.1:${port}/kv/k`, 'v');
    assert.equal(r.status, 503);
    assert.equal(r.json<{ error: { code: string } }>().error.code, 'SHARD_NOT_READY');
  } finally {
    await l.close();
  }
});
