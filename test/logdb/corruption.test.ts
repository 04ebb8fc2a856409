/**
 * Damaged files: torn tails are truncated (the lost batch was never acknowledged), and any
 * checksum failure in the middle of the log rejects open with a CorruptionError naming the
 * file and the offset of the bad frame, without crashing the process.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { CorruptionError } from '../../src/errors.js';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import { ents } from './compliance.js';
import { removeDir, segmentFiles, tempDir } from './helpers.js';

const SEG = 8 * 1024;

/** Writes `batches` batches of 3 entries to shard 1 (one frame each); returns the dir. */
async function fill(tag: string, batches: number): Promise<string> {
  const dir = tempDir(tag);
  const db = await WalLogDB.open({ dir, segmentBytes: SEG });
  for (let b = 0; b < batches; b++) await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(b * 3 + 1, b * 3 + 3, 1, 100) }]);
  await db.close();
  return dir;
}

/** Start offsets of the frames of a segment file (walking the length fields). */
function frameStarts(file: string): number[] {
  const buf = fs.readFileSync(file);
  const out: number[] = [];
  for (let pos = 0; pos + 20 <= buf.length; pos += 20 + buf.readUInt32LE(pos + 8)) out.push(pos);
  return out;
}

async function lastIndexAfterOpen(dir: string): Promise<{ last: number; truncated: number }> {
  const db = await WalLogDB.open({ dir, segmentBytes: SEG });
  try {
    const range = db.getEntryRange(1, 1);
    if (range !== null) db.readEntries(1, 1, range.firstIndex, range.lastIndex + 1, Infinity); // every entry decodes
    return { last: range?.lastIndex ?? 0, truncated: db.stats().truncatedAtOpen };
  } finally { await db.close(); }
}

void describe('torn tails', () => {
  const cases: [string, (file: string, frames: number[]) => void][] = [
    ['a last frame cut short', (file, frames) => fs.truncateSync(file, (frames[frames.length - 1] as number) + 30)],
    ['a last frame header cut short', (file, frames) => fs.truncateSync(file, (frames[frames.length - 1] as number) + 7)],
    ['zeros where the last frame was', (file, frames) => {
      const at = frames[frames.length - 1] as number;
      const size = fs.statSync(file).size;
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.alloc(size - at), 0, size - at, at);
      fs.closeSync(fd);
    }],
    ['garbage appended after the last frame', (file) => fs.appendFileSync(file, Buffer.from('not a frame at all, just bytes'))],
  ];
  for (const [name, damage] of cases) {
    void it(`truncates ${name}`, async () => {
      const dir = await fill('torn', 5);
      try {
        const files = segmentFiles(dir);
        const file = files[files.length - 1] as string;
        const frames = frameStarts(file);
        damage(file, frames);
        const lostLastBatch = !name.startsWith('garbage');
        const { last, truncated } = await lastIndexAfterOpen(dir);
        assert.equal(last, lostLastBatch ? 12 : 15, 'everything before the torn frame survives, nothing of it');
        // Zeros to the end of the file read as preallocated space (a clean end), not as cut bytes.
        if (name.startsWith('zeros')) assert.equal(truncated, 0);
        else assert.ok(truncated > 0);
        // The log keeps working after the truncation, and reopens cleanly.
        const db = await WalLogDB.open({ dir, segmentBytes: SEG });
        await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(last + 1, last + 1, 2) }]);
        await db.close();
        assert.deepEqual(await lastIndexAfterOpen(dir), { last: last + 1, truncated: 0 });
      } finally { removeDir(dir); }
    });
  }
});

void describe('damage in the middle of the log', () => {
  // Flipping one byte anywhere in a frame that is followed by intact frames must be reported.
  const where: [string, (frames: number[], size: number) => number][] = [
    ['a payload byte', (f) => (f[2] as number) + 60],
    ['a length byte', (f) => (f[2] as number) + 9],
    ['the magic', (f) => f[1] as number],
    ['a header checksum byte', (f) => (f[3] as number) + 17],
    ['a checkpoint byte', (f) => (f[0] as number) + 25],
  ];
  for (const [name, pick] of where) {
    for (const which of ['first segment', 'last segment']) {
      void it(`reports a flipped ${name} in the ${which}`, async () => {
        const dir = await fill('flip', 60);
        try {
          const files = segmentFiles(dir);
          assert.ok(files.length >= 3, 'the fill spans several segments');
          // In the last segment, intact frames after the damage tell it from a torn tail.
          const file = (which === 'first segment' ? files[0] : files[files.length - 1]) as string;
          const frames = frameStarts(file);
          assert.ok(frames.length >= 5);
          const pos = pick(frames, fs.statSync(file).size);
          const buf = fs.readFileSync(file);
          buf[pos] = (buf[pos] as number) ^ 0x40;
          fs.writeFileSync(file, buf);
          const frameStart = frames.filter((f) => f <= pos).pop();
          const err = await WalLogDB.open({ dir, segmentBytes: SEG }).then(() => null, (e: unknown) => e);
          assert.ok(err instanceof CorruptionError, `expected CorruptionError, got ${String(err)}`);
          assert.equal(err.file, file);
          assert.equal(err.offset, frameStart);
          assert.match(err.message, new RegExp(`offset ${frameStart}`));
        } finally { removeDir(dir); }
      });
    }
  }

  void it('reports a segment missing from the middle (entries in no segment)', async () => {
    const dir = await fill('missing', 60);
    try {
      fs.unlinkSync(segmentFiles(dir)[1] as string);
      await assert.rejects(WalLogDB.open({ dir, segmentBytes: SEG }), CorruptionError);
    } finally { removeDir(dir); }
  });
});
