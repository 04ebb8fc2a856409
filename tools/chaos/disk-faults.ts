/**
 * Damage to a stopped replica's data directory, as the `disk` fault applies it:
 * - `tear-wal`: the newest WAL segment is truncated part-way into its last frame (a power loss
 *   during the final write; see RELIABILITY.md for what that models and its limit);
 * - `flip-wal`: one byte of an earlier, complete WAL frame is flipped (a frame with an intact
 *   frame after it, so recovery must see damage, not a torn tail);
 * - `corrupt-snapshot`: one byte of the newest snapshot's data file is flipped.
 * The layout is the one of `src/logdb/wal-format.ts` and `src/snapshot/snapshot-names.ts`.
 */
import { existsSync, openSync, closeSync, readdirSync, readFileSync, readSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FRAME_HEADER_BYTES, FRAME_MAGIC, FrameType } from '../../src/logdb/wal-format.js';
import { listSegments, segmentName } from '../../src/logdb/segment-files.js';
import type { Rng } from './rng.js';

/** The kinds of damage. */
export const DISK_DAMAGE = ['tear-wal', 'flip-wal', 'corrupt-snapshot'] as const;

/** One kind of damage. */
export type DiskDamage = (typeof DISK_DAMAGE)[number];

/** What was damaged. */
export interface DamageReport {
  readonly damage: DiskDamage;
  readonly file: string;
  /** Offset of the flipped byte, or the new length of a torn segment. */
  readonly offset: number;
  readonly detail: string;
}

/** One frame of a WAL segment: its byte range and type. */
export interface WalFrame {
  readonly start: number;
  readonly end: number;
  readonly type: number;
}

/** The frames of a segment file's bytes, up to the first one that does not parse. */
export function walFrames(buf: Buffer): WalFrame[] {
  const out: WalFrame[] = [];
  let pos = 0;
  while (pos + FRAME_HEADER_BYTES <= buf.length && buf.readUInt32LE(pos) === FRAME_MAGIC) {
    const end = pos + FRAME_HEADER_BYTES + buf.readUInt32LE(pos + 8);
    if (end > buf.length) break;
    out.push({ start: pos, end, type: buf.readUInt8(pos + 4) });
    pos = end;
  }
  return out;
}

/** The WAL directory of a replica's data dir. */
export function walDirOf(dataDir: string): string {
  return join(dataDir, 'wal');
}

function flipByte(file: string, offset: number, rng: Rng): number {
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    const x = rng.int(1, 255);
    const was = b[0] as number;
    b[0] = was ^ x;
    writeSync(fd, b, 0, 1, offset);
    return was;
  } finally {
    closeSync(fd);
  }
}

/**
 * Truncates the newest segment of `walDir` part-way into its last frame, if that frame is a
 * batch (a segment holding only its checkpoint is left alone: that frame was written, and
 * synced, before anything the replica did since its start). Null when there is nothing to tear.
 */
export function tearWalTail(walDir: string, rng: Rng): DamageReport | null {
  const ids = existsSync(walDir) ? listSegments(walDir) : [];
  const last = ids[ids.length - 1];
  if (last === undefined) return null;
  const file = join(walDir, segmentName(last));
  const frames = walFrames(readFileSync(file));
  const f = frames[frames.length - 1];
  if (f === undefined || f.type !== FrameType.Batch) return null;
  const size = statSync(file).size;
  const cut = f.start + rng.int(1, f.end - f.start - 1);
  truncateSync(file, cut);
  return {
    damage: 'tear-wal', file, offset: cut,
    detail: `${segmentName(last)} cut from ${size} to ${cut} bytes, inside its last frame [${f.start}, ${f.end}) of ${frames.length}`,
  };
}

/**
 * Flips one byte inside a complete WAL frame that has an intact frame after it (any frame of
 * an older segment, or one before the last frame of the newest). Null when the WAL has a
 * single frame.
 */
export function flipWalRecord(walDir: string, rng: Rng): DamageReport | null {
  const ids = existsSync(walDir) ? listSegments(walDir) : [];
  const candidates: Array<{ file: string; frame: WalFrame; index: number; of: number }> = [];
  ids.forEach((id, k) => {
    const file = join(walDir, segmentName(id));
    const frames = walFrames(readFileSync(file));
    const usable = k === ids.length - 1 ? frames.slice(0, -1) : frames;
    usable.forEach((frame, i) => candidates.push({ file, frame, index: i, of: frames.length }));
  });
  if (candidates.length === 0) return null;
  const c = rng.pick(candidates);
  const offset = rng.int(c.frame.start, c.frame.end - 1);
  const was = flipByte(c.file, offset, rng);
  const where = offset < c.frame.start + FRAME_HEADER_BYTES ? 'header' : 'payload';
  return {
    damage: 'flip-wal', file: c.file, offset,
    detail: `byte ${offset} (was 0x${was.toString(16)}) in the ${where} of frame ${c.index + 1} of ${c.of} ` +
      `(${c.frame.type === FrameType.Checkpoint ? 'checkpoint' : 'batch'}) of ${c.file.split('/').pop() ?? ''}`,
  };
}

/** The data file of the newest committed snapshot in a replica's snapshot directory, or null. */
export function newestSnapshotData(replicaSnapshots: string): string | null {
  if (!existsSync(replicaSnapshots)) return null;
  const dirs = readdirSync(replicaSnapshots).filter((d) => /^snapshot-[0-9A-F]{16}$/.test(d)).sort();
  const newest = dirs[dirs.length - 1];
  if (newest === undefined) return null;
  const data = join(replicaSnapshots, newest, `${newest}.data`);
  return existsSync(data) && statSync(data).size > 0 ? data : null;
}

/**
 * Flips one byte of the newest snapshot's data file of replica `replicaId` in shard
 * `preferShard` (or of another shard that has one). Null when no shard has a snapshot.
 */
export function corruptSnapshot(dataDir: string, replicaId: number, shards: number, preferShard: number, rng: Rng): DamageReport | null {
  const order = [preferShard, ...Array.from({ length: shards }, (_, i) => i + 1).filter((s) => s !== preferShard)];
  for (const shard of order) {
    const file = newestSnapshotData(join(dataDir, 'snapshots', `shard-${shard}-replica-${replicaId}`));
    if (file === null) continue;
    const size = statSync(file).size;
    const offset = rng.int(0, size - 1);
    const was = flipByte(file, offset, rng);
    return { damage: 'corrupt-snapshot', file, offset, detail: `byte ${offset} of ${size} (was 0x${was.toString(16)}) of shard ${shard}'s newest snapshot ${file.split('/').pop() ?? ''}` };
  }
  return null;
}
