/**
 * Space reclamation in the WAL: segments whose entries are all removed are deleted, and
 * idle replicas whose old entries sit among dead data do not pin the log: their live
 * entries are copied forward so the space bound of README "Log storage" holds.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import { ents } from './compliance.js';
import { removeDir, segmentFiles, tempDir } from './helpers.js';

const SEG = 16 * 1024;

void it('reclaims space while some shards sit idle, within the stated bound', async () => {
  const dir = tempDir('gc');
  let db = await WalLogDB.open({ dir, segmentBytes: SEG, compactionCopyBytes: 8 * 1024 });
  try {
    // Three idle shards write once, then never again; their entries must stay readable.
    await db.saveUpdates([1, 2, 3].map((s) => ({ shardId: s, replicaId: 1, entries: ents(1, 20, 1, 50) })));
    const last = new Map<number, number>();
    for (let round = 0; round < 300; round++) {
      const updates = [];
      for (let s = 10; s < 20; s++) {
        const from = (last.get(s) ?? 0) + 1;
        last.set(s, from + 2);
        updates.push({ shardId: s, replicaId: 1, entries: ents(from, from + 2, 1, 120) });
      }
      await db.saveUpdates(updates);
      if (round % 10 === 9) {
        for (let s = 10; s < 20; s++) await db.compactEntriesTo(s, 1, (last.get(s) as number) - 6);
      }
    }
    const st = db.stats();
    assert.ok(st.copiedBytes > 0, 'idle shards were copied forward');
    assert.ok(st.totalBytes <= 2 * st.liveBytes + 3 * SEG, `space bound: ${JSON.stringify(st)}`);
    assert.ok(segmentFiles(dir).length <= Math.ceil(st.totalBytes / SEG) + 2);
    await db.close();
    db = await WalLogDB.open({ dir, segmentBytes: SEG });
    for (const s of [1, 2, 3]) {
      assert.deepEqual(db.readEntries(s, 1, 1, 21, Infinity).map((e) => e.index), ents(1, 20, 1).map((e) => e.index));
      assert.deepEqual(Buffer.from((db.readEntries(s, 1, 7, 8, Infinity)[0])?.cmd ?? []), Buffer.from((ents(7, 7, 1, 50)[0])?.cmd ?? []));
    }
    for (let s = 10; s < 20; s++) assert.equal(db.getEntryRange(s, 1)?.lastIndex, last.get(s));
  } finally {
    await db.close();
    removeDir(dir);
  }
});

void it('deletes segments once everything in them is compacted', async () => {
  const dir = tempDir('gc-all');
  const db = await WalLogDB.open({ dir, segmentBytes: SEG });
  try {
    for (let b = 0; b < 100; b++) await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(b * 4 + 1, b * 4 + 4, 1, 200) }]);
    assert.ok(segmentFiles(dir).length > 5);
    await db.compactEntriesTo(1, 1, 400);
    await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(401, 401, 1) }]);
    assert.ok(segmentFiles(dir).length <= 2, `segments left: ${segmentFiles(dir).length}`);
  } finally {
    await db.close();
    removeDir(dir);
  }
});
