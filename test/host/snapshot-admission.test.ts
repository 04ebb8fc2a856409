/**
 * SNAPSHOTS.md §1 (the request) and §2 (admission): each refusal has its own typed error,
 * nothing is queued by a refused request, and no refused, timed-out or busy request leaves a
 * partial file in the replica's snapshot directory or the export directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { HostCluster } from './support/cluster.js';
import { ConcurrentKv, KvStateMachine, setCmd } from './support/kv.js';
import { rejectsWith, settle } from './support/assert.js';
import {
  CapturingLogger, SlowConcurrentKv, SlowKv, finalIndexes, snapshotDirOf, snapshotEntries, tempNames, until,
} from './support/snapshot-sm.js';
import { openSnapshotFile } from '../../src/snapshot/file-reader.js';
import { dataFileName, exportDirName, finalDirName } from '../../src/snapshot/snapshot-names.js';
import { verifySnapshotDir } from '../../src/snapshot/snapshot-dir.js';
import {
  DirNotExistError, InvalidOptionError, RejectedError, ShardNotFoundError, SystemBusyError, TimeoutError,
} from '../../src/errors.js';
import type { NodeHost } from '../../src/host/nodehost.js';
import type { NodeHostConfig, ShardConfig } from '../../src/host/config.js';
import type { ConcurrentStateMachine, StateMachine } from '../../src/contracts/state-machine.js';

type Make = { regular: () => StateMachine } | { concurrent: () => ConcurrentStateMachine };

/** Host 1 of `c` running shard 1 as a single replica; waits until it leads. */
async function single(c: HostCluster, make: Make, shard: Partial<ShardConfig> = {}, host: Partial<NodeHostConfig> = {}): Promise<NodeHost> {
  const nh = await c.start(1, host);
  const cfg = { shardId: 1, replicaId: 1, electionRTT: 10, ...shard };
  if ('regular' in make) await nh.startReplica(c.members([1]), false, make.regular, cfg);
  else await nh.startConcurrentReplica(c.members([1]), false, make.concurrent, cfg);
  await c.until(() => nh.getNodeHostInfo().shards[0]?.isLeader === true, 5000, 'single replica leads');
  return nh;
}

async function write(nh: NodeHost, n: number, prefix = 'k'): Promise<void> {
  for (let k = 0; k < n; k++) await nh.propose(1, setCmd(`${prefix}${k}`, `v${k}`));
}

test('§1.1 unknown shard: ShardNotFoundError at once (local and exported), nothing written', async () => {
  const c = new HostCluster();
  try {
    const nh = await single(c, { regular: () => new KvStateMachine() });
    await write(nh, 3);
    const exportDir = join(c.dir, 'export');
    mkdirSync(exportDir);
    await rejectsWith(nh.requestSnapshot(99), ShardNotFoundError, 'SHARD_NOT_FOUND');
    await rejectsWith(nh.requestSnapshot(99, { exported: true, exportPath: exportDir }), ShardNotFoundError, 'SHARD_NOT_FOUND');
    assert.deepEqual(readdirSync(exportDir), []);
    assert.deepEqual(snapshotEntries(c.hostDir(1), 1, 1), []);
    assert.ok(!existsSync(join(c.hostDir(1), 'snapshots', 'shard-99-replica-1')));
    // Shard 1 was not affected: its request slot is free.
    assert.ok(await nh.requestSnapshot(1) > 0);
  } finally {
    await c.closeAll();
  }
});

test('§1.2 bad export paths: DirNotExistError for a missing dir or a file, other stat errors passed through; nothing queued or written', async () => {
  const c = new HostCluster();
  try {
    const nh = await single(c, { regular: () => new KvStateMachine() });
    await write(nh, 5);
    let created = 0;
    nh.on('snapshot:created', () => { created++; });
    const missing = join(c.dir, 'no-such-dir');
    const aFile = join(c.dir, 'plain-file');
    writeFileSync(aFile, 'x');
    const before = readdirSync(c.dir).sort();

    await rejectsWith(nh.requestSnapshot(1, { exported: true, exportPath: missing }), DirNotExistError, 'DIR_NOT_EXIST');
    await rejectsWith(nh.requestSnapshot(1, { exported: true, exportPath: aFile }), DirNotExistError, 'DIR_NOT_EXIST');
    // stat of a path below a regular file fails with ENOTDIR: returned as that error.
    const below = join(aFile, 'sub');
    await assert.rejects(nh.requestSnapshot(1, { exported: true, exportPath: below }), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ENOTDIR');
      return true;
    });
    await rejectsWith(nh.requestSnapshot(1, { exported: true }), InvalidOptionError, 'INVALID_OPTION');

    // Nothing was queued: no snapshot taken, the replica's slot is free, no directory made.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(created, 0);
    assert.ok(!existsSync(missing));
    assert.deepEqual(readdirSync(c.dir).sort(), before);
    assert.deepEqual(snapshotEntries(c.hostDir(1), 1, 1), []);
    assert.equal(nh.getNodeHostInfo().shards[0]?.snapshotIndex, 0);
    const idx = await nh.requestSnapshot(1);
    assert.ok(idx > 0);
    assert.equal(created, 1);
  } finally {
    await c.closeAll();
  }
});

test('§1.3 exportPath without exported: a warning is logged and the path ignored (a local snapshot is taken)', async () => {
  const c = new HostCluster();
  try {
    const logger = new CapturingLogger();
    const nh = await single(c, { regular: () => new KvStateMachine() }, {}, { logger });
    await write(nh, 4);
    const exportDir = join(c.dir, 'export');
    mkdirSync(exportDir);
    const warnsBefore = logger.at('warn').length;
    const idx = await nh.requestSnapshot(1, { exportPath: exportDir });
    const warns = logger.lines.filter((l) => l.level === 'warn').slice(warnsBefore);
    assert.ok(warns.some((l) => /exportPath/i.test(l.msg)), `a warning about exportPath: ${JSON.stringify(warns)}`);
    assert.deepEqual(readdirSync(exportDir), [], 'nothing written to the ignored path');
    assert.equal(nh.getNodeHostInfo().shards[0]?.snapshotIndex, idx, 'the snapshot is the replica\'s own');
    assert.deepEqual(finalIndexes(snapshotEntries(c.hostDir(1), 1, 1)), [idx]);
    // An empty exportPath is no path at all: no warning.
    await write(nh, 1, 'again');
    const n = logger.at('warn').length;
    await nh.requestSnapshot(1, { exportPath: '' });
    assert.equal(logger.at('warn').length, n);
  } finally {
    await c.closeAll();
  }
});

test('§1.4 one pending request per replica: a second (local or exported) is SystemBusyError and writes nothing', async () => {
  const c = new HostCluster();
  try {
    const sm = new SlowKv(400);
    const nh = await single(c, { regular: () => sm });
    await write(nh, 5);
    const exportDir = join(c.dir, 'export');
    mkdirSync(exportDir);
    const first = nh.requestSnapshot(1);
    await rejectsWith(nh.requestSnapshot(1), SystemBusyError, 'SYSTEM_BUSY');
    await until(() => sm.stats.started === 1, 3000, 'the first save started');
    await rejectsWith(nh.requestSnapshot(1), SystemBusyError, 'SYSTEM_BUSY');
    await rejectsWith(nh.requestSnapshot(1, { exported: true, exportPath: exportDir }), SystemBusyError, 'SYSTEM_BUSY');
    const idx = await first;
    assert.equal(sm.stats.started, 1, 'only the first request was saved');
    assert.deepEqual(readdirSync(exportDir), []);
    const names = snapshotEntries(c.hostDir(1), 1, 1);
    assert.deepEqual(finalIndexes(names), [idx]);
    assert.deepEqual(tempNames(names), []);
  } finally {
    await c.closeAll();
  }
});

test('§1 compaction options follow dragonboat: both with the override is InvalidOptionError, either without it is ignored with a warning; bad numbers refused; nothing queued', async () => {
  const c = new HostCluster();
  try {
    const logger = new CapturingLogger();
    const nh = await single(c, { regular: () => new KvStateMachine() }, { compactionOverhead: 1000 }, { logger });
    await write(nh, 5);
    await rejectsWith(nh.requestSnapshot(1, { compactionIndex: 3, overrideCompactionOverhead: true, compactionOverhead: 1 }), InvalidOptionError, 'INVALID_OPTION');
    await rejectsWith(nh.requestSnapshot(1, { compactionIndex: -1 }), InvalidOptionError, 'INVALID_OPTION');
    await rejectsWith(nh.requestSnapshot(1, { overrideCompactionOverhead: true, compactionOverhead: 1.5 }), InvalidOptionError, 'INVALID_OPTION');
    assert.deepEqual(snapshotEntries(c.hostDir(1), 1, 1), []);
    // The combination dragonboat requires: compactionIndex with the override (overhead 0 = unset).
    const first = nh.getNodeHostInfo().shards[0]?.firstLogIndex ?? 0;
    const i1 = await nh.requestSnapshot(1, { overrideCompactionOverhead: true, compactionOverhead: 0, compactionIndex: 3 });
    assert.ok(i1 > 3);
    assert.equal(nh.getNodeHostInfo().shards[0]?.firstLogIndex, 4, `compacted to 3 (was from ${first})`);
    // Without the override compactionIndex counts for nothing: the configured overhead (1000) keeps the log.
    await write(nh, 3, 'more');
    const i2 = await nh.requestSnapshot(1, { compactionIndex: i1 });
    assert.ok(i2 > i1);
    assert.equal(nh.getNodeHostInfo().shards[0]?.firstLogIndex, 4, 'compactionIndex without the override is ignored');
    assert.ok(logger.lines.some((l) => l.level === 'warn' && /ignored without overrideCompactionOverhead/.test(l.msg)), JSON.stringify(logger.lines));
  } finally {
    await c.closeAll();
  }
});

test('§1 timeouts: a tiny timeoutMs (or an aborted signal) fails with TimeoutError; the save still completes whole, no partial files', async () => {
  const c = new HostCluster();
  try {
    const sm = new SlowKv(500);
    const nh = await single(c, { regular: () => sm });
    await write(nh, 5);
    const t0 = Date.now();
    await rejectsWith(nh.requestSnapshot(1, { timeoutMs: 30 }), TimeoutError, 'TIMEOUT');
    assert.ok(Date.now() - t0 < 400, `timed out after ${Date.now() - t0} ms, not after the slow save`);
    await until(() => sm.stats.started === 1, 2000, 'the save started');
    // While it is written, only a temporary directory exists: nothing visible as a snapshot.
    let names = snapshotEntries(c.hostDir(1), 1, 1);
    assert.deepEqual(finalIndexes(names), []);
    await until(() => sm.stats.finished === 1, 3000, 'the save finished');
    await until(() => tempNames(snapshotEntries(c.hostDir(1), 1, 1)).length === 0, 2000, 'temp dirs gone');
    names = snapshotEntries(c.hostDir(1), 1, 1);
    assert.equal(finalIndexes(names).length, 1);

    // An already-aborted signal fails at once; one aborted while waiting fails as a timeout too.
    await write(nh, 2, 'more');
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(nh.requestSnapshot(1, { signal: ac.signal }), TimeoutError, 'TIMEOUT');
    const ac2 = new AbortController();
    const p = nh.requestSnapshot(1, { signal: ac2.signal });
    setTimeout(() => ac2.abort(), 20);
    await rejectsWith(p, TimeoutError, 'TIMEOUT');
    await until(() => sm.stats.finished === 2, 3000, 'the second save finished');
    await until(() => tempNames(snapshotEntries(c.hostDir(1), 1, 1)).length === 0, 2000, 'temp dirs gone');
  } finally {
    await c.closeAll();
  }
});

test('§2 nothing new since the last requested local snapshot (or after a restart) → RejectedError, nothing written; exports are always taken', async () => {
  const c = new HostCluster();
  try {
    const nh = await single(c, { regular: () => new KvStateMachine() });
    await write(nh, 5);
    const exportDir = join(c.dir, 'export');
    mkdirSync(exportDir);
    // An export does not count as the requested snapshot: a local one at the same index is taken.
    const e = await nh.requestSnapshot(1, { exported: true, exportPath: exportDir });
    const i0 = await nh.requestSnapshot(1);
    assert.equal(i0, e);
    await rejectsWith(nh.requestSnapshot(1), RejectedError, 'REJECTED');
    // Nothing new applied: an export is taken all the same (quorum-loss repair), and again.
    assert.equal(await nh.requestSnapshot(1, { exported: true, exportPath: exportDir }), e);
    assert.equal(await nh.requestSnapshot(1, { exported: true, exportPath: exportDir }), e);
    assert.deepEqual(readdirSync(exportDir), [exportDirName(1, 1, e)], 'the same index re-exported replaces its directory');
    await rejectsWith(nh.requestSnapshot(1), RejectedError, 'REJECTED');
    assert.deepEqual(finalIndexes(snapshotEntries(c.hostDir(1), 1, 1)), [i0]);
    await write(nh, 1, 'new');
    const i = await nh.requestSnapshot(1);
    assert.ok(i > e);
    await rejectsWith(nh.requestSnapshot(1), RejectedError, 'REJECTED');
    assert.deepEqual(snapshotEntries(c.hostDir(1), 1, 1).length, 2);

    // After a restart, with nothing applied past the snapshot: rejected, nothing written.
    await c.crash(1);
    const nh2 = await c.start(1);
    await nh2.startReplica(new Map(), false, () => new KvStateMachine(), { shardId: 1, replicaId: 1, electionRTT: 10 });
    const r = await settle(nh2.requestSnapshot(1));
    const names = snapshotEntries(c.hostDir(1), 1, 1);
    assert.deepEqual(tempNames(names), []);
    if (r.ok) {
      // Only acceptable if the restarted replica applied something new (e.g. it was elected
      // and its no-op entry moved lastApplied): then the snapshot must be newer.
      assert.ok(r.value > i, `a snapshot at ${r.value} after one at ${i}`);
    } else {
      assert.ok(r.error instanceof RejectedError, `expected RejectedError, got ${String(r.error)}`);
      assert.deepEqual(finalIndexes(names), [i0, i]);
    }
  } finally {
    await c.closeAll();
  }
});

test('§2 a failed export (its directory removed mid-way) leaves nothing behind and does not block the next one', async () => {
  const c = new HostCluster();
  try {
    const sm = new SlowKv(300);
    const nh = await single(c, { regular: () => sm });
    await write(nh, 5);
    const exportDir = join(c.dir, 'export');
    mkdirSync(exportDir);
    const failing = settle(nh.requestSnapshot(1, { exported: true, exportPath: exportDir }));
    await until(() => sm.stats.started === 1, 3000, 'the export started');
    rmSync(exportDir, { recursive: true, force: true });
    const r = await failing;
    assert.ok(!r.ok, 'the export whose directory vanished fails');
    assert.ok(!existsSync(exportDir), 'nothing was recreated');
    // Nothing was applied since: the next export (same index) is taken and complete.
    mkdirSync(exportDir);
    const index = await nh.requestSnapshot(1, { exported: true, exportPath: exportDir });
    assert.deepEqual(readdirSync(exportDir), [exportDirName(1, 1, index)]);
    await verifySnapshotDir(join(exportDir, exportDirName(1, 1, index)));
    assert.equal(nh.getNodeHostInfo().shards[0]?.snapshotIndex, 0, 'exports never touch the replica\'s own snapshots');
  } finally {
    await c.closeAll();
  }
});

test('§2 two shards exporting the same index into one directory do not collide', async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    for (const shardId of [1, 2]) await nh.startReplica(c.members([1]), false, () => new KvStateMachine(), { shardId, replicaId: 1, electionRTT: 10 });
    await c.until(() => nh.getNodeHostInfo().shards.every((s) => s.isLeader), 5000, 'both shards lead');
    for (const shardId of [1, 2]) for (let k = 0; k < 4; k++) await nh.propose(shardId, setCmd(`k${k}`, `s${shardId}`));
    const exportDir = join(c.dir, 'export');
    mkdirSync(exportDir);
    const i1 = await nh.requestSnapshot(1, { exported: true, exportPath: exportDir });
    const i2 = await nh.requestSnapshot(2, { exported: true, exportPath: exportDir });
    assert.equal(i1, i2, 'the same index in both shards (the case that collided)');
    assert.deepEqual(readdirSync(exportDir).sort(), [exportDirName(1, 1, i1), exportDirName(2, 1, i2)]);
    assert.equal((await verifySnapshotDir(join(exportDir, exportDirName(1, 1, i1)))).meta.shardId, 1);
    assert.equal((await verifySnapshotDir(join(exportDir, exportDirName(2, 1, i2)))).meta.shardId, 2);
  } finally {
    await c.closeAll();
  }
});

test('§2/§3 a request arriving while a snapshot is being taken → RejectedError (concurrent SM; after a timed-out request and during an automatic one)', async () => {
  const c = new HostCluster();
  try {
    const sm = new SlowConcurrentKv(700);
    const nh = await single(c, { concurrent: () => sm });
    let created = 0;
    nh.on('snapshot:created', () => { created++; });
    await write(nh, 5);
    // The first request times out; its save goes on (taking snapshot), the slot is free again.
    await rejectsWith(nh.requestSnapshot(1, { timeoutMs: 30 }), TimeoutError, 'TIMEOUT');
    await until(() => sm.stats.started === 1, 2000, 'the save started');
    // Something new is applied meanwhile (concurrent: updates go on during the save).
    await write(nh, 1, 'during');
    const err = await rejectsWith(nh.requestSnapshot(1), RejectedError, 'REJECTED');
    assert.equal(sm.stats.finished, 0, 'rejected while the first save was still running');
    assert.equal(sm.stats.started, 1, 'the rejected request started no save');
    assert.match(err.message, /being taken/);
    await until(() => created === 1, 3000, 'first snapshot committed');
    // The rejected request still recorded lastApplied as the requested index (§2): with
    // nothing new since, a request is rejected as such; after a new entry it succeeds.
    await rejectsWith(nh.requestSnapshot(1), RejectedError, 'REJECTED');
    await write(nh, 1, 'after');
    const idx = await nh.requestSnapshot(1, { timeoutMs: 3000 });
    assert.ok(idx > 0);
    const names = snapshotEntries(c.hostDir(1), 1, 1);
    assert.deepEqual(tempNames(names), []);
    assert.equal(finalIndexes(names).length, 2);
  } finally {
    await c.closeAll();
  }
  const c2 = new HostCluster();
  try {
    const sm = new SlowConcurrentKv(700);
    const nh = await single(c2, { concurrent: () => sm }, { snapshotEntries: 5 });
    await write(nh, 6);
    await until(() => sm.stats.started === 1, 2000, 'the automatic snapshot started');
    await write(nh, 1, 'x');
    const auto = await rejectsWith(nh.requestSnapshot(1), RejectedError, 'REJECTED');
    assert.match(auto.message, /being taken/);
    assert.equal(sm.stats.finished, 0);
    await until(() => sm.stats.finished >= 1, 3000, 'the automatic snapshot finished');
  } finally {
    await c2.closeAll();
  }
});

test('§2/§3 the snapshot task is ordered in the apply queue: its data holds exactly the entries at or below its index, under load', async () => {
  for (const kind of ['regular', 'concurrent'] as const) {
    const c = new HostCluster();
    try {
      const nh = await single(c, kind === 'regular' ? { regular: () => new KvStateMachine() } : { concurrent: () => new ConcurrentKv() });
      // Proposals in flight on both sides of the request.
      const proposals: Array<Promise<{ key: string; index: number }>> = [];
      const fire = (from: number, to: number): void => {
        for (let k = from; k < to; k++) {
          const key = `k${k}`;
          proposals.push(nh.propose(1, setCmd(key, 'v')).then((r) => ({ key, index: Number(new TextDecoder().decode(r.data)) })));
        }
      };
      fire(0, 10);
      await Promise.all(proposals);
      fire(10, 40);
      await new Promise((r) => setImmediate(r));
      const snap = nh.requestSnapshot(1);
      fire(40, 70);
      const index = await snap;
      const done = await Promise.all(proposals);
      const expected = done.filter((p) => p.index <= index).map((p) => p.key).sort();
      const file = join(snapshotDirOf(c.hostDir(1), 1, 1), finalDirName(index), dataFileName(index));
      const data = JSON.parse(new TextDecoder().decode(await (await openSnapshotFile(file)).payload.readAll())) as Array<[string, string]>;
      assert.deepEqual(data.map(([k]) => k).sort(), expected, `${kind}: snapshot ${index} holds exactly the entries up to it`);
      assert.ok(expected.length >= 10, `${kind}: the entries applied before the request are in the snapshot`);
    } finally {
      await c.closeAll();
    }
  }
});
