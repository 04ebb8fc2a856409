/**
 * Snapshot file format: round trips with and without compression, empty payloads, many
 * blocks, random payloads and block sizes (fast-check), and misuse of the writer.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { CorruptionError, InvalidOperationError, InvalidOptionError } from '../../src/errors.js';
import { SnapshotFileWriter } from '../../src/snapshot/file-writer.js';
import { openSnapshotFile, verifySnapshotFile } from '../../src/snapshot/file-reader.js';
import { removeDir, seededBytes, tempDir, writeFile } from './helpers.js';

const dir = tempDir('format');
after(() => removeDir(dir));
let n = 0;
const fresh = (): string => path.join(dir, `f${n++}.data`);

async function readBack(file: string): Promise<{ payload: Buffer; blocks: number; sessions: Buffer; membership: Buffer }> {
  const f = await openSnapshotFile(file);
  const parts: Uint8Array[] = [];
  for await (const b of f.payload) parts.push(b);
  return { payload: Buffer.concat(parts), blocks: parts.length, sessions: Buffer.from(f.sessions), membership: Buffer.from(f.membership) };
}

void describe('snapshot file format', () => {
  for (const compression of ['none', 'snappy'] as const) {
    void it(`round-trips a multi-block payload (${compression})`, async () => {
      const file = fresh();
      const payload = seededBytes(1, 300_000);
      const sum = await writeFile(file, payload, { compression, blockSize: 64 * 1024 }, 10_000);
      const back = await readBack(file);
      assert.ok(back.payload.equals(payload));
      assert.equal(back.blocks, 5);
      assert.equal(back.sessions.toString(), 'sessions!');
      assert.equal(back.membership.toString(), 'membership');
      assert.equal(sum.fileSize, fs.statSync(file).size);
      const v = await verifySnapshotFile(file);
      assert.deepEqual(v.checksum, sum.checksum);
      assert.equal(v.payloadSize, payload.length);
      assert.equal(v.blockCount, 5);
      const all = await (await openSnapshotFile(file)).payload.readAll();
      assert.ok(Buffer.from(all).equals(payload));
      if (compression === 'snappy') assert.ok(sum.fileSize < payload.length, 'compressible data shrinks');
    });
  }

  void it('represents an empty payload (dummy / witness snapshots)', async () => {
    const file = fresh();
    const sum = await writeFile(file, new Uint8Array(0), {}, 1, new Uint8Array(0), Buffer.from('m'));
    const f = await openSnapshotFile(file);
    assert.equal(f.footer.blockCount, 0);
    assert.equal(f.footer.payloadSize, 0);
    assert.equal((await f.payload.readAll()).length, 0);
    assert.equal(f.sessions.length, 0);
    assert.deepEqual(await verifySnapshotFile(file), { fileSize: sum.fileSize, checksum: sum.checksum, payloadSize: 0, blockCount: 0 });
  });

  void it('writes many small blocks and a final partial one', async () => {
    const file = fresh();
    const payload = seededBytes(2, 10_007);
    await writeFile(file, payload, { blockSize: 100 }, 333);
    const back = await readBack(file);
    assert.equal(back.blocks, 101);
    assert.ok(back.payload.equals(payload));
  });

  void it('different content gives a different checksum', async () => {
    const a = await writeFile(fresh(), seededBytes(3, 5000));
    const b = await writeFile(fresh(), seededBytes(4, 5000));
    assert.notDeepEqual(a.checksum, b.checksum);
  });

  void it('round-trips random payloads, chunkings and block sizes (fast-check)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.uint8Array({ maxLength: 20_000 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 7000 }),
      fc.constantFrom('none' as const, 'snappy' as const), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }),
      async (payload, blockSize, chunk, compression, sessions, membership) => {
        const file = fresh();
        await writeFile(file, payload, { blockSize, compression }, chunk, sessions, membership);
        const back = await readBack(file);
        assert.ok(back.payload.equals(Buffer.from(payload)));
        assert.ok(back.sessions.equals(Buffer.from(sessions)));
        assert.ok(back.membership.equals(Buffer.from(membership)));
        assert.equal(back.blocks, Math.ceil(payload.length / blockSize));
        fs.rmSync(file);
      }), { numRuns: 120, seed: 20261126 });
  });

  void it('copies written bytes at once, so callers may reuse their buffer', async () => {
    const file = fresh();
    const w = await SnapshotFileWriter.create(file, { blockSize: 1000 }, new Uint8Array(0), new Uint8Array(0));
    const buf = Buffer.alloc(700, 1);
    const p1 = w.write(buf);
    buf.fill(2);
    const p2 = w.write(buf);
    await Promise.all([p1, p2]);
    await w.finish();
    const back = await readBack(file);
    assert.ok(back.payload.equals(Buffer.concat([Buffer.alloc(700, 1), Buffer.alloc(700, 2)])));
  });

  void it('refuses bad options, an existing file, and writes after finish; abort removes the file', async () => {
    const file = fresh();
    await assert.rejects(SnapshotFileWriter.create(file, { blockSize: 0 }, new Uint8Array(0), new Uint8Array(0)), InvalidOptionError);
    await assert.rejects(SnapshotFileWriter.create(file, { compression: 'zip' as 'none' }, new Uint8Array(0), new Uint8Array(0)), InvalidOptionError);
    const w = await SnapshotFileWriter.create(file, {}, new Uint8Array(0), new Uint8Array(0));
    await assert.rejects(SnapshotFileWriter.create(file, {}, new Uint8Array(0), new Uint8Array(0)), { code: 'STORAGE' });
    await w.write(Buffer.from('x'));
    await w.finish();
    await assert.rejects(w.write(Buffer.from('y')), InvalidOperationError);
    await assert.rejects(w.finish(), InvalidOperationError);
    const file2 = fresh();
    const w2 = await SnapshotFileWriter.create(file2, {}, new Uint8Array(0), new Uint8Array(0));
    await w2.write(seededBytes(5, 3_000_000));
    await w2.abort();
    await w2.abort();
    assert.equal(fs.existsSync(file2), false);
  });

  void it('supports early exit and slow consumers, also when a later block is damaged', async () => {
    const file = fresh();
    const payload = seededBytes(6, 50_000);
    await writeFile(file, payload, { blockSize: 1000 });
    const f = await openSnapshotFile(file);
    for await (const b of f.payload) { assert.equal(b.length, 1000); break; }
    // Damage block 3's data; blocks 0..2 arrive intact (slowly), then the error.
    const b = fs.readFileSync(file);
    const third = b.length - 40 - 47 * 1016 - 500;
    b[third] = (b[third] as number) ^ 0x40;
    fs.writeFileSync(file, b);
    const got: number[] = [];
    await assert.rejects((async () => {
      for await (const block of (await openSnapshotFile(file)).payload) {
        got.push(block.length);
        await new Promise((r) => setTimeout(r, 5));
      }
    })(), CorruptionError);
    assert.deepEqual(got, [1000, 1000]);
  });

  void it('rejects a file of another version with CorruptionError', async () => {
    const file = fresh();
    await writeFile(file, Buffer.from('hello'));
    const b = fs.readFileSync(file);
    b.writeUInt16LE(2, 8);
    // Recompute the header CRC so only the version is wrong.
    const { crc32 } = await import('../../src/encoding/crc32.js');
    b.writeUInt32LE(crc32(b.subarray(0, 60)), 60);
    fs.writeFileSync(file, b);
    await assert.rejects(openSnapshotFile(file), (e: unknown) => e instanceof CorruptionError && /version 2/.test(e.message) && e.offset === 8);
  });

  void it('says "damaged" when a flipped byte breaks the magic (the line an operator reads when a host refuses to start)', async () => {
    const file = fresh();
    await writeFile(file, Buffer.from('hello'));
    const b = fs.readFileSync(file);
    b[2] = (b[2] as number) ^ 0x01;
    fs.writeFileSync(file, b);
    await assert.rejects(openSnapshotFile(file), (e: unknown) => e instanceof CorruptionError && /^damaged snapshot header of .*bad magic/.test(e.message) && e.offset === 0);
  });
});
