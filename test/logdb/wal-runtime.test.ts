/**
 * WalLogDB takes every file call and clock read from the runtime (or the `fs`) it is opened
 * with: the segment is created, written and synced through it, and a file system that fails
 * fdatasync fails the WAL's writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EntryType, type Entry } from '../../src/core/types.js';
import { StorageError } from '../../src/errors.js';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import { realFileSystem, type FileSystem } from '../../src/runtime/index.js';
import { recordingRuntime } from '../support/recording-runtime.js';
import { removeDir, tempDir } from './helpers.js';

const entry = (index: number, bytes = 3): Entry =>
  ({ term: 1, index, type: EntryType.Application, key: 0, clientId: 0, seriesId: 0, respondedTo: 0, cmd: new Uint8Array(bytes) });

test('WalLogDB: open, writes, syncs, reads and the sync observer go through the given runtime', async () => {
  const dir = tempDir('runtime');
  const { runtime, rec } = recordingRuntime();
  try {
    const db = await WalLogDB.open({ dir, runtime, segmentBytes: 1 << 20 });
    let observed = 0;
    db.setSyncObserver(() => { observed++; });
    await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 1, vote: 1, commit: 0 }, entries: [entry(1)] }]);
    // A large batch goes through the callback-style write (off the event loop).
    await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: [entry(2, 2 << 20)] }]);
    await db.close();
    const seg = path.join(dir, '0000000000000001.wal');
    assert.ok(rec.created.has(seg), 'the segment is created through the runtime');
    assert.ok(rec.calls('writeSync', seg).length >= 1, 'small batches: writeSync');
    assert.ok(rec.calls('write', seg).length >= 1, 'large batches: write');
    assert.ok(rec.calls('fdatasyncSync', seg).length + rec.calls('fdatasync', seg).length >= 2, 'each batch synced');
    assert.ok(rec.calls('fsync', '').length >= 1, 'the directory synced');
    assert.equal(observed, 2);
    assert.ok((rec.clock.get('now') ?? 0) >= 4, 'the sync observer timed through the runtime clock');

    // Reopen: recovery lists, stats, reads and opens through it too.
    rec.fs.length = 0;
    const again = await WalLogDB.open({ dir, runtime });
    assert.equal(again.readEntries(1, 1, 1, 3, Infinity).length, 2);
    await again.close();
    for (const name of ['readdirSync', 'statSync', 'openSync', 'readSync']) assert.ok(rec.calls(name).length > 0, name);
  } finally {
    removeDir(dir);
  }
});

test('WalLogDB: the `fs` option overrides the runtime\'s; a failing fdatasync fails the write with StorageError', async () => {
  const dir = tempDir('runtime-fail');
  let failing = false;
  const eio = (): Error => Object.assign(new Error('EIO: injected'), { code: 'EIO' });
  const faulty: FileSystem = {
    ...realFileSystem,
    fdatasyncSync: (fd) => { if (failing) throw eio(); realFileSystem.fdatasyncSync(fd); },
    fdatasync: (fd, cb) => { if (failing) cb(eio()); else realFileSystem.fdatasync(fd, cb); },
  };
  try {
    const db = await WalLogDB.open({ dir, fs: faulty });
    await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 1, vote: 1, commit: 0 }, entries: [entry(1)] }]);
    failing = true;
    await assert.rejects(db.saveUpdates([{ shardId: 1, replicaId: 1, entries: [entry(2)] }]), StorageError);
    await db.close().catch(() => {});
    assert.ok(fs.existsSync(path.join(dir, '0000000000000001.wal')));
  } finally {
    removeDir(dir);
  }
});

test('WalLogDB: every commit writes from one reused buffer (a fresh one per commit drove V8 into full GCs); one grown past 16 MiB is let go', async () => {
  const dir = tempDir('runtime-buffer');
  const buffers: ArrayBufferLike[] = [];
  // The commits' writes (a frame starts with the magic "SMPW"), not the preallocation's zeroes.
  const record = (buf: Uint8Array, off: number): void => { if (buf[off] === 0x53) buffers.push(buf.buffer); };
  const recording: FileSystem = {
    ...realFileSystem,
    writeSync: (fd, buf, off, len, pos) => { record(buf, off); return realFileSystem.writeSync(fd, buf, off, len, pos); },
    write: (fd, buf, off, len, pos, cb) => { record(buf, off); realFileSystem.write(fd, buf, off, len, pos, cb); },
  };
  try {
    const db = await WalLogDB.open({ dir, fs: recording, segmentBytes: 64 << 20 });
    for (let i = 1; i <= 50; i++) {
      // The first commit grows the buffer from its first size once.
      if (i === 2) buffers.length = 0;
      await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 1, vote: 1, commit: i - 1 }, entries: [entry(i, 100)] }]);
    }
    assert.equal(buffers.length, 49);
    const small = new Set(buffers);
    assert.equal(small.size, 1, `49 small commits wrote from ${small.size} buffers`);
    // A 20 MiB entry grows the buffer past the bound; the next commit starts from a small one again.
    buffers.length = 0;
    await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: [entry(51, 20 << 20)] }]);
    await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: [entry(52, 100)] }]);
    await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: [entry(53, 100)] }]);
    const [big, after, next] = [buffers[0], buffers.at(-2), buffers.at(-1)];
    assert.ok(big !== undefined && big.byteLength > 16 << 20);
    assert.ok(after !== undefined && after !== big && after.byteLength <= 1 << 20, 'the grown buffer is not kept');
    assert.equal(next, after, 'the new small buffer is reused in turn');
    await db.close();
    // What was written from the reused buffer reads back intact.
    const again = await WalLogDB.open({ dir });
    assert.deepEqual(again.readEntries(1, 1, 1, 54, Infinity).map((e) => [e.index, e.cmd.length]),
      [...Array.from({ length: 50 }, (_, k) => [k + 1, 100]), [51, 20 << 20], [52, 100], [53, 100]]);
    await again.close();
  } finally {
    removeDir(dir);
  }
});
