import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType } from '../../src/core/types.js';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import * as fs from 'node:fs';
import { ents, logDBCompliance } from './compliance.js';
import { removeDir, segmentFiles, tempDir } from './helpers.js';

for (const variant of [
  { name: 'WalLogDB', opts: {} },
  // Tiny segments and cache: every test crosses rotations, checkpoints and disk reads.
  { name: 'WalLogDB (4 KiB segments, no cache, separate walDir)', opts: { segmentBytes: 4096, cacheBytes: 0, compactionCopyBytes: 4096 }, walDir: true },
]) {
  logDBCompliance(variant.name, async () => {
    const dir = tempDir('compliance');
    const open = (): Promise<WalLogDB> =>
      WalLogDB.open({ dir, ...(variant.walDir === true ? { walDir: `${dir}/wal` } : {}), ...variant.opts });
    const h = {
      db: await open() as WalLogDB,
      reopen: async () => { await h.db.close(); h.db = await open(); return h.db; },
      cleanup: async () => { await h.db.close(); removeDir(dir); },
    };
    return h;
  });
}

test('WalLogDB: a save that only moves commit indexes is neither written nor synced at once (the next batch carries it); entries, votes and terms are synced', async () => {
  const dir = tempDir('mustsync');
  const db = await WalLogDB.open({ dir });
  try {
    const e = { term: 1, index: 1, type: EntryType.Application, key: 0, clientId: 0, seriesId: 0, respondedTo: 0, cmd: new Uint8Array(3) };
    const syncs = (): number => db.stats().syncs;
    let before = syncs();
    await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 1, vote: 1, commit: 0 }, entries: [e] }]);
    assert.equal(syncs(), before + 1, 'entries and a new term/vote are synced');
    before = syncs();
    const writes = db.stats().writes;
    await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 1, vote: 1, commit: 1 }, entries: [] }]);
    assert.equal(syncs(), before, 'a commit-only hard state is not synced');
    assert.equal(db.stats().writes, writes, 'nor written');
    assert.deepEqual(db.readHardState(1, 1), { term: 1, vote: 1, commit: 1 });
    await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 2, vote: 0, commit: 1 }, entries: [] }]);
    assert.equal(syncs(), before + 1, 'a new term is synced');
    await db.close();
    const again = await WalLogDB.open({ dir });
    assert.deepEqual(again.readHardState(1, 1), { term: 2, vote: 0, commit: 1 }, 'the deferred commit index came with the next write');
    await again.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 2, vote: 0, commit: 1 }, entries: [{ ...e, term: 2, index: 2 }] }]);
    await again.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 2, vote: 0, commit: 2 }, entries: [] }]);
    await again.close();
    const closed = await WalLogDB.open({ dir });
    assert.deepEqual(closed.readHardState(1, 1), { term: 2, vote: 0, commit: 2 }, 'a clean close writes a deferred commit index');
    await closed.close();
  } finally {
    await db.close();
    removeDir(dir);
  }
});

test('WalLogDB: the current segment is zero-filled ahead of the data; a crash leaves a zero tail that reopens as a clean end, and a torn frame inside it is cut', async () => {
  const dir = tempDir('prealloc');
  const copy = tempDir('prealloc-copy');
  const db = await WalLogDB.open({ dir });
  try {
    for (let b = 0; b < 20; b++) await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(b * 5 + 1, b * 5 + 5, 1, 100) }]);
    const files = segmentFiles(dir);
    const file = files[files.length - 1] as string;
    const onDisk = fs.statSync(file).size;
    assert.ok(onDisk >= 1 << 20, `zero-filled ahead: ${onDisk} bytes on disk`);
    // A crash now: copy the files as they are (the open LogDB never closes them).
    fs.cpSync(dir, copy, { recursive: true });
    const crashed = await WalLogDB.open({ dir: copy });
    assert.deepEqual(crashed.getEntryRange(1, 1), { firstIndex: 1, lastIndex: 100 });
    assert.equal(crashed.stats().truncatedAtOpen, 0, 'a zero tail is not a torn write');
    await crashed.close();
    // A torn write inside the preallocated space: half a frame, then zeros.
    const copied = segmentFiles(copy);
    const tornFile = copied[copied.length - 2] as string; // the segment the crash left (the reopen started a new one)
    const buf = fs.readFileSync(tornFile);
    // The first 40 bytes of the second frame (a batch: its payload is far longer), written
    // after the data: a batch whose write was cut short.
    const second = 20 + buf.readUInt32LE(8);
    const frame = Buffer.from(buf.subarray(second, second + 40));
    const fd = fs.openSync(tornFile, 'r+');
    fs.writeSync(fd, frame, 0, frame.length, buf.length);
    fs.writeSync(fd, Buffer.alloc(4096), 0, 4096, buf.length + frame.length);
    fs.closeSync(fd);
    for (const f of copied.slice(-1)) fs.rmSync(f);
    const again = await WalLogDB.open({ dir: copy });
    assert.deepEqual(again.getEntryRange(1, 1), { firstIndex: 1, lastIndex: 100 });
    assert.ok(again.stats().truncatedAtOpen > 0, 'the half frame is cut as a torn tail');
    await again.close();
  } finally {
    await db.close();
    removeDir(dir);
    removeDir(copy);
  }
});

test('WalLogDB: reads within the cache touch no file; entries evicted past cacheBytes are read back from disk and counted', async () => {
  const dir = tempDir('cachebytes');
  // 100 entries of 16 bytes are 6,400 bytes by entrySize (cmd + 48): a 2,000-byte cache keeps
  // about the newest 31 (eviction halves a replica's cache until it fits).
  const db = await WalLogDB.open({ dir, cacheBytes: 2000 });
  try {
    await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 1, vote: 1, commit: 0 }, entries: ents(1, 100, 1, 16) }]);
    // The cache is trimmed after the commit's callers resume.
    await new Promise((r) => setImmediate(r));
    assert.equal(db.stats().entriesReadFromDisk, 0);
    const tail = db.readEntries(1, 1, 91, 101, Infinity);
    assert.deepEqual(tail.map((e) => e.index), [91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);
    assert.equal(db.stats().entriesReadFromDisk, 0, 'the newest entries come from the cache');
    const head = db.readEntries(1, 1, 1, 11, Infinity);
    assert.deepEqual(head, ents(1, 10, 1, 16), 'evicted entries read back intact');
    assert.equal(db.stats().entriesReadFromDisk, 10);
  } finally {
    await db.close();
    removeDir(dir);
  }
});

test('WalLogDB: releaseEntries drops applied entries from the cache; they stay readable from disk, and newer ones stay cached', async () => {
  const dir = tempDir('release');
  const db = await WalLogDB.open({ dir });
  try {
    await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 1, vote: 1, commit: 0 }, entries: ents(1, 50, 1, 16) }]);
    db.releaseEntries(1, 1, 40);
    db.releaseEntries(9, 9, 40); // an unknown replica: ignored
    assert.deepEqual(db.readEntries(1, 1, 41, 51, Infinity), ents(41, 50, 1, 16));
    assert.equal(db.stats().entriesReadFromDisk, 0, 'entries above the released index come from the cache');
    assert.deepEqual(db.readEntries(1, 1, 31, 41, Infinity), ents(31, 40, 1, 16));
    assert.equal(db.stats().entriesReadFromDisk, 10, 'released entries are read back from disk');
    // New entries append to the cache after a release.
    await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(51, 60, 1, 16) }]);
    assert.deepEqual(db.readEntries(1, 1, 41, 61, Infinity), ents(41, 60, 1, 16));
    assert.equal(db.stats().entriesReadFromDisk, 10);
  } finally {
    await db.close();
    removeDir(dir);
  }
});
