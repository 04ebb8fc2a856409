/**
 * The KV service's HTTP port is not an open door: HTTPS with client certificates, a bearer
 * token on /admin/* (401 without, 403 wrong, nothing changed either way), and snapshot exports
 * confined to --export-root. One real `sampan kv` process, real TLS clients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Cluster } from './support/cluster.js';
import { killAll, until } from './support/procs.js';
import { makePki } from '../support/pki.js';

interface Res { status: number; text: string }

interface Client { ca?: Buffer; cert?: Buffer; key?: Buffer }

function call(method: string, url: string, opts: { body?: string; token?: string; client?: Client } = {}): Promise<Res> {
  const u = new URL(url);
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  const make = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = make(u, { method, headers, ...opts.client, timeout: 10000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

test('HTTPS with client certificates, an admin bearer token, and exports under --export-root', { timeout: 60000 }, async () => {
  const c = new Cluster();
  await c.allocate([1]);
  const pki = makePki(c.root, 'http');
  const other = makePki(c.root, 'other');
  const token = 'correct-horse-battery-staple-42';
  const tokenFile = join(c.root, 'admin.token');
  writeFileSync(tokenFile, `${token}\n`);
  const root = join(c.root, 'exports');
  mkdirSync(root);
  const outside = join(c.root, 'elsewhere');
  mkdirSync(outside);
  const client: Client = { ca: readFileSync(pki.ca), cert: readFileSync(pki.cert), key: readFileSync(pki.key) };
  try {
    c.start(1, ['--initial-members', c.members([1]), '--http-tls-cert', pki.cert, '--http-tls-key', pki.key,
      '--http-tls-client-ca', pki.ca, '--admin-token-file', tokenFile, '--export-root', root]);
    const base = `https://${c.node(1).httpAddr}`;
    await until('replica 1 serves HTTPS', 20000, async () => {
      try {
        const r = await call('PUT', `${base}/kv/a`, { body: '1', client });
        return r.status === 200 ? true : undefined;
      } catch {
        return undefined;
      }
    });
    assert.equal((await call('GET', `${base}/kv/a`, { client })).text, '1');
    assert.match(c.node(1).child?.out ?? '', /ready: http https:\/\//);

    // Without a client certificate, or with one of another CA, or in plaintext: no answer.
    await assert.rejects(call('GET', `${base}/kv/a`, { client: { ca: client.ca } }));
    await assert.rejects(call('GET', `${base}/kv/a`, { client: { ca: client.ca, cert: readFileSync(other.cert), key: readFileSync(other.key) } }));
    await assert.rejects(call('GET', `http://${c.node(1).httpAddr}/kv/a`).then((r) => {
      if (r.status === 200) throw new Error('plaintext was served');
      throw new Error(`status ${r.status}`);
    }));

    // Admin routes: 401 without a token, 403 with a wrong one; nothing happens either way.
    const snap = async (t?: string, exp?: string): Promise<Res> =>
      call('POST', `${base}/admin/snapshot?shard=1${exp === undefined ? '' : `&export=${encodeURIComponent(exp)}`}`, { client, ...(t === undefined ? {} : { token: t }) });
    const snapIndex = async (): Promise<number> =>
      (JSON.parse((await call('GET', `${base}/status`, { client })).text) as { shards: Array<{ snapshotIndex: number }> }).shards[0]?.snapshotIndex ?? -1;
    const none = await snap();
    assert.equal(none.status, 401, none.text);
    assert.match(none.text, /"code":"UNAUTHENTICATED"/);
    const wrong = await snap('not-the-token-at-all');
    assert.equal(wrong.status, 403, wrong.text);
    assert.match(wrong.text, /"code":"FORBIDDEN"/);
    const member = await call('POST', `${base}/admin/members?shard=1`, { client, token: 'nope-nope-nope-nope', body: JSON.stringify({ op: 'remove', replicaId: 1 }) });
    assert.equal(member.status, 403);
    assert.equal(await snapIndex(), 0, 'no snapshot was taken by refused requests');
    const ok = await snap(token);
    assert.equal(ok.status, 200, ok.text);
    assert.ok(await snapIndex() > 0);

    // Exports: outside the root refused (nothing written there); inside accepted.
    const out = await snap(token, outside);
    assert.equal(out.status, 403, out.text);
    assert.deepEqual(readdirSync(outside), []);
    const escape = await snap(token, join(root, '..', 'elsewhere'));
    assert.equal(escape.status, 403, escape.text);
    assert.equal((await call('PUT', `${base}/kv/b`, { body: '2', client })).status, 200);
    const inside = await snap(token, root);
    assert.equal(inside.status, 200, inside.text);
    assert.ok(readdirSync(root).length > 0 && existsSync(root));
  } finally {
    await killAll();
  }
});

test('sampan kv refuses a token given badly, and HTTP TLS flags given by halves, with one line', { timeout: 30000 }, async () => {
  const c = new Cluster();
  await c.allocate([1]);
  const short = join(c.root, 'short.token');
  writeFileSync(short, 'abc\n');
  const cases: Array<[string[], RegExp]> = [
    [['--admin-token-file', short], /admin token must be at least 16/],
    [['--admin-token-file', join(c.root, 'absent')], /--admin-token-file .*absent: no such file/],
    [['--http-tls-cert', short], /--http-tls-cert and --http-tls-key go together/],
    [['--export-root', join(c.root, 'absent-dir')], /--export-root .*absent-dir: no such directory/],
  ];
  try {
    for (const [flags, re] of cases) {
      const child = c.start(1, ['--initial-members', c.members([1]), ...flags]);
      const code = await child.exited;
      assert.equal(code, 2, `${flags.join(' ')}: ${child.err}`);
      const lines = child.err.trim().split('\n');
      assert.equal(lines.length, 1, child.err);
      assert.match(lines[0] ?? '', re);
      assert.ok(!existsSync(join(c.node(1).dataDir, 'wal')), 'nothing written to the data dir');
    }
  } finally {
    await killAll();
  }
});
