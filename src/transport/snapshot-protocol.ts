/**
 * Payloads of the frames on a snapshot stream connection:
 *
 * ```
 * sender → receiver: SnapshotHeader, SnapshotChunk*, SnapshotEnd
 * receiver → sender: SnapshotAck
 * header = version:u8 deploymentId sourceAddress:str hasDataFile:u8 fileCount size* message
 * chunk  = fileIndex offset data...        (chunks arrive in file order, offsets contiguous)
 * end    = empty                           (senders before issue 19)
 *        | version:u8 (1) fileCount crc:u32 BE*   (CRC-32 of each streamed file's bytes)
 * ack    = ok:u8 reason:str                (sent once the receiving host has committed the
 *                                           snapshot and handed it to the replica; before
 *                                           issue 19, once the files were written)
 * ```
 *
 * Streamed file 0 is `snapshot.filepath` when `hasDataFile`, and the rest are
 * `snapshot.files` in order. Each chunk is protected by its frame's CRC-32; the end frame's
 * CRCs, compared with the receiver's running CRC of what it wrote, prove each whole file
 * arrived, so the receiver need not read it back. Receivers before issue 19 ignore the end
 * frame's payload; an empty one (an older sender) leaves the receiver to read the files back.
 */
import type { Message } from '../core/types.js';
import { MessageType } from '../core/types.js';
import { CodecError } from '../errors.js';
import { Reader } from '../encoding/reader.js';
import { Writer } from '../encoding/writer.js';
import { readMessage, writeMessage } from './codec.js';

/** Version of the snapshot stream header (unchanged since the first release). */
const SNAPSHOT_HEADER_VERSION = 1;

/** The opening frame of a snapshot stream. */
export interface SnapshotStreamHeader {
  readonly deploymentId: number;
  readonly sourceAddress: string;
  /** Whether streamed file 0 is the snapshot data file (`snapshot.filepath`). */
  readonly hasDataFile: boolean;
  /** Byte size of each streamed file, in stream order. */
  readonly fileSizes: readonly number[];
  /** The InstallSnapshot message; `snapshot` is non-null. */
  readonly message: Message;
}

/** Encodes a stream header. @throws CodecError on unencodable fields. */
export function encodeSnapshotHeader(h: SnapshotStreamHeader): Buffer {
  const w = new Writer(1024);
  w.u8(SNAPSHOT_HEADER_VERSION);
  w.varint(h.deploymentId);
  w.strVar(h.sourceAddress);
  w.u8(h.hasDataFile ? 1 : 0);
  w.varint(h.fileSizes.length);
  for (const s of h.fileSizes) w.varint(s);
  writeMessage(w, h.message);
  return w.copyOut();
}

/**
 * Decodes and validates a stream header: an InstallSnapshot with a snapshot, and exactly one
 * size per streamed file. @throws CodecError otherwise.
 */
export function decodeSnapshotHeader(buf: Uint8Array): SnapshotStreamHeader {
  const r = new Reader(buf);
  const version = r.u8();
  if (version !== SNAPSHOT_HEADER_VERSION) throw new CodecError(`unsupported snapshot header version ${version}`);
  const deploymentId = r.varint();
  const sourceAddress = r.strVar();
  const flag = r.u8();
  if (flag > 1) throw new CodecError('bad hasDataFile flag');
  const n = r.count(1);
  const fileSizes: number[] = [];
  for (let i = 0; i < n; i++) fileSizes.push(r.varint());
  const message = readMessage(r);
  r.done();
  const snapshot = message.snapshot;
  if (message.type !== MessageType.InstallSnapshot || snapshot === null) {
    throw new CodecError('snapshot stream header does not carry an InstallSnapshot with a snapshot');
  }
  if (n !== flag + snapshot.files.length) throw new CodecError('snapshot stream file count does not match the snapshot');
  return { deploymentId, sourceAddress, hasDataFile: flag === 1, fileSizes, message };
}

/** Writes the chunk prefix (file index, offset) at `at` in `out`; returns its length (≤ 16). */
export function writeChunkPrefix(out: Buffer, at: number, fileIndex: number, offset: number): number {
  const w = new Writer(64);
  w.varint(fileIndex);
  w.varint(offset);
  w.view().copy(out, at);
  return w.pos;
}

/** The most bytes a chunk prefix takes (two varints). */
export const CHUNK_PREFIX_MAX = 20;

/**
 * Reads the chunk prefix at the start of `head` (at least the first {@link CHUNK_PREFIX_MAX}
 * bytes of the payload, or all of it when shorter). @returns the file index, the offset and the
 * prefix's length. @throws CodecError if malformed.
 */
export function decodeChunkPrefix(head: Uint8Array): { fileIndex: number; offset: number; prefixLength: number } {
  const r = new Reader(head);
  const fileIndex = r.varint();
  const offset = r.varint();
  return { fileIndex, offset, prefixLength: r.pos };
}

/** Splits a chunk payload. @throws CodecError if malformed. */
export function decodeChunk(payload: Uint8Array): { fileIndex: number; offset: number; data: Uint8Array } {
  const r = new Reader(payload);
  const fileIndex = r.varint();
  const offset = r.varint();
  return { fileIndex, offset, data: r.rest() };
}

/** Version of the end frame's payload. */
const SNAPSHOT_END_VERSION = 1;

/** Encodes the end frame's payload: the CRC-32 of each streamed file, in stream order. */
export function encodeSnapshotEnd(crcs: readonly number[]): Buffer {
  const w = new Writer(16 + 4 * crcs.length);
  w.u8(SNAPSHOT_END_VERSION);
  w.varint(crcs.length);
  for (const c of crcs) w.u32be(c >>> 0);
  return w.copyOut();
}

/**
 * Decodes the end frame's payload: the files' CRCs, or null for an empty payload (a sender
 * that sends none). @throws CodecError if malformed or of another version.
 */
export function decodeSnapshotEnd(payload: Uint8Array): number[] | null {
  if (payload.length === 0) return null;
  const r = new Reader(payload);
  const version = r.u8();
  if (version !== SNAPSHOT_END_VERSION) throw new CodecError(`unsupported snapshot end version ${version}`);
  const n = r.count(4);
  const crcs: number[] = [];
  for (let i = 0; i < n; i++) crcs.push(r.u32be());
  r.done();
  return crcs;
}

/** Encodes the receiver's verdict. */
export function encodeAck(ok: boolean, reason: string): Buffer {
  const w = new Writer(128);
  w.u8(ok ? 1 : 0);
  w.strVar(reason.slice(0, 512));
  return w.copyOut();
}

/** Decodes the receiver's verdict. @throws CodecError if malformed. */
export function decodeAck(payload: Uint8Array): { ok: boolean; reason: string } {
  const r = new Reader(payload);
  const ok = r.u8() === 1;
  const reason = r.strVar();
  r.done();
  return { ok, reason };
}
