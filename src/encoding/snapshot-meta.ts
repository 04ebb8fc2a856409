/**
 * The schema of a snapshot record (SnapshotMeta, with its membership and external files), in
 * the fixed layout (the WAL's snapshot and import records, the snapshot metadata file) and the
 * varint layout (the wire's InstallSnapshot):
 *
 * ```
 * snapshot = shardId index term membership filepath:str fileSize checksum:bytes type:u8
 *            fileCount file* flags:u8 onDiskIndex   (flags: 1 dummy, 2 witness, 4 imported)
 * file     = fileId filepath:str fileSize metadata:bytes
 * ```
 *
 * Byte strings are copied out of the input in the fixed layout (records outlive the WAL's
 * read buffers) and are views into it in the varint layout (a batch is decoded from a buffer
 * of its own).
 */
import { CodecError } from '../errors.js';
import { StateMachineType, type SnapshotFile, type SnapshotMeta } from '../core/types.js';
import { readMembershipFixed, readMembershipVarint, writeMembershipFixed, writeMembershipVarint } from './membership.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

const SS_DUMMY = 1;
const SS_WITNESS = 2;
const SS_IMPORTED = 4;
/** The fewest bytes one varint-layout file takes. */
const FILE_VARINT_MIN_BYTES = 4;
const SM_TYPES = new Set<number>(Object.values(StateMachineType));

function flagsOf(s: SnapshotMeta): number {
  return (s.dummy ? SS_DUMMY : 0) | (s.witness ? SS_WITNESS : 0) | (s.imported ? SS_IMPORTED : 0);
}

function checkSmType(type: number): StateMachineType {
  if (!SM_TYPES.has(type)) throw new CodecError(`bad state machine type ${type}`);
  return type as StateMachineType;
}

function checkFlags(flags: number): number {
  if ((flags & ~(SS_DUMMY | SS_WITNESS | SS_IMPORTED)) !== 0) throw new CodecError(`bad snapshot flags ${flags}`);
  return flags;
}

/** The record with its decoded parts; one object shape for both layouts. */
function meta(
  shardId: number, index: number, term: number, membership: SnapshotMeta['membership'], filepath: string,
  fileSize: number, checksum: Uint8Array, type: StateMachineType, files: SnapshotFile[], flags: number, onDiskIndex: number,
): SnapshotMeta {
  return {
    shardId, index, term, membership, filepath, fileSize, checksum, type, files,
    dummy: (flags & SS_DUMMY) !== 0, witness: (flags & SS_WITNESS) !== 0, imported: (flags & SS_IMPORTED) !== 0, onDiskIndex,
  };
}

/** Appends a snapshot record in the fixed layout. */
export function writeSnapshotMetaFixed(w: Writer, s: SnapshotMeta): void {
  w.u64le(s.shardId); w.u64le(s.index); w.u64le(s.term);
  writeMembershipFixed(w, s.membership);
  w.str32(s.filepath); w.u64le(s.fileSize); w.bytes32(s.checksum); w.u8(s.type);
  w.u32le(s.files.length);
  for (const f of s.files) { w.u64le(f.fileId); w.str32(f.filepath); w.u64le(f.fileSize); w.bytes32(f.metadata); }
  w.u8(flagsOf(s));
  w.u64le(s.onDiskIndex);
}

/** Reads a fixed-layout snapshot record (byte strings copied). @throws CodecError */
export function readSnapshotMetaFixed(r: Reader): SnapshotMeta {
  const shardId = r.u64le(), index = r.u64le(), term = r.u64le();
  const membership = readMembershipFixed(r);
  const filepath = r.str32(), fileSize = r.u64le(), checksum = r.bytes32(true), type = checkSmType(r.u8());
  const n = r.count32(1);
  const files: SnapshotFile[] = [];
  for (let i = 0; i < n; i++) {
    const fileId = r.u64le(), fp = r.str32(), size = r.u64le();
    files.push({ fileId, filepath: fp, fileSize: size, metadata: r.bytes32(true) });
  }
  const flags = checkFlags(r.u8());
  return meta(shardId, index, term, membership, filepath, fileSize, checksum, type, files, flags, r.u64le());
}

/** Appends a snapshot record in the varint layout. @throws CodecError on an integer that is not a safe non-negative one. */
export function writeSnapshotMetaVarint(w: Writer, s: SnapshotMeta): void {
  w.varint(s.shardId); w.varint(s.index); w.varint(s.term);
  writeMembershipVarint(w, s.membership);
  w.strVar(s.filepath); w.varint(s.fileSize); w.bytesVar(s.checksum); w.u8(s.type);
  w.varint(s.files.length);
  for (const f of s.files) { w.varint(f.fileId); w.strVar(f.filepath); w.varint(f.fileSize); w.bytesVar(f.metadata); }
  w.u8(flagsOf(s));
  w.varint(s.onDiskIndex);
}

/** Reads a varint-layout snapshot record (byte strings are views into the input). @throws CodecError */
export function readSnapshotMetaVarint(r: Reader): SnapshotMeta {
  const shardId = r.varint(), index = r.varint(), term = r.varint();
  const membership = readMembershipVarint(r);
  const filepath = r.strVar(), fileSize = r.varint(), checksum = r.bytesVar(), type = checkSmType(r.u8());
  const n = r.count(FILE_VARINT_MIN_BYTES);
  const files: SnapshotFile[] = [];
  for (let i = 0; i < n; i++) {
    const fileId = r.varint(), fp = r.strVar(), size = r.varint();
    files.push({ fileId, filepath: fp, fileSize: size, metadata: r.bytesVar() });
  }
  const flags = checkFlags(r.u8());
  return meta(shardId, index, term, membership, filepath, fileSize, checksum, type, files, flags, r.varint());
}
