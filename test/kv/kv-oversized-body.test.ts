/**
 * End to end: a request body over the limit is answered 413 PAYLOAD_TOO_BIG, and the client
 * reads that answer — also when it is still uploading the body when the server decides. A
 * server that closed the socket with the body unread made the kernel reset the connection, and
 * the client saw a broken pipe instead of the 413.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './support/cluster.js';
import { http, killAll } from './support/procs.js';

test('oversized bodies, declared or streamed, get their 413 while the client is still sending', { timeout: 60000 }, async () => {
  const c = new Cluster();
  await c.allocate([1]);
  try {
    c.start(1, ['--initial-members', c.members([1])]);
    await c.ready(1);
    const url = `${c.node(1).url}/kv/big`;
    for (const size of [1024 * 1024 + 1, 4 << 20, 16 << 20, 16 << 20, 16 << 20]) {
      const r = await http('PUT', url, new Uint8Array(size));
      assert.equal(r.status, 413, r.text);
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'PAYLOAD_TOO_BIG');
    }
    // A chunked body (no Content-Length) is cut off once it passes the limit: also answered.
    const chunks = (n: number): ReadableStream<Uint8Array> => {
      let sent = 0;
      return new ReadableStream({
        pull(ctl) { if (sent++ < n) ctl.enqueue(new Uint8Array(256 * 1024)); else ctl.close(); },
      });
    };
    const r = await fetch(url, { method: 'PUT', body: chunks(64), duplex: 'half', signal: AbortSignal.timeout(15000) } as RequestInit);
    assert.equal(r.status, 413);
    // The replica still serves.
    assert.equal((await http('PUT', `${c.node(1).url}/kv/small`, 'v')).status, 200);
  } finally {
    await killAll();
  }
});
