/**
 * End to end, with real `sampan kv` processes: the README's quorum-loss repair with several
 * shards (issue 14 §5). Two of three replicas are SIGKILLed; every shard is exported from the
 * survivor over HTTP (also when a local snapshot at that index exists, and twice); the
 * survivor stops; `sampan snapshot import` rebuilds three new members in fresh data dirs;
 * the new cluster serves every key linearizably. Also: `snapshot import` refuses to roll a
 * data dir back without --force, and admin routes need `?shard` on a multi-shard replica.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from './support/cluster.js';
import { codeOf, http, killAll, run, type Child } from './support/procs.js';

const SHARDS = 3;
const KEYS = 45;

async function exited(c: Child): Promise<number | string> {
  return await c.exited;
}

test('quorum lost with three shards: export from the survivor, import into new members, every key served', { timeout: 60000 }, async () => {
  const c = new Cluster(['--shards', String(SHARDS)]);
  await c.allocate([1, 2, 3, 4, 5, 6]);
  const url = (id: number): string => c.node(id).url;
  try {
    for (const id of [1, 2, 3]) c.start(id, ['--initial-members', c.members([1, 2, 3])]);
    await Promise.all([1, 2, 3].map((id) => c.ready(id)));
    for (let k = 0; k < KEYS; k++) assert.equal((await http('PUT', `${url(2)}/kv/key-${k}`, `value-${k}`)).status, 200);
    // Linearizable reads through the survivor-to-be: it has applied every write.
    for (let k = 0; k < KEYS; k++) assert.equal((await http('GET', `${url(1)}/kv/key-${k}`)).text, `value-${k}`);
    // A local snapshot of shard 1 on the survivor: with the quorum gone nothing new is applied
    // after it, which is what made the export answer 409 "nothing new to snapshot".
    assert.equal((await http('POST', `${url(1)}/admin/snapshot?shard=1`)).status, 200);

    await Promise.all([c.stop(2), c.stop(3)]);

    const exportDir = join(c.root, 'backups');
    mkdirSync(exportDir);
    const q = `export=${encodeURIComponent(exportDir)}`;
    // Without ?shard on a multi-shard replica: 400, one clear line, nothing exported.
    const noShard = await http('POST', `${url(1)}/admin/snapshot?${q}`);
    assert.equal(noShard.status, 400, noShard.text);
    assert.equal(codeOf(noShard), 'INVALID_REQUEST');
    assert.match(noShard.json<{ error: { message: string } }>().error.message, /^query parameter 'shard' is required: this replica serves shards 1\.\.3$/);
    assert.equal((await http('POST', `${url(1)}/admin/leader-transfer?target=1`)).status, 400);
    assert.deepEqual(readdirSync(exportDir), []);

    const paths = new Map<number, string>();
    for (let shard = 1; shard <= SHARDS; shard++) {
      const first = await http('POST', `${url(1)}/admin/snapshot?shard=${shard}&${q}`);
      assert.equal(first.status, 200, `shard ${shard}: ${first.text}`);
      // Asked again with nothing new applied: exported again, same place.
      const again = await http('POST', `${url(1)}/admin/snapshot?shard=${shard}&${q}`);
      assert.equal(again.status, 200, `shard ${shard} again: ${again.text}`);
      const a = first.json<{ index: number; path: string }>();
      const b = again.json<{ index: number; path: string }>();
      assert.deepEqual(b, a);
      assert.match(a.path, new RegExp(`shard-${shard}-replica-1-snapshot-[0-9A-F]{16}$`));
      paths.set(shard, a.path);
    }
    // One directory per shard, even where shards stand at the same index.
    assert.equal(readdirSync(exportDir).length, SHARDS);
    assert.equal(await c.stop(1, 'SIGTERM'), 0);

    // Rebuild: three new members (ids 4, 5, 6) in fresh data dirs, every shard imported.
    const members = c.members([4, 5, 6]);
    for (let shard = 1; shard <= SHARDS; shard++) {
      const imports = [4, 5, 6].map((id) => run(['snapshot', 'import', '--data-dir', c.node(id).dataDir, '--from', paths.get(shard) as string,
        '--replica-id', String(id), '--members', members, '--shard-id', String(shard)]));
      for (const p of imports) assert.equal(await exited(p), 0, p.err);
    }
    for (const id of [4, 5, 6]) c.start(id);
    await Promise.all([4, 5, 6].map((id) => c.ready(id)));
    for (let k = 0; k < KEYS; k++) {
      const r = await http('GET', `${url(4 + (k % 3))}/kv/key-${k}`);
      assert.equal(r.status, 200, `key-${k}: ${r.text}`);
      assert.equal(r.text, `value-${k}`);
    }
    assert.equal((await http('PUT', `${url(6)}/kv/after`, 'repair')).status, 200);
    assert.equal((await http('GET', `${url(4)}/kv/after`)).text, 'repair');
    const st = (await http('GET', `${url(5)}/status`)).json<{ shards: Array<{ membership: { voters: Record<string, string>; removed: number[] } }> }>();
    assert.equal(st.shards.length, SHARDS);
    for (const s of st.shards) {
      assert.deepEqual(Object.keys(s.membership.voters).sort(), ['4', '5', '6']);
      assert.deepEqual([...s.membership.removed].sort(), [1, 2, 3]);
    }
  } finally {
    await killAll();
  }
});

test('snapshot import refuses to roll a data dir back to an older index (one line, exit 2, nothing changed); --force imports', { timeout: 30000 }, async () => {
  const c = new Cluster();
  await c.allocate([1]);
  const url = c.node(1).url;
  try {
    c.start(1, ['--initial-members', c.members([1])]);
    await c.ready(1);
    for (let k = 0; k < 5; k++) assert.equal((await http('PUT', `${url}/kv/k${k}`, 'old')).status, 200);
    const exportDir = join(c.root, 'export');
    mkdirSync(exportDir);
    const exp = await http('POST', `${url}/admin/snapshot?export=${encodeURIComponent(exportDir)}`);
    assert.equal(exp.status, 200, exp.text);
    const { index, path } = exp.json<{ index: number; path: string }>();
    for (let k = 0; k < 5; k++) assert.equal((await http('PUT', `${url}/kv/k${k}`, 'new')).status, 200);
    assert.equal(await c.stop(1, 'SIGTERM'), 0);

    const args = ['snapshot', 'import', '--data-dir', c.node(1).dataDir, '--from', path, '--replica-id', '1', '--members', c.members([1])];
    const refused = run(args);
    assert.equal(await refused.exited, 2, refused.err);
    assert.equal(refused.err.trim().split('\n').length, 1, refused.err);
    assert.match(refused.err, new RegExp(`^sampan snapshot: refused: .* at index \\d+, newer than the snapshot's ${index}; .*--force`));
    c.start(1);
    await c.ready(1);
    assert.equal((await http('GET', `${url}/kv/k4`)).text, 'new', 'the refused import changed nothing');
    assert.equal(await c.stop(1, 'SIGTERM'), 0);

    const forced = run([...args, '--force']);
    assert.equal(await forced.exited, 0, forced.err);
    c.start(1);
    await c.ready(1);
    assert.equal((await http('GET', `${url}/kv/k4`)).text, 'old', 'rolled back to the export');
  } finally {
    await killAll();
  }
});
