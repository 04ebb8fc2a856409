/**
 * The records inside WAL frames. A batch frame's payload is a sequence of
 * `record type u8 | body length u32 | body`; a checkpoint frame's payload is the small state
 * of every replica. Entry bodies keep each entry's encoding contiguous so the in-memory index
 * can point straight at it (segment, offset, length) and read it back with one pread.
 */
import { CodecError } from '../errors.js';
import type { HardState, SnapshotMeta } from '../core/types.js';
import type { Bootstrap } from '../contracts/log-db.js';
import { readBootstrapFixed, writeBootstrapFixed } from '../encoding/bootstrap.js';
import { fixedEntryBytesAt } from '../encoding/entry.js';
import { readHardStateFixed, writeHardStateFixed } from '../encoding/hard-state.js';
import { Reader } from '../encoding/reader.js';
import { FIXED } from '../encoding/layout.js';
import { readSnapshotMeta, writeSnapshotMeta } from '../encoding/snapshot-meta.js';
import type { Writer } from '../encoding/writer.js';

/** Record kinds in a batch frame. */
export const RecordType = {
  /** Entries to append, replacing the stored tail from the first one. */
  Entries: 1,
  /** Live entries moved forward by compaction: relocates them, never truncates. */
  Copy: 2,
  HardState: 3,
  /** A snapshot record, with whether it dropped the stored entries. */
  Snapshot: 4,
  Bootstrap: 5,
  /** Entries at or below an index removed. */
  RemoveTo: 6,
  /** Every record of the replica removed. */
  RemoveReplica: 7,
  /** The replica's state replaced by an imported snapshot. */
  Import: 8,
} as const;
/** One of {@link RecordType}. */
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Checkpoint payload format version. */
const CHECKPOINT_VERSION = 1;

/** Starts a record; returns where its length goes, for {@link endRecord}. */
export function beginRecord(w: Writer, type: RecordType, shardId: number, replicaId: number): number {
  w.u8(type);
  const at = w.skip(4);
  w.u64le(shardId);
  w.u64le(replicaId);
  return at;
}

/** Writes the body length of the record begun at `at`. */
export function endRecord(w: Writer, at: number): void {
  w.patchU32le(at, w.pos - at - 4);
}

/** A decoded batch record; entry bodies stay in the frame buffer (positions only). */
export type WalRecord =
  | { type: typeof RecordType.Entries | typeof RecordType.Copy; shardId: number; replicaId: number; count: number; start: number }
  | { type: typeof RecordType.HardState; shardId: number; replicaId: number; hardState: HardState }
  | { type: typeof RecordType.Snapshot; shardId: number; replicaId: number; dropEntries: boolean; snapshot: SnapshotMeta }
  | { type: typeof RecordType.Bootstrap; shardId: number; replicaId: number; bootstrap: Bootstrap }
  | { type: typeof RecordType.RemoveTo; shardId: number; replicaId: number; index: number }
  | { type: typeof RecordType.RemoveReplica; shardId: number; replicaId: number }
  | { type: typeof RecordType.Import; shardId: number; replicaId: number; snapshot: SnapshotMeta };

/**
 * Decodes the records of a batch payload in `buf[start, end)`, calling `visit` for each.
 * @throws CodecError on malformed bytes.
 */
export function readBatch(buf: Buffer, start: number, end: number, visit: (rec: WalRecord) => void): void {
  const r = new Reader(buf, start, end);
  while (r.pos < end) {
    const type = r.u8();
    const len = r.u32le();
    if (len > end - r.pos) throw new CodecError(`record of ${len} bytes runs past its frame`);
    const body = new Reader(buf, r.pos, r.pos + len);
    r.pos += len;
    const shardId = body.u64le(), replicaId = body.u64le();
    switch (type) {
      case RecordType.Entries:
      case RecordType.Copy: {
        const count = body.u32le();
        const startAt = body.pos;
        for (let i = 0; i < count; i++) body.pos += fixedEntryBytesAt(buf, body.pos, body.end);
        body.done();
        visit({ type, shardId, replicaId, count, start: startAt });
        break;
      }
      case RecordType.HardState: visit({ type, shardId, replicaId, hardState: readHardStateFixed(body) }); body.done(); break;
      case RecordType.Snapshot: {
        const dropEntries = body.bool();
        visit({ type, shardId, replicaId, dropEntries, snapshot: readSnapshotMeta(body, FIXED) });
        body.done();
        break;
      }
      case RecordType.Bootstrap: visit({ type, shardId, replicaId, bootstrap: readBootstrapFixed(body) }); body.done(); break;
      case RecordType.RemoveTo: visit({ type, shardId, replicaId, index: body.u64le() }); body.done(); break;
      case RecordType.RemoveReplica: body.done(); visit({ type, shardId, replicaId }); break;
      case RecordType.Import: visit({ type, shardId, replicaId, snapshot: readSnapshotMeta(body, FIXED) }); body.done(); break;
      default: throw new CodecError(`unknown record type ${type}`);
    }
  }
}

/** One replica's small state and entry window, as a checkpoint holds it. */
export interface CheckpointReplica {
  readonly shardId: number;
  readonly replicaId: number;
  readonly hardState: HardState;
  readonly snapshot: SnapshotMeta | null;
  readonly bootstrap: Bootstrap | null;
  /** Stored entries' window; first = 0 when none. */
  readonly first: number;
  readonly last: number;
}

/** Appends a checkpoint payload. */
export function writeCheckpoint(w: Writer, replicas: Iterable<CheckpointReplica>, count: number): void {
  w.u8(CHECKPOINT_VERSION);
  w.u32le(count);
  for (const r of replicas) {
    w.u64le(r.shardId); w.u64le(r.replicaId);
    writeHardStateFixed(w, r.hardState);
    w.u8((r.snapshot !== null ? 1 : 0) | (r.bootstrap !== null ? 2 : 0));
    if (r.snapshot !== null) writeSnapshotMeta(w, r.snapshot, FIXED);
    if (r.bootstrap !== null) writeBootstrapFixed(w, r.bootstrap);
    w.u64le(r.first); w.u64le(r.last);
  }
}

/** Decodes a checkpoint payload. @throws CodecError */
export function readCheckpoint(buf: Buffer, start: number, end: number): CheckpointReplica[] {
  const r = new Reader(buf, start, end);
  const version = r.u8();
  if (version !== CHECKPOINT_VERSION) throw new CodecError(`unknown checkpoint version ${version}`);
  const n = r.u32le();
  if (n > end - start) throw new CodecError(`checkpoint of ${n} replicas cannot fit`);
  const out: CheckpointReplica[] = [];
  for (let i = 0; i < n; i++) {
    const shardId = r.u64le(), replicaId = r.u64le(), hardState = readHardStateFixed(r);
    const flags = r.u8();
    if (flags > 3) throw new CodecError(`bad checkpoint flags ${flags}`);
    const snapshot = (flags & 1) !== 0 ? readSnapshotMeta(r, FIXED) : null;
    const bootstrap = (flags & 2) !== 0 ? readBootstrapFixed(r) : null;
    const first = r.u64le(), last = r.u64le();
    if (first > last || (first === 0 && last !== 0)) throw new CodecError(`bad entry window [${first}, ${last}]`);
    out.push({ shardId, replicaId, hardState, snapshot, bootstrap, first, last });
  }
  r.done();
  return out;
}
