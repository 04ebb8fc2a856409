/**
 * The WAL on a failing disk (issue 18 §3), through a fault-injecting file system: a failed
 * fdatasync or append fails the log for good (every later call rejects, nothing is retried,
 * nothing more reaches the file), and a batch whose own fdatasync succeeded while a background
 * preallocation's fdatasync of the same file took the write-back error is not acknowledged
 * (Linux reports such an error once per open file: the fsyncgate lesson).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { StorageError } from '../../src/errors.js';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import { FaultFileSystem } from '../../src/runtime/fault-fs.js';
import { realFileSystem, realRuntime, type FileSystem, type FsCallbackError } from '../../src/runtime/index.js';
import { ents } from './compliance.js';
import { removeDir, segmentFiles, tempDir } from './helpers.js';

const isWal = (p: string): boolean => p.endsWith('.wal');

test('a failed fdatasync fails the WAL for good: later calls reject with the same StorageError and nothing more is written', async () => {
  const dir = tempDir('faults');
  const f = new FaultFileSystem(realFileSystem);
  try {
    const db = await WalLogDB.open({ dir, fs: f, segmentBytes: 1 << 20 });
    await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(1, 3, 1, 100) }]);
    const fault = f.fail({ ops: ['fdatasync'], path: isWal, errno: 'EIO', once: true });
    const err = await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(4, 6, 1, 100) }]).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof StorageError, String(err));
    assert.equal(err.errno, 'EIO');
    assert.ok(err.path !== undefined && isWal(err.path));
    assert.match(err.message, /^WAL fdatasync failed with EIO on .*\.wal$/);
    assert.equal(db.storageFailure(), err);
    assert.equal(fault.armed, false, 'the once rule fired');
    // The disk is healthy again, but the log stays failed: no retry on a file of unknown state.
    const file = segmentFiles(dir).at(-1) as string;
    const size = fs.statSync(file).size;
    await assert.rejects(db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(7, 7, 1, 100) }]), (e) => e === err);
    assert.equal(fs.statSync(file).size, size, 'nothing more written');
    await db.close();
    // Reopened on the healthy disk: the acknowledged entries are there.
    const again = await WalLogDB.open({ dir, segmentBytes: 1 << 20 });
    assert.ok((again.getEntryRange(1, 1)?.lastIndex ?? 0) >= 3);
    await again.close();
  } finally { removeDir(dir); }
});

test('ENOSPC on an append fails the write with the errno and the segment', async () => {
  const dir = tempDir('faults');
  const f = new FaultFileSystem(realFileSystem);
  try {
    const db = await WalLogDB.open({ dir, fs: f, segmentBytes: 1 << 20 });
    f.fail({ ops: ['write'], path: isWal, errno: 'ENOSPC' });
    const err = await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(1, 3, 1, 100) }]).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof StorageError, String(err));
    assert.equal(err.errno, 'ENOSPC');
    assert.match(err.message, /^WAL write failed with ENOSPC on .*\.wal$/);
    await db.close();
  } finally { removeDir(dir); }
});

test('fsyncgate: a batch synced while a preallocation fdatasync of the same file fails is not acknowledged', async () => {
  const dir = tempDir('faults');
  // The thread-pool fdatasync (the preallocation's) is held once armed, then fails with EIO;
  // the event-loop fdatasync (an idle small commit's) succeeds: as when the kernel reports a
  // write-back error to the first of two syncs of one file only.
  let armed = false;
  const held: ((err: FsCallbackError) => void)[] = [];
  const f: FileSystem = Object.create(realFileSystem) as FileSystem;
  f.fdatasync = (fd, cb) => { if (armed) held.push(cb); else realFileSystem.fdatasync(fd, cb); };
  try {
    // A clock that never moves: every sync looks fast, so the loop-sync gate
    // (loop-sync-gate.ts) always lets an idle small commit sync on the event loop, whatever
    // this machine's disk does — the batch's own sync is never the held one.
    const stopped = { ...realRuntime, clock: { now: (): number => 0, wallNow: (): number => Date.now() } };
    const db = await WalLogDB.open({ dir, runtime: stopped, fs: f, segmentBytes: 64 * 1024 });
    armed = true;
    // Small batches, one at a time, until one starts the next preallocation step.
    let i = 1;
    for (; held.length === 0 && i < 40; i++) {
      await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(i, i, 1, 3000) }]);
      for (let t = 0; t < 20 && held.length === 0; t++) await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal(held.length, 1, 'a preallocation fdatasync is in flight');
    const batch = db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(i, i, 1, 3000) }]);
    let settled = false;
    void batch.then(() => { settled = true; }, () => { settled = true; });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, false, 'the batch waits for the overlapping preallocation sync');
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', syscall: 'fdatasync' });
    for (const cb of held.splice(0)) cb(eio);
    await assert.rejects(batch, (e: unknown) => e instanceof StorageError && e.errno === 'EIO');
    await db.close();
  } finally { removeDir(dir); }
});
