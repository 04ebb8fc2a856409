/**
 * The schema of a snapshot record (SnapshotMeta, with its membership and external files),
 * written once for both layouts (layout.ts): FIXED in the WAL's snapshot and import records
 * and the snapshot metadata file, VARINT in the wire's InstallSnapshot.
 *
 * ```
 * snapshot = shardId index term membership filepath:str fileSize checksum:bytes type:u8
 *            fileCount file* flags:u8 onDiskIndex   (flags: 1 dummy, 2 witness, 4 imported)
 * file     = fileId filepath:str fileSize metadata:bytes
 * ```
 */
import { CodecError } from '../errors.js';
import { StateMachineType, type SnapshotFile, type SnapshotMeta } from '../core/types.js';
import type { Layout } from './layout.js';
import { readMembership, writeMembership } from './membership.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

const SS_DUMMY = 1;
const SS_WITNESS = 2;
const SS_IMPORTED = 4;
/** The fewest bytes one file takes in any layout. */
const FILE_MIN_BYTES = 4;
const SM_TYPES = new Set<number>(Object.values(StateMachineType));

/** Appends a snapshot record. @throws CodecError (VARINT) on an integer that is not a safe non-negative one. */
export function writeSnapshotMeta(w: Writer, s: SnapshotMeta, l: Layout): void {
  l.uint(w, s.shardId); l.uint(w, s.index); l.uint(w, s.term);
  writeMembership(w, s.membership, l);
  l.str(w, s.filepath); l.uint(w, s.fileSize); l.bytes(w, s.checksum); w.u8(s.type);
  l.count(w, s.files.length);
  for (const f of s.files) { l.uint(w, f.fileId); l.str(w, f.filepath); l.uint(w, f.fileSize); l.bytes(w, f.metadata); }
  w.u8((s.dummy ? SS_DUMMY : 0) | (s.witness ? SS_WITNESS : 0) | (s.imported ? SS_IMPORTED : 0));
  l.uint(w, s.onDiskIndex);
}

/** Reads a snapshot record (byte strings copied in FIXED, views in VARINT). @throws CodecError */
export function readSnapshotMeta(r: Reader, l: Layout): SnapshotMeta {
  const shardId = l.readUint(r), index = l.readUint(r), term = l.readUint(r);
  const membership = readMembership(r, l);
  const filepath = l.readStr(r), fileSize = l.readUint(r), checksum = l.readBytes(r), type = r.u8();
  if (!SM_TYPES.has(type)) throw new CodecError(`bad state machine type ${type}`);
  const n = l.readCount(r, FILE_MIN_BYTES);
  const files: SnapshotFile[] = [];
  for (let i = 0; i < n; i++) {
    const fileId = l.readUint(r), fp = l.readStr(r), size = l.readUint(r);
    files.push({ fileId, filepath: fp, fileSize: size, metadata: l.readBytes(r) });
  }
  const flags = r.u8();
  if ((flags & ~(SS_DUMMY | SS_WITNESS | SS_IMPORTED)) !== 0) throw new CodecError(`bad snapshot flags ${flags}`);
  return {
    shardId, index, term, membership, filepath, fileSize, checksum, type: type as StateMachineType, files,
    dummy: (flags & SS_DUMMY) !== 0, witness: (flags & SS_WITNESS) !== 0, imported: (flags & SS_IMPORTED) !== 0,
    onDiskIndex: l.readUint(r),
  };
}
