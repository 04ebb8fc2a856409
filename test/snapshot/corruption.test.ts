/**
 * Damage anywhere is detected: a single-byte flip at every offset of small snapshot files
 * (raw and Snappy blocks) and every truncation make verification and reading fail with a
 * CorruptionError — never another exception, and never a yielded block that differs from
 * what was written.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { CorruptionError } from '../../src/errors.js';
import { openSnapshotFile, verifySnapshotFile } from '../../src/snapshot/file-reader.js';
import { removeDir, seededBytes, tempDir, writeFile } from './helpers.js';

const dir = tempDir('corruption');
after(() => removeDir(dir));

/** Reads `file` both ways and asserts a CorruptionError; yielded bytes must be a true prefix. */
async function assertDetected(file: string, payload: Buffer, what: string): Promise<void> {
  await assert.rejects(verifySnapshotFile(file), (e: unknown) => {
    assert.ok(e instanceof CorruptionError, `${what}: verify threw ${String(e)}`);
    assert.equal(e.file, file);
    assert.equal(typeof e.offset, 'number');
    assert.ok(e.message.includes(file) && e.message.includes(`offset ${String(e.offset)}`), `${what}: the message names the file and offset: ${e.message}`);
    return true;
  });
  let got = 0;
  try {
    const f = await openSnapshotFile(file);
    for await (const b of f.payload) {
      assert.ok(Buffer.from(b).equals(payload.subarray(got, got + b.length)), `${what}: a damaged block was yielded`);
      got += b.length;
    }
  } catch (e) {
    assert.ok(e instanceof CorruptionError, `${what}: read threw ${String(e)}`);
    return;
  }
  assert.fail(`${what}: reading completed without an error`);
}

for (const compression of ['none', 'snappy'] as const) {
  void describe(`damaged snapshot files (${compression})`, () => {
    const file = path.join(dir, `small-${compression}.data`);
    const payload = seededBytes(11, 450);
    let original: Buffer;

    void it('detects every single-byte flip at every offset', async () => {
      await writeFile(file, payload, { compression, blockSize: 128 }, 50, Buffer.from('sess'), Buffer.from('memb'));
      original = fs.readFileSync(file);
      assert.ok(original.length > 250 && original.length < 1000);
      const fd = fs.openSync(file, 'r+');
      try {
        for (let off = 0; off < original.length; off++) {
          // One flip per offset, cycling through single-bit flips and a whole-byte flip.
          const mask = off % 9 === 8 ? 0xff : 1 << (off % 9);
          fs.writeSync(fd, Buffer.from([(original[off] as number) ^ mask]), 0, 1, off);
          await assertDetected(file, payload, `flip 0x${mask.toString(16)} at ${off}`);
          fs.writeSync(fd, original, off, 1, off);
        }
      } finally {
        fs.closeSync(fd);
      }
      // Restored: valid again.
      await verifySnapshotFile(file);
    });

    void it('detects every truncation and every appended byte', async () => {
      for (let len = 0; len < original.length; len++) {
        fs.truncateSync(file, len);
        await assertDetected(file, payload, `truncated to ${len}`);
        fs.writeFileSync(file, original);
      }
      fs.writeFileSync(file, Buffer.concat([original, Buffer.from([0])]));
      await assertDetected(file, payload, 'one byte appended');
      fs.writeFileSync(file, original);
    });
  });
}

void it('reports a missing file as a StorageError, not a crash', async () => {
  await assert.rejects(verifySnapshotFile(path.join(dir, 'nope')), { code: 'STORAGE' });
});
