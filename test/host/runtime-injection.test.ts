/**
 * A NodeHost takes its file system, timers, clock and randomness from the runtime it is given:
 * three hosts on a recording runtime (wrapping Node's) over a memory network on the same
 * runtime run a shard — proposals, snapshots, compaction, a restart that catches up through a
 * snapshot stream — and every file left in their directories was created through the runtime;
 * the WAL's writes and syncs, the snapshot files, the lock and identity files, the host ids,
 * the ticker and the request deadlines all went through it. The host registry (TCP transport
 * only) saves through its runtime too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';
import { MemoryNetwork } from '../../src/transport/memory-network.js';
import { HostRegistry } from '../../src/transport/host-registry.js';
import { recordingRuntime, walk } from '../support/recording-runtime.js';
import { removeDir, tempDirFor } from '../support/temp.js';

test('a NodeHost on an injected runtime: WAL, snapshots, lock, host id, ticker and deadlines go through it, and no file appears any other way', { timeout: 60_000 }, async () => {
  const c = new HostCluster();
  const { runtime, rec } = recordingRuntime();
  const network = new MemoryNetwork({ seed: 11, runtime });
  const start = (i: number) => c.start(i, { runtime, transportFactory: (handler) => network.createTransport({ address: c.address(i), handler }) });
  const config = { compactionOverhead: 2 };
  try {
    for (const i of [1, 2, 3]) await start(i);
    await c.startShard(1, [1, 2, 3], { config });
    let leader = await c.waitLeader(1, [1, 2, 3]);
    for (let k = 0; k < 10; k++) await c.get(leader).propose(1, setCmd(`k${k}`, 'v'), { timeoutMs: 7777 });
    // A follower goes away; the others move on, snapshot and compact past what it has.
    const away = leader === 3 ? 2 : 3;
    await c.crash(away);
    leader = await c.waitLeader(1, [1, 2, 3].filter((i) => i !== away));
    for (let k = 10; k < 30; k++) await c.get(leader).propose(1, setCmd(`k${k}`, 'v'));
    for (const i of [1, 2, 3].filter((h) => h !== away)) await c.get(i).requestSnapshot(1);
    // It restarts from its data and catches up through a snapshot stream (the log it needs is gone).
    await start(away);
    await c.startShard(1, [away], { members: [] });
    await c.until(() => c.sm(away, 1).map.get('k29') === 'v', 20_000, 'the restarted replica caught up');
    for (const i of [1, 2, 3]) await c.crash(i); // closed, directories kept

    for (const i of [1, 2, 3]) {
      const dir = c.hostDir(i);
      assert.ok(rec.created.has(path.join(dir, 'LOCK')), `host ${i}: the lock file was created through the runtime`);
      assert.ok(rec.calls('renameSync', path.join(dir, 'NODEHOST.json')).length >= 1, `host ${i}: the identity file`);
      const wal = path.join(dir, 'wal');
      assert.ok(rec.calls('writeSync', wal).length + rec.calls('write', wal).length > 0, `host ${i}: WAL writes`);
      assert.ok(rec.calls('fdatasyncSync', wal).length + rec.calls('fdatasync', wal).length > 0, `host ${i}: WAL syncs`);
      assert.ok(rec.calls('handle.sync', path.join(dir, 'snapshots')).length > 0, `host ${i}: snapshot files synced through the runtime`);
    }
    // (A copy is recorded under its source, the sender's snapshot.)
    assert.ok(rec.calls('promises.copyFile', 'snapshots').length > 0, 'the snapshot stream copied into the restarted host through the runtime');
    assert.ok((rec.random.get('bytes') ?? 0) >= 3, 'host ids from the runtime\'s random bytes');
    assert.ok((rec.random.get('int') ?? 0) >= 3, 'replica keys and seeds from the runtime\'s random ints');
    assert.ok(rec.timers.some((t) => t.kind === 'setInterval' && t.ms === 20), 'the ticker is the runtime\'s interval (rttMillisecond 20)');
    assert.ok(rec.timers.some((t) => t.kind === 'setInterval' && t.ms === 10), 'the request deadlines run on the runtime\'s interval');
    assert.ok(rec.timers.filter((t) => t.kind === 'setImmediate').length > 100, 'engine passes and network flushes hand off through the runtime');

    // Nothing in the hosts' directories was created any other way.
    const onDisk = walk(c.dir);
    assert.ok(onDisk.length > 20, onDisk.join('\n'));
    assert.deepEqual(onDisk.filter((p) => !rec.made(p)), [], 'every path was created through the runtime');
  } finally {
    await c.closeAll();
  }
});

test('the host registry saves its file through its runtime: the save timer and the write', async () => {
  const dir = tempDirFor('host', 'registry-runtime');
  const { runtime, rec } = recordingRuntime();
  try {
    const file = path.join(dir, 'hosts.json');
    const self = { hostId: '0123456789abcdef', address: '127.0.0.1:1', incarnation: 0, former: [] };
    const r = new HostRegistry({ self, file, runtime });
    r.learn([{ hostId: 'fedcba9876543210', address: '127.0.0.1:2', incarnation: 0, former: [] }]);
    assert.ok(rec.timers.some((t) => t.kind === 'setTimeout' && t.ms === 200), 'the save is scheduled on the runtime\'s timers');
    r.flush();
    assert.ok(rec.calls('writeFileSync', `${file}.tmp`).length === 1 && rec.calls('renameSync', `${file}.tmp`).length === 1);
    assert.ok(rec.made(file));
    assert.deepEqual(new HostRegistry({ self, file, runtime }).entries().map((e) => e.hostId), ['fedcba9876543210']);
    assert.ok(rec.calls('readFileSync', file).length >= 1, 'loaded through the runtime');
  } finally {
    removeDir(dir);
  }
});

test('a state machine factory is handed the host\'s runtime, for the files and clock it keeps', { timeout: 30_000 }, async () => {
  const c = new HostCluster();
  const { runtime, rec } = recordingRuntime();
  try {
    const nh = await c.start(1, { runtime });
    const seen: Array<{ shardId: number; replicaId: number; runtime: unknown }> = [];
    await nh.startReplica(new Map([[1, c.address(1)]]), false, (shardId, replicaId, context) => {
      seen.push({ shardId, replicaId, runtime: context.runtime });
      // A state machine's own file, written through what it was handed, is seen by the runtime.
      context.runtime.fs.writeFileSync(path.join(c.hostDir(1), 'sm-owned'), 'x');
      return new KvStateMachine();
    }, { shardId: 5, replicaId: 1 });
    assert.deepEqual(seen.map((s) => [s.shardId, s.replicaId]), [[5, 1]]);
    assert.equal(seen[0]!.runtime, runtime);
    assert.ok(rec.made(path.join(c.hostDir(1), 'sm-owned')));
  } finally {
    await c.closeAll();
  }
});
