/**
 * End to end: quorum-loss repair. A snapshot exported over HTTP is imported with
 * `sampan snapshot import` into a fresh data dir with a new membership; the replica started
 * from it has the data (memory and disk state machines).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from './support/cluster.js';
import { freePorts, http, killAll, run } from './support/procs.js';

for (const sm of ['memory', 'disk'] as const) {
  test(`export over HTTP, snapshot import, restart from it (${sm})`, { timeout: 60000 }, async () => {
    const c = new Cluster(['--state-machine', sm]);
    await c.allocate([1, 2]);
    const url = (id: number): string => c.node(id).url;
    try {
      c.start(1, ['--initial-members', c.members([1])]);
      await c.ready(1);
      for (let k = 0; k < 20; k++) assert.equal((await http('PUT', `${url(1)}/kv/k${k}`, `v${k}`)).status, 200);
      const exportDir = join(c.root, 'export');
      mkdirSync(exportDir);
      const exp = await http('POST', `${url(1)}/admin/snapshot?export=${encodeURIComponent(exportDir)}`);
      assert.equal(exp.status, 200, exp.text);
      const { index, path } = exp.json<{ index: number; path: string }>();
      assert.equal(await c.stop(1, 'SIGTERM'), 0);

      // A data dir of another replica is refused in one line.
      const wrong = run(['snapshot', 'import', '--data-dir', c.node(1).dataDir, '--from', path, '--replica-id', '2', '--members', c.members([2])]);
      assert.notEqual(await wrong.exited, 0);
      assert.match(wrong.err, /belongs to replica 1, not 2/);

      // Replica 2 is rebuilt from the export, as the only member, and serves the data.
      const imp = run(['snapshot', 'import', '--data-dir', c.node(2).dataDir, '--from', path, '--replica-id', '2', '--members', c.members([2])]);
      assert.equal(await imp.exited, 0, imp.err);
      assert.match(imp.out, new RegExp(`index ${index}`));
      c.start(2);
      await c.ready(2);
      for (let k = 0; k < 20; k++) assert.equal((await http('GET', `${url(2)}/kv/k${k}`)).text, `v${k}`);
      assert.equal((await http('PUT', `${url(2)}/kv/after`, 'import')).status, 200);
      const st = (await http('GET', `${url(2)}/status`)).json<{ shards: Array<{ membership: { voters: Record<string, string>; removed: number[] } }> }>();
      assert.deepEqual(Object.keys(st.shards[0]?.membership.voters ?? {}), ['2']);
      assert.deepEqual(st.shards[0]?.membership.removed, [1]);
    } finally {
      await killAll();
    }
  });
}

test('bad flags, a port in use: one line, non-zero exit, no stack trace', { timeout: 30000 }, async () => {
  const c = new Cluster();
  await c.allocate([1]);
  const [busy] = await freePorts(1);
  const n = c.node(1);
  try {
    const cases: Array<[string[], RegExp]> = [
      [['kv', '--raft-address', n.raft, '--http-address', n.httpAddr, '--data-dir', n.dataDir], /--replica-id/],
      [['kv', '--replica-id', 'zero', '--raft-address', n.raft, '--http-address', n.httpAddr, '--data-dir', n.dataDir], /--replica-id/],
      [['kv', '--replica-id', '1', '--raft-address', 'nohost', '--http-address', n.httpAddr, '--data-dir', n.dataDir], /--raft-address/],
      [['kv', '--replica-id', '1', '--raft-address', n.raft, '--http-address', n.httpAddr, '--data-dir', n.dataDir, '--initial-members', '1=bad'], /--initial-members/],
      [['kv', '--replica-id', '1', '--raft-address', n.raft, '--http-address', n.httpAddr, '--data-dir', n.dataDir, '--state-machine', 'tape'], /--state-machine/],
      [['kv', '--replica-id', '1', '--raft-address', n.raft, '--http-address', n.httpAddr, '--data-dir', n.dataDir, '--tls-ca', 'x'], /all three/],
      [['kv', '--replica-id', '1', '--raft-address', n.raft, '--http-address', n.httpAddr, '--data-dir', n.dataDir, '--dial-from-host', 'localhost'], /--dial-from-host/],
      [['snapshot', 'import', '--data-dir', n.dataDir], /--from/],
      [['frobnicate'], /unknown command/],
    ];
    for (const [args, re] of cases) {
      const p = run(args);
      assert.notEqual(await p.exited, 0, args.join(' '));
      assert.match(p.err, re);
      assert.equal(p.err.trim().split('\n').length, 1, p.err);
      assert.doesNotMatch(p.err, /\n\s+at /);
    }
    // The HTTP port is taken by another process's listener.
    const holder = run(['kv', '--replica-id', '1', '--raft-address', n.raft, '--http-address', n.httpAddr, '--data-dir', n.dataDir, '--initial-members', c.members([1])]);
    await c.ready(1).catch(() => {});
    const other = run(['kv', '--replica-id', '5', '--raft-address', `127.0.0.1:${busy as number}`, '--http-address', n.httpAddr,
      '--data-dir', join(c.root, 'other'), '--initial-members', `5=127.0.0.1:${busy as number}`]);
    assert.notEqual(await other.exited, 0);
    assert.match(other.err, /HTTP address .* address in use/);
    assert.equal(other.err.trim().split('\n').length, 1, other.err);
    // The raft port is taken.
    const raftBusy = run(['kv', '--replica-id', '6', '--raft-address', n.raft, '--http-address', `127.0.0.1:${busy as number}`,
      '--data-dir', join(c.root, 'other2'), '--initial-members', `6=${n.raft}`]);
    assert.notEqual(await raftBusy.exited, 0);
    assert.match(raftBusy.err, /raft address .* address in use/);
    const help = run(['kv', '--help']);
    assert.equal(await help.exited, 0);
    assert.match(help.out, /--initial-members/);
    holder.proc.kill('SIGTERM');
    assert.equal(await holder.exited, 0);
  } finally {
    await killAll();
  }
});
