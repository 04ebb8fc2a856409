/**
 * Rebuilding the WAL index at start. Segments are replayed oldest first; each begins with a
 * checkpoint that is authoritative for every replica's small state, entry window and very
 * existence, and the records after it are applied exactly as the writer applied them.
 *
 * Why replaying only the segments that still exist is correct: a segment is deleted only
 * when no live entry is located in it. Every other effect of its records (hard state,
 * snapshot, removals, ...) is restated by the checkpoint of the next segment, which always
 * exists. Entries of a deleted segment that are still live were copied forward; until the
 * replay reaches the copy, the checkpoint's window marks them as known-but-unplaced, and a
 * window entry still unplaced at the end means a segment is missing (CorruptionError).
 * A deleted segment that reappears (the unlink was not yet durable) is harmless: replaying
 * extra history in order still ends in the same state.
 */
import type { FileSystem } from '../runtime/index.js';
import { CodecError, CorruptionError } from '../errors.js';
import type { SnapshotMeta } from '../core/types.js';
import { UNKNOWN_SEGMENT } from './entry-locations.js';
import type { WalIndex, WalReplica } from './wal-index.js';
import { FrameType, visitFrames, zeroFrom } from './wal-format.js';
import { fixedEntryBytesAt, fixedEntryIndexAt } from '../encoding/entry.js';
import { readBatch, readCheckpoint, RecordType, type CheckpointReplica, type WalRecord } from './wal-records.js';
import { listSegments, syncDirSync, type SegmentFiles } from './segment-files.js';
import { replicaKey } from './log-db.js';

/** What recovery found. */
export interface RecoveryResult {
  /** Highest segment id seen (0 when the directory held none). */
  readonly lastId: number;
  /** Bytes cut from a torn tail (0 when the log ended cleanly). */
  readonly truncatedBytes: number;
}

function applyCheckpoint(index: WalIndex, list: readonly CheckpointReplica[]): void {
  const keep = new Set<string>();
  for (const c of list) {
    keep.add(replicaKey(c.shardId, c.replicaId));
    const r = index.ensure(c.shardId, c.replicaId);
    r.hardState = c.hardState;
    r.snapshot = c.snapshot;
    r.bootstrap = c.bootstrap;
    if (c.first === 0) { index.dropEntries(r); continue; }
    if (r.locs.count > 0) {
      if (r.locs.first < c.first) index.removeTo(r, c.first - 1);
      if (r.locs.count > 0 && r.locs.last > c.last) index.truncateFrom(r, c.last + 1);
    }
    r.locs.widen(c.first, c.last);
  }
  for (const r of [...index.replicas.values()]) {
    if (!keep.has(replicaKey(r.shardId, r.replicaId))) index.removeReplica(r.shardId, r.replicaId);
  }
}

function applyEntries(index: WalIndex, r: WalReplica, buf: Buffer, start: number, count: number, seg: number, copy: boolean): void {
  let pos = start;
  const e0 = count > 0 ? fixedEntryIndexAt(buf, pos) : 0;
  if (!copy && count > 0) {
    const { locs } = r;
    if (locs.count === 0 || e0 <= locs.first) index.dropEntries(r);
    else if (e0 > locs.last + 1) throw new CodecError(`entries from ${e0} leave a gap after ${locs.last}`);
    else index.truncateFrom(r, e0);
  }
  for (let i = 0; i < count; i++) {
    const len = fixedEntryBytesAt(buf, pos, buf.length);
    const idx = fixedEntryIndexAt(buf, pos);
    if (idx !== e0 + i) throw new CodecError(`entry index ${idx} where ${e0 + i} was expected`);
    if (copy) index.place(r, idx, seg, pos, len);
    else index.push(r, idx, seg, pos, len);
    pos += len;
  }
}

function applyRecord(index: WalIndex, rec: WalRecord, buf: Buffer, seg: number): void {
  switch (rec.type) {
    case RecordType.Entries: applyEntries(index, index.ensure(rec.shardId, rec.replicaId), buf, rec.start, rec.count, seg, false); break;
    case RecordType.Copy: {
      const r = index.get(rec.shardId, rec.replicaId);
      if (r !== undefined) applyEntries(index, r, buf, rec.start, rec.count, seg, true);
      break;
    }
    case RecordType.HardState: index.ensure(rec.shardId, rec.replicaId).hardState = rec.hardState; break;
    case RecordType.Snapshot: {
      const r = index.ensure(rec.shardId, rec.replicaId);
      r.snapshot = rec.snapshot;
      if (rec.dropEntries) index.dropEntries(r);
      break;
    }
    case RecordType.Bootstrap: index.ensure(rec.shardId, rec.replicaId).bootstrap = rec.bootstrap; break;
    case RecordType.RemoveTo: {
      const r = index.get(rec.shardId, rec.replicaId);
      if (r !== undefined) index.removeTo(r, rec.index);
      break;
    }
    case RecordType.RemoveReplica: index.removeReplica(rec.shardId, rec.replicaId); break;
    case RecordType.Import: importInto(index, rec.shardId, rec.replicaId, rec.snapshot); break;
  }
}

/** Replaces a replica's state with an imported snapshot (shared with the writer). */
export function importInto(index: WalIndex, shardId: number, replicaId: number, s: SnapshotMeta): void {
  index.removeReplica(shardId, replicaId);
  const r = index.ensure(shardId, replicaId);
  r.snapshot = s;
  r.hardState = { term: s.term, vote: 0, commit: s.index };
  r.bootstrap = { members: new Map(), join: true, smType: s.type };
}

function readWhole(fs: FileSystem, file: string, into: Buffer): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    let got = 0;
    for (let n = 1; got < into.length && n > 0; got += n) n = fs.readSync(fd, into, got, Math.min(into.length - got, 8 << 20), got);
    return into.subarray(0, got);
  } finally { fs.closeSync(fd); }
}

/**
 * Replays every segment of `segments.dir` into `index`, opening the segments that remain,
 * truncating a torn tail of the last one and deleting segments left empty; every file call
 * goes through `segments.fs`.
 * @throws CorruptionError naming the file and offset of damage anywhere but a torn tail.
 */
export function recoverWal(segments: SegmentFiles, index: WalIndex): RecoveryResult {
  const { fs } = segments;
  const ids = listSegments(segments.dir, fs);
  let truncatedBytes = 0;
  // One buffer for every segment: the index keeps file offsets, never views into it.
  let scratch = Buffer.allocUnsafe(0);
  ids.forEach((id, k) => {
    const file = segments.file(id);
    const size = fs.statSync(file).size;
    if (scratch.length < size) scratch = Buffer.allocUnsafe(size);
    const buf = readWhole(fs, file, scratch.subarray(0, size));
    const isLast = k === ids.length - 1;
    let frames = 0;
    const end = visitFrames(buf, file, isLast, (type, start, stop, frameStart) => {
      try {
        if (frames++ === 0 && type !== FrameType.Checkpoint) throw new CodecError('segment does not start with a checkpoint');
        if (type === FrameType.Checkpoint) applyCheckpoint(index, readCheckpoint(buf, start, stop));
        else readBatch(buf, start, stop, (rec) => applyRecord(index, rec, buf, id));
      } catch (err) {
        if (!(err instanceof CodecError)) throw err;
        throw new CorruptionError(`${err.message} in ${file} at offset ${frameStart}`, { file, offset: frameStart, cause: err });
      }
    });
    // A zero tail is preallocated space, not a torn write: cut it, but do not count it.
    if (!zeroFrom(buf, end)) truncatedBytes += buf.length - end;
    if (end === 0) {
      fs.unlinkSync(file);
      if (segments.durable) syncDirSync(fs, segments.dir);
      return;
    }
    segments.openExisting(id, buf.length);
    if (end < buf.length) segments.truncate(id, end);
  });
  for (const r of index.replicas.values()) {
    const { locs } = r;
    for (let i = locs.first; locs.count > 0 && i <= locs.last; i++) {
      if (locs.segAt(i) === UNKNOWN_SEGMENT) {
        throw new CorruptionError(`entry ${i} of shard ${r.shardId} replica ${r.replicaId} is in no segment of ${segments.dir}`,
          { file: segments.dir });
      }
    }
  }
  return { lastId: ids[ids.length - 1] ?? 0, truncatedBytes };
}
