/**
 * Traps of the service found by hand (issue 14 §6), against real `sampan kv` processes:
 * a key too long for Node's request-head limit is answered 413 (not a reset connection), a
 * removal of a replica that is not a member is answered 404 and tombstones nothing, and a
 * closed stdout (`sampan kv … | head -1`) neither crashes the process nor skips the SIGTERM
 * drain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { Cluster } from './support/cluster.js';
import { BIN, codeOf, http, killAll, until } from './support/procs.js';

/** Sends raw bytes, returns everything answered until the server closes, or the socket error. */
function rawExchange(host: string, port: number, request: string): Promise<{ answer: string; error?: string }> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    let answer = '';
    s.on('data', (d: Buffer) => { answer += d.toString(); });
    s.on('error', (e: NodeJS.ErrnoException) => resolve({ answer, error: e.code ?? e.message }));
    s.on('close', () => resolve({ answer }));
    s.setTimeout(10000, () => s.destroy(new Error('no answer in 10 s')));
    s.write(request);
  });
}

test('a 20 KB key is answered 413 PAYLOAD_TOO_BIG with one JSON line, the connection not reset', { timeout: 60000 }, async () => {
  const c = new Cluster();
  await c.allocate([1]);
  try {
    c.start(1, ['--initial-members', c.members([1])]);
    await c.ready(1);
    const { httpAddr, url } = c.node(1);
    const [host, port] = httpAddr.split(':') as [string, string];
    const key = 'k'.repeat(20_000);

    const raw = await rawExchange(host, Number(port), `PUT /kv/${key} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nv`);
    assert.equal(raw.error, undefined, `the connection failed: ${raw.error ?? ''}; answer: ${raw.answer.slice(0, 200)}`);
    assert.match(raw.answer, /^HTTP\/1\.1 413 /);
    const body = raw.answer.slice(raw.answer.indexOf('\r\n\r\n') + 4);
    assert.equal(body.split('\n').length, 1, 'one line');
    assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_BIG');

    // A real client sees the answer too, for a GET and for a PUT with a body.
    const g = await http('GET', `${url}/kv/${key}`);
    assert.equal(g.status, 413, g.text);
    assert.equal(codeOf(g), 'PAYLOAD_TOO_BIG');
    const p = await http('PUT', `${url}/kv/${key}`, 'v'.repeat(100_000));
    assert.equal(p.status, 413, p.text);
    assert.equal(codeOf(p), 'PAYLOAD_TOO_BIG');
    // The replica is unharmed.
    assert.equal((await http('PUT', `${url}/kv/small`, 'v')).status, 200);
  } finally {
    await killAll();
  }
});

test('removing a replica id that is not a member answers 404 REPLICA_NOT_FOUND and records nothing', { timeout: 60000 }, async () => {
  const c = new Cluster();
  await c.allocate([1]);
  try {
    c.start(1, ['--initial-members', c.members([1])]);
    await c.ready(1);
    const url = c.node(1).url;
    const members = `${url}/admin/members?shard=1`;
    const r = await http('POST', members, JSON.stringify({ op: 'remove', replicaId: 7 }));
    assert.equal(r.status, 404, r.text);
    assert.equal(codeOf(r), 'REPLICA_NOT_FOUND');
    const status = (await http('GET', `${url}/status`)).json<{ shards: Array<{ membership: { removed: number[] } }> }>();
    assert.deepEqual(status.shards[0]?.membership.removed, [], 'no tombstone');
    // The id is still free: it can be added (as non-voting, which needs no running replica) and then removed.
    const add = await http('POST', members, JSON.stringify({ op: 'add-non-voting', replicaId: 7, address: '127.0.0.1:1' }));
    assert.equal(add.status, 200, add.text);
    assert.equal((await http('POST', members, JSON.stringify({ op: 'remove', replicaId: 7 }))).status, 200);
    const after = (await http('GET', `${url}/status`)).json<{ shards: Array<{ membership: { removed: number[] } }> }>();
    assert.deepEqual(after.shards[0]?.membership.removed, [7]);
  } finally {
    await killAll();
  }
});

test('sampan kv with its stdout closed (| head -1) survives, and SIGTERM still drains and exits 0', { timeout: 60000 }, async () => {
  const c = new Cluster();
  await c.allocate([1]);
  const n = c.node(1);
  const proc = spawn(process.execPath, [BIN, 'kv', '--replica-id', '1', '--raft-address', n.raft, '--http-address', n.httpAddr,
    '--data-dir', n.dataDir, '--rtt-ms', '20', '--initial-members', c.members([1])], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, sig) => res(code ?? sig ?? -1)));
  let err = '';
  proc.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  try {
    // Like `head -1`: read the first line, then close the pipe's reading end.
    await new Promise<void>((res) => {
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) res();
      });
    });
    proc.stdout.destroy();
    await until('the replica to serve', 20000, async () => ((await http('PUT', `${n.url}/kv/a`, 'b', 1000)).status === 200 ? true : undefined));
    proc.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, `exit ${String(code)}; stderr: ${err}`);
    assert.doesNotMatch(err, /EPIPE|Error/);
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  }
});
