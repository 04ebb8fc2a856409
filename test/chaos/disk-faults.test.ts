/**
 * The `disk` fault's damage, against a real WAL: a torn tail cuts into the last frame only and
 * the WAL opens again without the last batch; a flipped byte in an earlier record makes open
 * fail with a CorruptionError; a corrupted snapshot changes one byte of the newest data file.
 * And the runner's test of a "clear" refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError } from '../../src/errors.js';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import { clearDamageError } from '../../tools/chaos/disk-fault.js';
import { corruptSnapshot, flipWalRecord, tearWalTail, walFrames } from '../../tools/chaos/disk-faults.js';
import { Rng } from '../../tools/chaos/rng.js';
import { ents } from '../logdb/compliance.js';
import { removeDir, segmentFiles, tempDir } from '../logdb/helpers.js';

/** A WAL of `batches` batches of 3 entries (one frame each) in `<dir>/wal`. */
async function fill(batches: number): Promise<string> {
  const dir = tempDir('chaos-disk');
  const db = await WalLogDB.open({ dir: join(dir, 'wal') });
  for (let b = 0; b < batches; b++) await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(b * 3 + 1, b * 3 + 3, 1, 100) }]);
  await db.close();
  return dir;
}

async function lastIndex(walDir: string): Promise<number> {
  const db = await WalLogDB.open({ dir: walDir });
  try {
    return db.getEntryRange(1, 1)?.lastIndex ?? 0;
  } finally {
    await db.close();
  }
}

test('tear-wal cuts into the last frame of the newest segment; the WAL opens without that batch', async () => {
  for (let seed = 1; seed <= 5; seed++) {
    const dir = await fill(6);
    try {
      const wal = join(dir, 'wal');
      assert.equal(await lastIndex(wal), 18);
      // Each open starts a new segment (a checkpoint); a write after it makes a batch the last frame.
      const db = await WalLogDB.open({ dir: wal });
      await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(19, 21, 1, 100) }]);
      await db.close();
      const files = segmentFiles(wal);
      const newest = files[files.length - 1] as string;
      const frames = walFrames(readFileSync(newest));
      const last = frames[frames.length - 1];
      const r = tearWalTail(wal, new Rng(seed));
      assert.ok(r !== null && last !== undefined);
      assert.ok(r.offset > last.start && r.offset < last.end, `${r.offset} inside [${last.start}, ${last.end})`);
      assert.equal(readFileSync(newest).length, r.offset);
      assert.equal(await lastIndex(wal), 18, 'the torn batch (entries 19-21) is gone, the rest is intact');
    } finally {
      removeDir(dir);
    }
  }
});

test('tear-wal leaves a segment that holds only its checkpoint alone', async () => {
  const dir = tempDir('chaos-disk');
  try {
    await (await WalLogDB.open({ dir: join(dir, 'wal') })).close();
    assert.equal(tearWalTail(join(dir, 'wal'), new Rng(1)), null);
    assert.equal(tearWalTail(join(dir, 'nowhere'), new Rng(1)), null);
  } finally {
    removeDir(dir);
  }
});

test('flip-wal damages an earlier, complete frame: open fails with a CorruptionError naming the file', async () => {
  for (let seed = 1; seed <= 20; seed++) {
    const dir = await fill(5);
    try {
      const wal = join(dir, 'wal');
      const r = flipWalRecord(wal, new Rng(seed));
      assert.ok(r !== null);
      await assert.rejects(WalLogDB.open({ dir: wal }), (e: unknown) => {
        assert.ok(e instanceof CorruptionError, String(e));
        assert.ok(e.message.includes(r.file), e.message);
        return true;
      }, r.detail);
    } finally {
      removeDir(dir);
    }
  }
});

test('corrupt-snapshot flips one byte of the newest snapshot data file, preferring the given shard', () => {
  const dir = tempDir('chaos-disk');
  try {
    const root = join(dir, 'snapshots', 'shard-2-replica-7');
    const files: string[] = [];
    for (const index of [0x10, 0x2a]) {
      const name = `snapshot-${index.toString(16).toUpperCase().padStart(16, '0')}`;
      mkdirSync(join(root, name), { recursive: true });
      files.push(join(root, name, `${name}.data`));
      writeFileSync(files[files.length - 1] as string, Buffer.alloc(1000, 0x55));
    }
    mkdirSync(join(root, 'snapshot-00000000000000FF.generating'));
    const r = corruptSnapshot(dir, 7, 3, 1, new Rng(9));
    assert.ok(r !== null);
    assert.equal(r.file, files[1]);
    const bytes = readFileSync(files[1] as string);
    assert.equal(bytes.filter((b) => b !== 0x55).length, 1);
    assert.notEqual(bytes[r.offset], 0x55);
    assert.ok(readFileSync(files[0] as string).every((b) => b === 0x55));
    assert.equal(corruptSnapshot(dir, 8, 3, 1, new Rng(9)), null);
  } finally {
    removeDir(dir);
  }
});

test('a clear refusal is one line from sampan kv that names the damage, without a stack trace', () => {
  assert.ok(clearDamageError('sampan kv: frame payload checksum mismatch in /d/wal/0000000000000001.wal at offset 853\n'));
  assert.ok(clearDamageError('sampan kv: shard 1: snapshot file /d/s.data: block checksum mismatch at offset 12\n'));
  assert.ok(!clearDamageError('sampan kv: address in use\n'));
  assert.ok(!clearDamageError('file:///x.js:1\nCorruptionError: checksum mismatch\n    at recoverWal (file:///x.js:3:9)\n'));
  assert.ok(!clearDamageError(''));
});
