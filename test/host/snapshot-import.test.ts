import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';
import { importSnapshot } from '../../src/host/import-snapshot.js';
import { DirNotExistError, ImportRollbackError, InvalidOperationError } from '../../src/errors.js';
import { exportDirName } from '../../src/snapshot/snapshot-names.js';

test('an exported snapshot rebuilds a shard whose quorum is lost for good (§6)', async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) {
      const nh = await c.start(i);
      await nh.startReplica(c.members([1, 2, 3]), false, () => new KvStateMachine(), { shardId: 1, replicaId: i });
    }
    await c.until(() => c.leaderOf(1) !== 0 && [1, 2, 3].every((i) => c.get(i).getLeaderId(1).valid), 5000, 'leader');
    const l = c.get(c.leaderOf(1));
    for (let k = 0; k < 30; k++) await l.propose(1, setCmd(`k${k}`, `v${k}`));
    const exportDir = join(c.dir, 'export');
    await assert.rejects(l.requestSnapshot(1, { exported: true, exportPath: exportDir }), DirNotExistError);
    mkdirSync(exportDir);
    const index = await l.requestSnapshot(1, { exported: true, exportPath: exportDir });
    assert.ok(index >= 33);
    // An export never touches the replica's own snapshot index or log.
    assert.equal(l.getNodeHostInfo().shards[0]?.snapshotIndex, 0);
    const exported = join(exportDir, readdirSync(exportDir)[0] as string);
    // The host is running: import refuses.
    await assert.rejects(importSnapshot({ nodeHostDir: join(c.dir, 'host-1'), from: exported, replicaId: 1, members: c.members([1]) }), InvalidOperationError);
    for (const i of [1, 2, 3]) await c.get(i).close();
    c.hosts.clear();
    // Hosts 2 and 3 are lost for good.
    rmSync(join(c.dir, 'host-2'), { recursive: true, force: true });
    rmSync(join(c.dir, 'host-3'), { recursive: true, force: true });
    const members = c.members([1, 4, 5]);
    for (const i of [1, 4, 5]) {
      const meta = await importSnapshot({ nodeHostDir: join(c.dir, `host-${i}`), from: exported, replicaId: i, members, shardId: 1 });
      assert.equal(meta.index, index);
      assert.deepEqual([...meta.membership.voters.keys()].sort(), [1, 4, 5]);
      assert.ok(meta.membership.removed.has(2) && meta.membership.removed.has(3));
    }
    const sms = new Map<number, KvStateMachine>();
    for (const i of [1, 4, 5]) {
      const nh = await c.start(i);
      await nh.startReplica(new Map(), false, () => { const sm = new KvStateMachine(); sms.set(i, sm); return sm; }, { shardId: 1, replicaId: i });
      assert.equal(sms.get(i)?.map.get('k29'), 'v29', `replica ${i} holds the imported state`);
    }
    await c.until(() => c.leaderOf(1) !== 0 && [1, 4, 5].every((i) => c.get(i).getLeaderId(1).valid), 8000, 'leader after import');
    const nl = c.get(c.leaderOf(1));
    await nl.propose(1, setCmd('after', 'import'));
    assert.equal(await c.get(4).read(1, 'after'), 'import');
    assert.equal(await c.get(5).read(1, 'k0'), 'v0');
  } finally {
    await c.closeAll();
  }
});

test('import refuses to roll a replica back to an older index than it holds (ImportRollbackError, nothing changed); force imports', async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    await nh.startReplica(c.members([1]), false, () => new KvStateMachine(), { shardId: 1, replicaId: 1 });
    await c.until(() => nh.getLeaderId(1).valid, 5000, 'leader');
    for (let k = 0; k < 5; k++) await nh.propose(1, setCmd(`k${k}`, 'old'));
    const exportDir = join(c.dir, 'export');
    mkdirSync(exportDir);
    const index = await nh.requestSnapshot(1, { exported: true, exportPath: exportDir });
    const exported = join(exportDir, exportDirName(1, 1, index));
    for (let k = 0; k < 5; k++) await nh.propose(1, setCmd(`k${k}`, 'new'));
    await nh.requestSnapshot(1);
    await nh.close();
    c.hosts.clear();
    const hostDir = join(c.dir, 'host-1');
    const before = readdirSync(join(hostDir, 'snapshots', 'shard-1-replica-1'));
    const refused = await importSnapshot({ nodeHostDir: hostDir, from: exported, replicaId: 1, members: c.members([1]) }).then(() => null, (e: unknown) => e);
    assert.ok(refused instanceof ImportRollbackError, String(refused));
    assert.equal(refused.code, 'IMPORT_ROLLBACK');
    assert.equal(refused.index, index);
    assert.ok(refused.held > index, `held ${refused.held}`);
    assert.deepEqual(readdirSync(join(hostDir, 'snapshots', 'shard-1-replica-1')), before, 'nothing changed');
    // Restarted as it was: the newer state is still there.
    let sm: KvStateMachine | undefined;
    const again = await c.start(1);
    await again.startReplica(new Map(), false, () => (sm = new KvStateMachine()), { shardId: 1, replicaId: 1 });
    assert.equal(sm?.map.get('k4'), 'new');
    await again.close();
    c.hosts.clear();
    // With force the replica is rolled back to the export.
    const meta = await importSnapshot({ nodeHostDir: hostDir, from: exported, replicaId: 1, members: c.members([1]), force: true });
    assert.equal(meta.index, index);
    // Holding exactly the snapshot's index (a survivor importing its own export) needs no force.
    assert.equal((await importSnapshot({ nodeHostDir: hostDir, from: exported, replicaId: 1, members: c.members([1]) })).index, index);
    const rolled = await c.start(1);
    await rolled.startReplica(new Map(), false, () => (sm = new KvStateMachine()), { shardId: 1, replicaId: 1 });
    assert.equal(sm?.map.get('k4'), 'old');
  } finally {
    await c.closeAll();
  }
});
