/**
 * The snapshot layer takes every file call from the runtime it is given: a snapshot saved,
 * committed, verified, listed and removed through a recording runtime leaves no file or
 * directory in the root that the runtime did not create.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Snapshotter } from '../../src/snapshot/snapshotter.js';
import { openSnapshotFile } from '../../src/snapshot/file-reader.js';
import { recordingRuntime, walk } from '../support/recording-runtime.js';
import { metaFor, removeDir, seededBytes, tempDir, writeFile } from './helpers.js';

test('Snapshotter: save, external file, commit, verify, read, remove: every file call through the runtime', async () => {
  const root = tempDir('runtime');
  const { runtime, rec } = recordingRuntime();
  try {
    const dir = path.join(root, 'snaps');
    const external = path.join(root, 'ext.bin');
    fs.writeFileSync(external, 'external bytes');
    const s = new Snapshotter({ dir, shardId: 1, replicaId: 1, runtime });
    await s.cleanupAtStart();
    for (const index of [10, 20, 30, 40]) {
      const env = await s.prepareSave(index);
      const summary = await writeFile(env.dataPath, seededBytes(index, 10_000), { fs: runtime.fs });
      const file = await s.addExternalFile(env, 1, external);
      await s.commit(metaFor(index, env.dataPath, summary, [file]), env);
    }
    const newest = await s.newest();
    assert.equal(newest?.index, 40);
    await s.verify(newest!);
    assert.equal((await (await openSnapshotFile(newest!.filepath, runtime.fs)).payload.readAll()).length, 10_000);
    assert.deepEqual((await s.removeOlderThan(2)).removed, [10, 20]);

    // Everything the real disk holds under the root was made through the runtime.
    const onDisk = walk(dir);
    assert.ok(onDisk.length >= 6, onDisk.join());
    assert.deepEqual(onDisk.filter((p) => !rec.made(p)), [], 'every path on disk was created through the runtime');
    for (const name of ['promises.mkdir', 'promises.rename', 'promises.link', 'handle.sync', 'handle.writev', 'handle.read', 'promises.readFile', 'promises.rm']) {
      assert.ok(rec.calls(name).length > 0, `${name} went through the runtime`);
    }
  } finally {
    removeDir(root);
  }
});
