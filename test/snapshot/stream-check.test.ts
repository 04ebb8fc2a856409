// SnapshotStreamCheck: a snapshot data file checked from its bytes as they stream in, and the
// snapshotter trusting that check (issue 19: a received snapshot is not read back).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CorruptionError } from '../../src/errors.js';
import { crc32, crc32Combine } from '../../src/encoding/crc32.js';
import { Snapshotter } from '../../src/snapshot/snapshotter.js';
import { SnapshotStreamCheck } from '../../src/snapshot/stream-check.js';
import { metaFor, removeDir, seeded, seededBytes, tempDir, writeFile } from './helpers.js';

/**
 * Feeds `bytes` to a fresh check in pieces of random sizes (seeded), then finishes it. With
 * `withCrcs`, asks the check for its pieces' CRCs too, and checks that they cover each update
 * exactly and combine into its CRC (what the receiving stream relies on to checksum once).
 */
function feed(bytes: Buffer, checksum: Uint8Array, seed: number, maxPiece = 100_000, withCrcs = false): void {
  const rnd = seeded(seed);
  const c = new SnapshotStreamCheck('f', bytes.length, checksum);
  for (let i = 0; i < bytes.length;) {
    const k = Math.min(bytes.length - i, 1 + Math.floor(rnd() * maxPiece));
    const piece = bytes.subarray(i, i + k);
    if (!withCrcs) {
      c.update(piece);
    } else {
      let covered = 0, crc = 0;
      c.update(piece, (n, pieceCrc) => {
        covered += n;
        crc = crc32Combine(crc, pieceCrc, n);
      });
      assert.equal(covered, k, 'the reported pieces cover the update');
      assert.equal(crc, crc32(piece), 'and combine into its CRC');
    }
    i += k;
  }
  c.finish();
}

void describe('snapshot stream check', () => {
  const dir = tempDir('stream-check');
  after(() => removeDir(dir));

  void it('accepts a valid file (raw and snappy, empty payload) fed in any piece sizes', async () => {
    for (const [name, payload, compression] of [
      ['raw', seededBytes(1, 300_000), 'none'], ['snappy', seededBytes(2, 300_000), 'snappy'], ['empty', Buffer.alloc(0), 'none'],
    ] as const) {
      const file = path.join(dir, `${name}.data`);
      const sum = await writeFile(file, payload, { blockSize: 64 * 1024, compression });
      const bytes = fs.readFileSync(file);
      for (let seed = 1; seed <= 5; seed++) feed(bytes, sum.checksum, seed, seed === 1 ? 7 : 100_000);
      for (let seed = 1; seed <= 3; seed++) feed(bytes, sum.checksum, seed, seed === 1 ? 7 : 100_000, true);
    }
  });

  void it('refuses a flipped byte anywhere: header, metadata, block header, block data, footer', async () => {
    const file = path.join(dir, 'flip.data');
    const sum = await writeFile(file, seededBytes(3, 200_000), { blockSize: 32 * 1024 });
    const good = fs.readFileSync(file);
    const rnd = seeded(9);
    const spots = [3, 40, 64 + 5, 64 + 19 + 2, 64 + 19 + 16 + 100, good.length - 30, good.length - 2];
    for (let i = 0; i < 20; i++) spots.push(Math.floor(rnd() * good.length));
    for (const at of spots) {
      const bad = Buffer.from(good);
      bad[at] = bad[at]! ^ 0x10;
      assert.throws(() => feed(bad, sum.checksum, at), CorruptionError, `flip at ${at}`);
      assert.throws(() => feed(bad, sum.checksum, at, 100_000, true), CorruptionError, `flip at ${at}, reporting CRCs`);
    }
  });

  void it('refuses a valid file whose checksum is not the one recorded, and a truncated or overlong stream', async () => {
    const file = path.join(dir, 'other.data');
    const sum = await writeFile(file, seededBytes(4, 50_000));
    const bytes = fs.readFileSync(file);
    const wrong = Uint8Array.from(sum.checksum, (v, i) => (i === 0 ? v ^ 1 : v));
    assert.throws(() => feed(bytes, wrong, 1), /checksum differs/);
    const c = new SnapshotStreamCheck('f', bytes.length, sum.checksum);
    c.update(bytes.subarray(0, bytes.length - 1));
    assert.throws(() => c.finish(), /stream ended/);
    const d = new SnapshotStreamCheck('f', bytes.length - 1, sum.checksum);
    assert.throws(() => d.update(bytes), CorruptionError);
    assert.throws(() => new SnapshotStreamCheck('f', 10, sum.checksum), /truncated/);
  });

  void it('the snapshotter commits a stream-checked snapshot without reading it back, and verify then reads only its metadata', async () => {
    const root = path.join(dir, 'snapshotter');
    const s = new Snapshotter({ dir: root, shardId: 1, replicaId: 2 });
    await s.cleanupAtStart();
    const payload = seededBytes(5, 100_000);
    // Received with the stream's checks (CRCs given): committed as is, no read-back.
    const env = s.prepareReceive(metaFor(10, 'x', { fileSize: 0, checksum: new Uint8Array(4) }));
    const data = path.join(env.tempDir, 'snapshot.data');
    const sum = await writeFile(data, payload);
    const ext = path.join(env.tempDir, 'external-file-1');
    fs.writeFileSync(ext, 'external');
    const meta = metaFor(10, data, sum, [{ fileId: 1, filepath: ext, fileSize: 8, metadata: new Uint8Array(0) }]);
    // Damage the data file after "the stream": had the commit read it back, it would refuse.
    const fd = fs.openSync(data, 'r+');
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, sum.fileSize - 100);
    fs.closeSync(fd);
    const committed = await s.commitReceived(meta, env, [crc32(fs.readFileSync(data)), crc32(Buffer.from('external'))]);
    // The first verify (the install's) trusts the check on the way in; a later one reads everything.
    assert.equal((await s.verify(committed)).index, 10);
    await assert.rejects(s.verify(committed), CorruptionError);
    // Without the stream's CRCs (an older sender) the commit reads the file back and refuses it.
    const env2 = s.prepareReceive(metaFor(11, 'x', { fileSize: 0, checksum: new Uint8Array(4) }));
    const data2 = path.join(env2.tempDir, 'snapshot.data');
    const sum2 = await writeFile(data2, payload);
    const fd2 = fs.openSync(data2, 'r+');
    fs.writeSync(fd2, Buffer.from([0xff]), 0, 1, sum2.fileSize - 100);
    fs.closeSync(fd2);
    await assert.rejects(s.commitReceived(metaFor(11, data2, sum2), env2), CorruptionError);
  });
});
