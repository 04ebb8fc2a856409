/**
 * SNAPSHOTS.md §5: what a snapshot does to the log and to the snapshot set. Exported
 * snapshots never touch either; a local snapshot at I with overhead C leaves no entry at or
 * below I − C in the LogDB (read back from the WAL after closing the host) and gives the WAL's
 * disk space back; only the newest few snapshots stay on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';
import { finalIndexes, snapshotDirOf, snapshotEntries, tempNames, until } from './support/snapshot-sm.js';
import { EntriesCompactedError } from '../../src/errors.js';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import type { NodeHost, ReplicaInfo } from '../../src/host/nodehost.js';
import type { NodeHostConfig, ShardConfig } from '../../src/host/config.js';
import { METADATA_FILE } from '../../src/snapshot/metadata-file.js';
import { dataFileName, exportDirName, finalDirName } from '../../src/snapshot/snapshot-names.js';

async function single(c: HostCluster, shard: Partial<ShardConfig> = {}, host: Partial<NodeHostConfig> = {}): Promise<NodeHost> {
  const nh = await c.start(1, host);
  await nh.startReplica(c.members([1]), false, () => new KvStateMachine(), { shardId: 1, replicaId: 1, electionRTT: 10, ...shard });
  await c.until(() => nh.getNodeHostInfo().shards[0]?.isLeader === true, 5000, 'single replica leads');
  return nh;
}

function info(nh: NodeHost): ReplicaInfo {
  const i = nh.getNodeHostInfo().shards[0];
  assert.ok(i !== undefined);
  return i;
}

/** Proposes `n` commands, `parallel` at a time; returns the last index. */
async function write(nh: NodeHost, n: number, prefix = 'k', value = 'v', parallel = 1): Promise<number> {
  let last = 0;
  for (let k = 0; k < n; k += parallel) {
    const batch = [];
    for (let j = k; j < Math.min(n, k + parallel); j++) batch.push(nh.propose(1, setCmd(`${prefix}${j}`, value)));
    for (const r of await Promise.all(batch)) last = Math.max(last, Number(new TextDecoder().decode(r.data)));
  }
  return last;
}

/** Opens the host's WAL after the host closed and returns what it holds for shard 1 replica 1. */
async function readWal(hostDir: string, segmentBytes?: number): Promise<{ range: { firstIndex: number; lastIndex: number } | null; snapshot: number; db: WalLogDB }> {
  const db = await WalLogDB.open({ dir: join(hostDir, 'wal'), ...(segmentBytes === undefined ? {} : { segmentBytes }) });
  return { range: db.getEntryRange(1, 1), snapshot: db.getSnapshot(1, 1)?.index ?? 0, db };
}

test('§5.4 exported snapshots never touch the log, the snapshot index, or the replica\'s snapshot set (compaction options ignored)', async () => {
  const c = new HostCluster();
  try {
    const nh = await single(c, { compactionOverhead: 0 });
    const events: Array<{ index: number; exported: boolean }> = [];
    let compactions = 0;
    nh.on('snapshot:created', (e) => events.push({ index: e.index, exported: e.exported }));
    nh.on('log:compacted', () => { compactions++; });
    await write(nh, 10);
    const local = await nh.requestSnapshot(1, { overrideCompactionOverhead: true, compactionOverhead: 3 });
    const after = info(nh);
    assert.equal(after.snapshotIndex, local);
    assert.equal(after.firstLogIndex, local - 3 + 1);
    const localSet = snapshotEntries(c.hostDir(1), 1, 1);
    compactions = 0;

    await write(nh, 20, 'x');
    const exportDir = join(c.dir, 'export');
    mkdirSync(exportDir);
    const exp = await nh.requestSnapshot(1, { exported: true, exportPath: exportDir, overrideCompactionOverhead: true, compactionIndex: local + 5 });
    assert.ok(exp >= local + 20);
    const now = info(nh);
    assert.equal(now.snapshotIndex, local, 'the snapshot index is unchanged');
    assert.equal(now.firstLogIndex, after.firstLogIndex, 'the log is not compacted');
    assert.deepEqual(snapshotEntries(c.hostDir(1), 1, 1), localSet, 'the replica\'s own snapshot set is unchanged');
    assert.equal(compactions, 0);
    assert.deepEqual(events.at(-1), { index: exp, exported: true });
    // The export is one complete, committed snapshot directory, no temp dir.
    assert.deepEqual(readdirSync(exportDir), [exportDirName(1, 1, exp)]);
    const dir = join(exportDir, exportDirName(1, 1, exp));
    assert.ok(existsSync(join(dir, METADATA_FILE)) && existsSync(join(dir, dataFileName(exp))));

    const lastIndex = now.lastLogIndex;
    await c.crash(1);
    const wal = await readWal(c.hostDir(1));
    try {
      assert.equal(wal.snapshot, local, 'LogDB snapshot record is the local one');
      assert.equal(wal.range?.firstIndex, local - 3 + 1);
      assert.ok((wal.range?.lastIndex ?? 0) >= lastIndex);
    } finally {
      await wal.db.close();
    }
  } finally {
    await c.closeAll();
  }
});

test('§5.6 after a snapshot at I with overhead C the LogDB holds no entry at or below I − C (config, override and compactionIndex)', async () => {
  const c = new HostCluster();
  try {
    const nh = await single(c, { compactionOverhead: 5 });
    await write(nh, 30);
    // The configured overhead.
    const i1 = await nh.requestSnapshot(1);
    assert.equal(info(nh).firstLogIndex, i1 - 5 + 1);
    assert.equal(info(nh).snapshotIndex, i1);
    // An overhead given with the request.
    await write(nh, 10, 'b');
    const i2 = await nh.requestSnapshot(1, { overrideCompactionOverhead: true, compactionOverhead: 2 });
    assert.equal(info(nh).firstLogIndex, i2 - 2 + 1);
    // An explicit compaction index, with the override (dragonboat's rule).
    await write(nh, 10, 'c');
    const i3 = await nh.requestSnapshot(1, { overrideCompactionOverhead: true, compactionIndex: i2 + 4 });
    assert.equal(info(nh).firstLogIndex, i2 + 4 + 1);
    // Without the override compactionIndex is ignored: the configured overhead applies.
    await write(nh, 10, 'c2');
    const i3b = await nh.requestSnapshot(1, { compactionIndex: i2 + 6 });
    const cut = i3b - 5;
    assert.equal(info(nh).firstLogIndex, cut + 1, 'compactionIndex without overrideCompactionOverhead is ignored');
    // A compaction index at or past the snapshot compacts nothing (dragonboat: index >= compactionIndex + 1).
    await write(nh, 10, 'd');
    const i4 = await nh.requestSnapshot(1, { overrideCompactionOverhead: true, compactionIndex: 1_000_000 });
    assert.equal(info(nh).firstLogIndex, cut + 1, 'compactionIndex past the snapshot compacts nothing');
    assert.equal(info(nh).snapshotIndex, i4);
    // An overhead larger than the index compacts nothing more.
    await write(nh, 3, 'e');
    const before = info(nh).firstLogIndex;
    await nh.requestSnapshot(1, { overrideCompactionOverhead: true, compactionOverhead: 1_000_000 });
    assert.equal(info(nh).firstLogIndex, before);
    assert.ok(i3 > i2);

    const tail = await write(nh, 4, 'f');
    await c.crash(1);
    const wal = await readWal(c.hostDir(1));
    try {
      assert.ok(wal.range !== null);
      assert.equal(wal.range.firstIndex, cut + 1, 'no entry at or below the compaction point survives in the WAL');
      assert.equal(wal.range.lastIndex >= tail, true);
      assert.throws(() => wal.db.readEntries(1, 1, cut, cut + 1, Infinity), EntriesCompactedError);
      assert.equal(wal.db.readEntries(1, 1, cut + 1, tail + 1, Infinity).length, tail - cut);
    } finally {
      await wal.db.close();
    }
    // And a restart serves the same state from snapshot + tail.
    const nh2 = await c.start(1);
    let sm: KvStateMachine | undefined;
    await nh2.startReplica(new Map(), false, () => (sm = new KvStateMachine()), { shardId: 1, replicaId: 1, electionRTT: 10 });
    await c.until(() => sm?.map.get('f3') === 'v', 5000, 'restart replays the tail');
    assert.equal(sm?.map.size, 30 + 10 * 4 + 3 + 4);
  } finally {
    await c.closeAll();
  }
});

test('§5.6 compacted WAL space is reclaimed: segment files are removed after compaction', async () => {
  const c = new HostCluster();
  const SEG = 64 * 1024;
  const walDirOf = (i: number): string => join(c.hostDir(i), 'wal');
  const walBytes = (): { bytes: number; files: number } => {
    const names = readdirSync(walDirOf(1)).filter((n) => n.endsWith('.wal'));
    return { bytes: names.reduce((s, n) => s + statSync(join(walDirOf(1), n)).size, 0), files: names.length };
  };
  try {
    const nh = await single(c, { compactionOverhead: 5 }, {
      logDBFactory: (dir, walDir) => WalLogDB.open({ dir: walDir ?? join(dir, 'wal'), segmentBytes: SEG }),
    });
    const big = 'x'.repeat(2000);
    await write(nh, 400, 'k', big, 20);
    const full = walBytes();
    assert.ok(full.bytes > 700_000 && full.files >= 10, `WAL grew: ${JSON.stringify(full)}`);
    const idx = await nh.requestSnapshot(1);
    assert.equal(info(nh).firstLogIndex, idx - 5 + 1);
    // Reclamation runs after commits: keep committing small entries until the space comes back.
    const end = Date.now() + 8000;
    for (let k = 0; walBytes().bytes >= full.bytes / 3; k++) {
      assert.ok(Date.now() < end, `WAL space not reclaimed: ${JSON.stringify(walBytes())} (was ${JSON.stringify(full)})`);
      await nh.propose(1, setCmd(`small${k}`, 's'));
      await new Promise((r) => setTimeout(r, 5));
    }
    const small = walBytes();
    assert.ok(small.files < full.files, `fewer segments: ${small.files} < ${full.files}`);
  } finally {
    await c.closeAll();
  }
});

test('§5.6 only the newest few snapshots are kept on disk', async () => {
  const c = new HostCluster();
  try {
    const nh = await single(c);
    const taken: number[] = [];
    for (let s = 0; s < 6; s++) {
      await write(nh, 3, `s${s}-`);
      taken.push(await nh.requestSnapshot(1));
    }
    const names = snapshotEntries(c.hostDir(1), 1, 1);
    assert.deepEqual(tempNames(names), []);
    assert.deepEqual(finalIndexes(names), taken.slice(-3));
    for (const i of taken.slice(-3)) assert.ok(existsSync(join(snapshotDirOf(c.hostDir(1), 1, 1), finalDirName(i), METADATA_FILE)));
  } finally {
    await c.closeAll();
  }
});

test('§5.6 with disableAutoCompaction a snapshot leaves the log; requestCompaction then removes up to I − C', async () => {
  const c = new HostCluster();
  try {
    const nh = await single(c, { compactionOverhead: 4, disableAutoCompaction: true });
    const compacted: number[] = [];
    nh.on('log:compacted', (e) => compacted.push(e.index));
    await write(nh, 20);
    const first = info(nh).firstLogIndex;
    const idx = await nh.requestSnapshot(1);
    assert.equal(info(nh).snapshotIndex, idx);
    assert.equal(info(nh).firstLogIndex, first, 'no automatic compaction');
    assert.equal(await nh.requestCompaction(1), idx - 4);
    assert.equal(info(nh).firstLogIndex, idx - 4 + 1);
    assert.deepEqual(compacted, [idx - 4]);
    await c.crash(1);
    const wal = await readWal(c.hostDir(1));
    try {
      assert.equal(wal.range?.firstIndex, idx - 4 + 1);
    } finally {
      await wal.db.close();
    }
  } finally {
    await c.closeAll();
  }
});

test('events: a snapshot that compacts the log emits log:compacted with the compaction index', async () => {
  const c = new HostCluster();
  try {
    const nh = await single(c, { compactionOverhead: 2 });
    const compacted: number[] = [];
    nh.on('log:compacted', (e) => compacted.push(e.index));
    await write(nh, 10);
    const idx = await nh.requestSnapshot(1);
    assert.equal(info(nh).firstLogIndex, idx - 2 + 1);
    await until(() => compacted.length > 0, 1000, 'log:compacted').catch(() => {});
    assert.deepEqual(compacted, [idx - 2], 'log entries were removed by the snapshot: observers are told (events.ts "Log entries up to index were removed")');
  } finally {
    await c.closeAll();
  }
});

test('events: removing snapshots older than the newest few emits snapshot:compacted', async () => {
  const c = new HostCluster();
  try {
    const nh = await single(c);
    const removed: number[] = [];
    nh.on('snapshot:compacted', (e) => removed.push(e.index));
    const taken: number[] = [];
    for (let s = 0; s < 4; s++) {
      await write(nh, 2, `s${s}-`);
      taken.push(await nh.requestSnapshot(1));
    }
    assert.deepEqual(finalIndexes(snapshotEntries(c.hostDir(1), 1, 1)), taken.slice(-3));
    await until(() => removed.length > 0, 1000, 'snapshot:compacted').catch(() => {});
    assert.ok(removed.length > 0, 'snapshot 1 was removed from disk but no snapshot:compacted event was emitted');
  } finally {
    await c.closeAll();
  }
});
