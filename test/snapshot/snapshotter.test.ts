/**
 * The snapshotter: commit layout and paths, out-of-date commits, received snapshots checked
 * before commit, cleanup of temporary and invalid directories, retention with acquire and
 * release, external files linked and verified, and exported snapshots.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { SnapshotOutOfDateError } from '../../src/core/errors.js';
import { CorruptionError, InvalidOperationError, SnapshotNotFoundError } from '../../src/errors.js';
import { openSnapshotFile } from '../../src/snapshot/file-reader.js';
import { METADATA_FILE } from '../../src/snapshot/metadata-file.js';
import { readSnapshotDir, verifySnapshotDir } from '../../src/snapshot/snapshot-dir.js';
import { Snapshotter, type SnapshotEnv } from '../../src/snapshot/snapshotter.js';
import { metaFor, removeDir, sampleMembership, seededBytes, tempDir, writeFile } from './helpers.js';

const root = tempDir('snapshotter');
after(() => removeDir(root));
let n = 0;

async function fresh(): Promise<Snapshotter> {
  const s = new Snapshotter({ dir: path.join(root, `r${n++}`, 'snapshots', 'shard-1-replica-1'), shardId: 1, replicaId: 1 });
  await s.cleanupAtStart();
  return s;
}

/** Saves and commits a snapshot at `index` whose payload follows from `index`. */
async function save(s: Snapshotter, index: number): Promise<{ env: SnapshotEnv; committed: ReturnType<Snapshotter['commit']> extends Promise<infer T> ? T : never }> {
  const env = await s.prepareSave(index);
  const sum = await writeFile(env.dataPath, seededBytes(index, 5000));
  const committed = await s.commit(metaFor(index, env.dataPath, sum), env);
  return { env, committed };
}

const ls = (dir: string): string[] => fs.readdirSync(dir).sort();

void describe('snapshotter', () => {
  void it('commits into snapshot-<16 hex> with a metadata file and final paths', async () => {
    const s = await fresh();
    const { env, committed } = await save(s, 0x1a2b);
    assert.match(path.basename(env.tempDir), /^snapshot-0000000000001A2B\.generating$/);
    assert.equal(fs.existsSync(env.tempDir), false);
    assert.deepEqual(ls(s.dir), ['snapshot-0000000000001A2B']);
    assert.deepEqual(ls(env.finalDir), ['snapshot-0000000000001A2B.data', METADATA_FILE]);
    assert.equal(path.dirname(committed.filepath), env.finalDir);
    const newest = await s.newest();
    assert.ok(newest !== null);
    assert.equal(newest.index, 0x1a2b);
    assert.equal(newest.filepath, committed.filepath);
    assert.deepEqual(newest.membership, sampleMembership());
    await s.verify(committed);
    const data = await (await openSnapshotFile(newest.filepath)).payload.readAll();
    assert.ok(Buffer.from(data).equals(seededBytes(0x1a2b, 5000)));
  });

  void it('two saves of one index get distinct temp dirs', async () => {
    const s = await fresh();
    const a = await s.prepareSave(5), b = await s.prepareSave(5);
    assert.notEqual(a.tempDir, b.tempDir);
    assert.match(path.basename(b.tempDir), /^snapshot-0000000000000005-[0-9a-z]+\.generating$/);
  });

  void it('refuses an out-of-date commit and removes its temp dir', async () => {
    const s = await fresh();
    await save(s, 10);
    for (const index of [10, 9]) {
      const env = await s.prepareSave(index);
      const sum = await writeFile(env.dataPath, Buffer.from('old'));
      await assert.rejects(s.commit(metaFor(index, env.dataPath, sum), env), SnapshotOutOfDateError);
      assert.equal(fs.existsSync(env.tempDir), false);
    }
    assert.deepEqual((await s.list()).map((m) => m.index), [10]);
    // The loser of two concurrent saves is the older one.
    const e12 = await s.prepareSave(12), e11 = await s.prepareSave(11);
    const m12 = metaFor(12, e12.dataPath, await writeFile(e12.dataPath, Buffer.from('12')));
    const m11 = metaFor(11, e11.dataPath, await writeFile(e11.dataPath, Buffer.from('11')));
    const [r12, r11] = await Promise.allSettled([s.commit(m12, e12), s.commit(m11, e11)]);
    assert.equal(r12.status, 'fulfilled');
    assert.ok(r11.status === 'rejected' && r11.reason instanceof SnapshotOutOfDateError);
    await assert.rejects(s.commit(metaFor(13, e12.dataPath, m12), e12), InvalidOperationError);
  });

  void it('cleanupAtStart removes temp dirs and invalid final dirs, keeps valid ones', async () => {
    const s = await fresh();
    await save(s, 3);
    await save(s, 4);
    await s.prepareSave(7);
    s.prepareReceive(metaFor(8, '', { fileSize: 0, checksum: new Uint8Array(4) }));
    fs.mkdirSync(path.join(s.dir, 'snapshot-0000000000000002.deleting'));
    fs.mkdirSync(path.join(s.dir, 'snapshot-0000000000000009')); // no metadata: a crash mid-copy by hand
    const meta4 = path.join(s.dir, 'snapshot-0000000000000004', METADATA_FILE);
    const b = fs.readFileSync(meta4);
    b[20] = (b[20] as number) ^ 1;
    fs.writeFileSync(meta4, b);
    fs.writeFileSync(path.join(s.dir, 'unrelated.txt'), 'x');
    assert.equal((await s.newest())?.index, 3, 'newest skips invalid dirs');
    const report = await s.cleanupAtStart();
    assert.equal(report.removedTemp.length, 3);
    assert.deepEqual(report.removedInvalid.map((d) => path.basename(d)).sort(), ['snapshot-0000000000000004', 'snapshot-0000000000000009']);
    assert.deepEqual(ls(s.dir), ['snapshot-0000000000000003', 'unrelated.txt']);
  });

  void it('cleanupAtStart keeps the damaged snapshot at keepIndex (the one the log records), for recovery to refuse by name', async () => {
    const s = await fresh();
    await save(s, 3);
    await save(s, 4);
    const meta4 = path.join(s.dir, 'snapshot-0000000000000004', METADATA_FILE);
    const b = fs.readFileSync(meta4);
    b[20] = (b[20] as number) ^ 1;
    fs.writeFileSync(meta4, b);
    const report = await s.cleanupAtStart({ keepIndex: 4 });
    assert.deepEqual(report.removedInvalid, []);
    assert.deepEqual(ls(s.dir), ['snapshot-0000000000000003', 'snapshot-0000000000000004']);
    await assert.rejects(readSnapshotDir(path.join(s.dir, 'snapshot-0000000000000004')), (e: unknown) => e instanceof CorruptionError && e.message.includes(meta4));
  });

  void it('verify detects a damaged data file and a mismatching record', async () => {
    const s = await fresh();
    const { committed } = await save(s, 20);
    const b = fs.readFileSync(committed.filepath);
    b[200] = (b[200] as number) ^ 0x10;
    fs.writeFileSync(committed.filepath, b);
    await assert.rejects(s.verify(committed), CorruptionError);
    b[200] = (b[200] as number) ^ 0x10;
    fs.writeFileSync(committed.filepath, b);
    await s.verify(committed);
    await assert.rejects(s.verify({ ...committed, checksum: new Uint8Array([1, 2, 3, 4]) }), CorruptionError);
    await assert.rejects(s.verify({ ...committed, index: 21 }), SnapshotNotFoundError);
  });

  void it('keeps the newest few and defers removal of acquired snapshots until release', async () => {
    const s = await fresh();
    for (const i of [1, 2, 3, 4, 5, 6]) await save(s, i);
    s.acquire(2);
    s.acquire(2);
    const r = await s.removeOlderThan(3);
    assert.deepEqual(r, { removed: [1, 3], deferred: [2] });
    assert.deepEqual((await s.list()).map((m) => m.index), [2, 4, 5, 6]);
    await s.release(2);
    assert.deepEqual((await s.list()).map((m) => m.index), [2, 4, 5, 6], 'still held once');
    const last = s.release(2);
    assert.throws(() => s.acquire(2), SnapshotNotFoundError, 'no acquire while the removal is queued');
    await last;
    assert.deepEqual((await s.list()).map((m) => m.index), [4, 5, 6]);
    assert.throws(() => s.acquire(2), SnapshotNotFoundError);
    await assert.rejects(s.release(4), InvalidOperationError);
    s.acquire(6);
    await save(s, 7);
    await save(s, 8);
    await save(s, 9);
    assert.deepEqual((await s.removeOlderThan(2)).deferred, [6]);
    assert.deepEqual(ls(s.dir), ['snapshot-0000000000000006', 'snapshot-0000000000000008', 'snapshot-0000000000000009']);
    await s.release(6);
    assert.deepEqual((await s.list()).map((m) => m.index), [8, 9]);
  });

  void it('links external files in, records checksums, and verify catches changes', async () => {
    const s = await fresh();
    const src = path.join(root, `ext-${n}`);
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a.sst'), seededBytes(1, 3000));
    fs.writeFileSync(path.join(src, 'b.sst'), seededBytes(2, 10));
    const env = await s.prepareSave(30);
    const fa = await s.addExternalFile(env, 1, path.join(src, 'a.sst'), Buffer.from('meta-a'));
    const fb = await s.addExternalFile(env, 2, path.join(src, 'b.sst'));
    assert.equal(fs.statSync(fa.filepath).ino, fs.statSync(path.join(src, 'a.sst')).ino, 'hard-linked');
    await assert.rejects(s.addExternalFile(env, 1, path.join(src, 'b.sst')), { code: 'STORAGE' });
    await assert.rejects(s.addExternalFile(env, 3, src), { code: 'INVALID_OPTION' });
    const sum = await writeFile(env.dataPath, Buffer.from('payload'));
    const committed = await s.commit(metaFor(30, env.dataPath, sum, [fa, fb]), env);
    assert.deepEqual(committed.files.map((f) => [f.fileId, path.basename(f.filepath), f.fileSize]), [[1, 'external-file-1', 3000], [2, 'external-file-2', 10]]);
    const newest = await s.newest();
    assert.deepEqual(newest?.files.map((f) => Buffer.from(f.metadata).toString()), ['meta-a', '']);
    await s.verify(committed);
    // Same size, different bytes (the source was modified in place through the link).
    const fd = fs.openSync(path.join(src, 'a.sst'), 'r+');
    fs.writeSync(fd, Buffer.from([0xee]), 0, 1, 100);
    fs.closeSync(fd);
    await assert.rejects(s.verify(committed), (e: unknown) => e instanceof CorruptionError && /checksum/.test(e.message));
    fs.rmSync(committed.files[1]!.filepath);
    await assert.rejects(verifySnapshotDir(path.dirname(committed.filepath)), CorruptionError);
  });

  void it('commits received snapshots only after checking them', async () => {
    const leader = await fresh(), follower = await fresh();
    const { committed } = await save(leader, 40);
    // What the transport does: copy the files into the directory the host gave it.
    const env = follower.prepareReceive(committed);
    assert.match(path.basename(env.tempDir), /^snapshot-0000000000000028\.receiving$/);
    const local = path.join(env.tempDir, path.basename(committed.filepath));
    fs.copyFileSync(committed.filepath, local);
    const got = await follower.commitReceived({ ...committed, filepath: local }, env);
    assert.equal(path.dirname(got.filepath), path.join(follower.dir, 'snapshot-0000000000000028'));
    await follower.verify(committed);
    // A damaged stream: refused, temp dir removed, nothing committed.
    const { committed: c41 } = await save(leader, 41);
    const env41 = follower.prepareReceive(c41);
    const bad = fs.readFileSync(c41.filepath);
    bad[bad.length - 50] = (bad[bad.length - 50] as number) ^ 4;
    const local41 = path.join(env41.tempDir, path.basename(c41.filepath));
    fs.writeFileSync(local41, bad);
    await assert.rejects(follower.commitReceived({ ...c41, filepath: local41 }, env41), CorruptionError);
    assert.equal(fs.existsSync(env41.tempDir), false);
    assert.equal((await follower.newest())?.index, 40);
    // An older one than committed: out of date.
    const env39 = follower.prepareReceive({ ...committed, index: 39 });
    await assert.rejects(follower.commitReceived({ ...committed, index: 39, filepath: path.join(env39.tempDir, 'x') }, env39), SnapshotOutOfDateError);
  });

  void it('writes exported snapshots under the export path, named for shard and replica, without touching its own set', async () => {
    const s = await fresh();
    await save(s, 50);
    const exportPath = path.join(root, `export-${n}`);
    await assert.rejects(s.prepareExport(exportPath, 60), { code: 'STORAGE' });
    fs.mkdirSync(exportPath);
    const env = await s.prepareExport(exportPath, 60);
    assert.equal(path.dirname(env.tempDir), exportPath);
    assert.match(path.basename(env.tempDir), /^shard-1-replica-1-snapshot-000000000000003C(-[0-9a-z]+)?\.generating$/);
    const sum = await writeFile(env.dataPath, seededBytes(60, 1000));
    const exported = await s.commit(metaFor(60, env.dataPath, sum), env);
    const name = 'shard-1-replica-1-snapshot-000000000000003C';
    assert.deepEqual(ls(exportPath), [name]);
    assert.deepEqual(ls(path.join(exportPath, name)), ['snapshot-000000000000003C.data', METADATA_FILE]);
    assert.deepEqual((await s.list()).map((m) => m.index), [50], 'own snapshots unchanged');
    // The import tool's view: a standalone, movable directory.
    const moved = path.join(root, `moved-${n}`, name);
    fs.mkdirSync(path.dirname(moved));
    fs.renameSync(path.join(exportPath, name), moved);
    const md = await verifySnapshotDir(moved);
    assert.equal(md.meta.filepath, path.join(moved, 'snapshot-000000000000003C.data'));
    assert.equal(md.meta.fileSize, exported.fileSize);
    // Exporting an index already exported there replaces the earlier export (no temp dirs left).
    fs.renameSync(moved, path.join(exportPath, name));
    const again = await s.prepareExport(exportPath, 60);
    const sum2 = await writeFile(again.dataPath, seededBytes(61, 700));
    const replaced = await s.commit(metaFor(60, again.dataPath, sum2), again);
    assert.deepEqual(ls(exportPath), [name]);
    assert.equal((await verifySnapshotDir(path.join(exportPath, name))).meta.fileSize, replaced.fileSize);
    assert.notEqual(replaced.fileSize, exported.fileSize);
    const lower = await s.prepareExport(exportPath, 55);
    await s.commit(metaFor(55, lower.dataPath, await writeFile(lower.dataPath, Buffer.from('y'))), lower);
    // Another shard exporting the same index into the same directory does not collide.
    const other = new Snapshotter({ dir: path.join(root, `r${n++}`, 'snapshots', 'shard-2-replica-1'), shardId: 2, replicaId: 1 });
    await other.cleanupAtStart();
    const envOther = await other.prepareExport(exportPath, 60);
    await other.commit({ ...metaFor(60, envOther.dataPath, await writeFile(envOther.dataPath, seededBytes(2, 300))), shardId: 2 }, envOther);
    assert.deepEqual(ls(exportPath), ['shard-1-replica-1-snapshot-0000000000000037', name, 'shard-2-replica-1-snapshot-000000000000003C']);
    assert.equal((await verifySnapshotDir(path.join(exportPath, 'shard-2-replica-1-snapshot-000000000000003C'))).meta.shardId, 2);
    // A directory whose name disagrees with its record (renamed by hand) is refused.
    fs.renameSync(path.join(exportPath, 'shard-2-replica-1-snapshot-000000000000003C'), path.join(exportPath, 'shard-3-replica-1-snapshot-000000000000003C'));
    await assert.rejects(readSnapshotDir(path.join(exportPath, 'shard-3-replica-1-snapshot-000000000000003C')), CorruptionError);
    await assert.rejects(readSnapshotDir(path.join(exportPath, 'nothing')), SnapshotNotFoundError);
  });

  void it('stream images keep their first copy of an index: a second one is out of date (it may be being sent)', async () => {
    const s = await fresh();
    const streams = path.join(s.dir, 'streams');
    fs.mkdirSync(streams);
    const first = await s.prepareStreamImage(streams, 80);
    const kept = await s.commit(metaFor(80, first.dataPath, await writeFile(first.dataPath, seededBytes(80, 500))), first);
    const second = await s.prepareStreamImage(streams, 80);
    await assert.rejects(s.commit(metaFor(80, second.dataPath, await writeFile(second.dataPath, seededBytes(81, 500))), second), SnapshotOutOfDateError);
    assert.deepEqual(ls(streams), ['snapshot-0000000000000050']);
    assert.deepEqual((await verifySnapshotDir(path.join(streams, 'snapshot-0000000000000050'))).meta.checksum, kept.checksum);
  });

  void it('commits a metadata-only (dummy) snapshot with an empty payload', async () => {
    const s = await fresh();
    const env = await s.prepareSave(70);
    const sum = await writeFile(env.dataPath, new Uint8Array(0));
    const committed = await s.commit({ ...metaFor(70, env.dataPath, sum), dummy: true, onDiskIndex: 70 }, env);
    const newest = await s.newest();
    assert.equal(newest?.dummy, true);
    assert.equal(newest?.onDiskIndex, 70);
    await s.verify(committed);
  });
});
