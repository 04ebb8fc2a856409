/**
 * End to end: every error code of the HTTP contract, with its status and JSON shape:
 * 400 INVALID_REQUEST / INVALID_OPTION / DIR_NOT_EXIST, 404 SHARD_NOT_FOUND, 409 REJECTED,
 * 413 PAYLOAD_TOO_BIG, 429 SYSTEM_BUSY, 503 SHARD_NOT_READY / CLOSED, 504 TIMEOUT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Cluster } from './support/cluster.js';
import { codeOf, http, killAll, type Res } from './support/procs.js';

function expectError(r: Res, status: number, code: string): void {
  assert.equal(r.status, status, r.text);
  const body = r.json<{ error: { code: string; message: string } }>();
  assert.equal(body.error.code, code, r.text);
  assert.equal(typeof body.error.message, 'string');
}

test('every error code of the contract', { timeout: 60000 }, async () => {
  const c = new Cluster(['--max-in-flight', '4']);
  await c.allocate([1, 2, 3, 9]);
  const url = (id: number): string => c.node(id).url;
  try {
    for (const id of [1, 2, 3]) c.start(id, ['--initial-members', c.members([1, 2, 3])]);
    // A lone replica of a shard whose other members never start: never a leader.
    c.start(9, ['--initial-members', `9=${c.node(9).raft},10=127.0.0.1:1,11=127.0.0.1:2`]);
    for (const id of [1, 2, 3]) await c.ready(id);
    // Awaited below; named if it fails early (no unhandled rejection meanwhile, and the lone
    // replica's own output in the message).
    const lone = http('PUT', `${url(9)}/kv/x`, 'y').catch((e: unknown) => {
      throw new Error(`PUT to the lone replica 9 failed: ${String(e)}; its stderr:\n${c.node(9).child?.err ?? ''}`, { cause: e });
    });
    lone.catch(() => {});

    expectError(await http('POST', `${url(1)}/cas/k`, 'not json'), 400, 'INVALID_REQUEST');
    expectError(await http('POST', `${url(1)}/cas/k`, '{"value":"v"}'), 400, 'INVALID_REQUEST');
    expectError(await http('GET', `${url(1)}/kv/%E0%A4%A`), 400, 'INVALID_REQUEST');
    expectError(await http('GET', `${url(1)}/kv/k?stale=maybe`), 400, 'INVALID_REQUEST');
    expectError(await http('POST', `${url(1)}/admin/snapshot?shard=x`), 400, 'INVALID_REQUEST');
    expectError(await http('POST', `${url(2)}/admin/members?shard=1`, JSON.stringify({ op: 'add', replicaId: 5, address: 'nope' })), 400, 'INVALID_OPTION');
    expectError(await http('POST', `${url(1)}/admin/snapshot?shard=1&export=${encodeURIComponent(join(c.root, 'missing'))}`), 400, 'DIR_NOT_EXIST');
    expectError(await http('POST', `${url(1)}/admin/snapshot?shard=7`), 404, 'SHARD_NOT_FOUND');
    expectError(await http('GET', `${url(1)}/kv/absent`), 404, 'KEY_NOT_FOUND');
    expectError(await http('GET', `${url(1)}/nowhere`), 404, 'NOT_FOUND');

    assert.equal((await http('PUT', `${url(1)}/kv/a`, 'b')).status, 200);
    assert.equal((await http('POST', `${url(1)}/admin/snapshot?shard=1`)).status, 200);
    expectError(await http('POST', `${url(1)}/admin/snapshot?shard=1`), 409, 'REJECTED');
    expectError(await http('POST', `${url(1)}/admin/leader-transfer?shard=1&target=8`), 409, 'REJECTED');

    expectError(await http('PUT', `${url(1)}/kv/big`, new Uint8Array(1024 * 1024 + 1)), 413, 'PAYLOAD_TOO_BIG');
    expectError(await http('PUT', `${url(1)}/kv/${'k'.repeat(1025)}`, 'v'), 413, 'PAYLOAD_TOO_BIG');

    // A flood beyond --max-in-flight 4 is refused with 429, and the rest still succeed.
    // 150 at once, not 40: on an idle machine 40 requests can arrive and commit so evenly that
    // no more than 4 are ever in flight (a full run saw that once).
    const flood = await Promise.all(Array.from({ length: 150 }, (_, i) => http('PUT', `${url(2)}/kv/flood-${i}`, 'x')));
    const busy = flood.filter((r) => r.status === 429);
    assert.ok(busy.length > 0, 'some requests are refused');
    for (const r of busy) expectError(r, 429, 'SYSTEM_BUSY');
    for (const r of flood) assert.ok(r.status === 200 || r.status === 429, r.text);

    // No leader ever: 503 SHARD_NOT_READY once the retries are spent.
    expectError(await lone, 503, 'SHARD_NOT_READY');

    // The followers stop answering: a write on the leader cannot commit: 504 TIMEOUT.
    const leader = await c.leader(1);
    const followers = [1, 2, 3].filter((i) => i !== leader);
    for (const f of followers) c.node(f).child?.proc.kill('SIGSTOP');
    expectError(await http('PUT', `${url(leader)}/kv/stuck`, 'v'), 504, 'TIMEOUT');

    // SIGTERM while a write waits: the leader has stepped down (its followers stopped answering),
    // so the write waits for a leader in no log, fails with 503 CLOSED, and the process exits
    // cleanly. (A write already in the log would fail with 504 TIMEOUT: test/host/outcome-unknown.)
    const pending = http('PUT', `${url(leader)}/kv/closing`, 'v');
    await new Promise((r) => setTimeout(r, 300));
    const exit = c.stop(leader, 'SIGTERM');
    const closed = await pending;
    assert.ok(closed.status === 503 && codeOf(closed) === 'CLOSED', closed.text);
    assert.equal(await exit, 0);
  } finally {
    await killAll();
  }
});
