/**
 * The layout of a snapshot data file (version 1). Little-endian throughout, like the LogDB (the
 * u64 fields through src/encoding/'s fixed-width helpers).
 *
 * ```
 *   header    64 B   magic "SMPNSNAP", version, header size, checksum type, compression,
 *                    block size, sessions size, membership size, metadata CRC, header CRC
 *   metadata         client sessions bytes, then membership bytes (opaque to this layer)
 *   blocks           0..n of: stored length u32, raw length u32, flag u8, 3 zero bytes,
 *                    CRC-32 u32 of the 12 bytes before it and the data; then the data
 *   footer    40 B   magic "SMPNFOOT", block count, payload size, bytes of all blocks,
 *                    digest (CRC-32 over the header, metadata and block CRCs), footer CRC
 * ```
 *
 * Sessions and membership come first so a reader can restore them before the user data. The
 * footer sits at the end of the file at a fixed size so a truncated file is detected before
 * any block is read, and `blocksBytes` ties the footer to the header: the blocks must tile the
 * space between them exactly. The footer CRC covers every other CRC of the file, so its four
 * bytes serve as the file's checksum (`SnapshotMeta.checksum`).
 *
 * This module only lays out and checks fixed-size records; reading and writing files live in
 * file-reader.ts and file-writer.ts.
 */
import { crc32 } from '../encoding/crc32.js';
import { getU64LE } from '../encoding/reader.js';
import { putU32LE, putU64LE } from '../encoding/writer.js';
import { CorruptionError } from '../errors.js';
import { CompressionType } from './compression.js';

/** The current (and only) format version. */
export const SNAPSHOT_FORMAT_VERSION = 1;
/** Bytes of the fixed header. */
export const HEADER_BYTES = 64;
/** Bytes of a block's header (before its data). */
export const BLOCK_HEADER_BYTES = 16;
/** Bytes of the fixed footer. */
export const FOOTER_BYTES = 40;
/** The largest block size a file may declare (bounds a reader's allocation). */
export const MAX_BLOCK_SIZE = 64 * 1024 * 1024;
/** The default block size of writers. */
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;

/** Checksum algorithms a file may name. Only CRC-32 (IEEE) exists in version 1. */
export const ChecksumType = { Crc32: 1 } as const;
/** One of {@link ChecksumType}. */
export type ChecksumType = (typeof ChecksumType)[keyof typeof ChecksumType];

/** How one block's data is stored. */
export const BlockFlag = { Raw: 0, Snappy: 1 } as const;
/** One of {@link BlockFlag}. */
export type BlockFlag = (typeof BlockFlag)[keyof typeof BlockFlag];

const HEADER_MAGIC = Buffer.from('SMPNSNAP', 'latin1');
const FOOTER_MAGIC = Buffer.from('SMPNFOOT', 'latin1');

/** The decoded fixed header of a snapshot file. */
export interface SnapshotFileHeader {
  readonly version: number;
  readonly checksumType: ChecksumType;
  readonly compression: CompressionType;
  /** The largest raw size of one block. */
  readonly blockSize: number;
  readonly sessionsSize: number;
  readonly membershipSize: number;
  /** CRC-32 of the sessions bytes followed by the membership bytes. */
  readonly metadataCrc: number;
  /** The header's own CRC (part of the file digest). */
  readonly headerCrc: number;
}

/** The decoded footer. */
export interface SnapshotFileFooter {
  readonly blockCount: number;
  /** Sum of the blocks' raw (uncompressed) sizes. */
  readonly payloadSize: number;
  /** Bytes from the end of the metadata to the footer: all block headers and data. */
  readonly blocksBytes: number;
  readonly digest: number;
  readonly footerCrc: number;
}

/** A block's decoded header. */
export interface BlockHeader {
  readonly storedLength: number;
  readonly rawLength: number;
  readonly flag: BlockFlag;
  readonly crc: number;
}

/** Encodes a header; `headerCrc` in the argument is ignored and computed. */
export function encodeHeader(h: Omit<SnapshotFileHeader, 'headerCrc' | 'version' | 'checksumType'>): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  HEADER_MAGIC.copy(b, 0);
  b.writeUInt16LE(SNAPSHOT_FORMAT_VERSION, 8);
  b.writeUInt16LE(HEADER_BYTES, 10);
  b.writeUInt8(ChecksumType.Crc32, 12);
  b.writeUInt8(h.compression, 13);
  b.writeUInt32LE(h.blockSize, 16);
  putU64LE(b, 24, h.sessionsSize);
  putU64LE(b, 32, h.membershipSize);
  b.writeUInt32LE(h.metadataCrc >>> 0, 40);
  b.writeUInt32LE(crc32(b.subarray(0, HEADER_BYTES - 4)), HEADER_BYTES - 4);
  return b;
}

/**
 * Decodes and checks a header read from the start of `file`.
 * @throws CorruptionError on a wrong magic, CRC, version, or any field out of range.
 */
export function decodeHeader(b: Buffer, file: string): SnapshotFileHeader {
  const bad = (what: string, offset: number): CorruptionError => new CorruptionError(`damaged snapshot header of ${file}: ${what} at offset ${offset}`, { file, offset });
  if (b.length < HEADER_BYTES) throw bad('truncated', b.length);
  if (!b.subarray(0, 8).equals(HEADER_MAGIC)) throw bad('not a snapshot file (bad magic)', 0);
  const headerCrc = b.readUInt32LE(HEADER_BYTES - 4);
  if (crc32(b.subarray(0, HEADER_BYTES - 4)) !== headerCrc) throw bad('checksum mismatch', HEADER_BYTES - 4);
  const version = b.readUInt16LE(8);
  if (version !== SNAPSHOT_FORMAT_VERSION) throw bad(`unsupported version ${version}`, 8);
  if (b.readUInt16LE(10) !== HEADER_BYTES) throw bad(`bad header size ${b.readUInt16LE(10)}`, 10);
  const checksumType = b.readUInt8(12);
  if (checksumType !== ChecksumType.Crc32) throw bad(`unknown checksum type ${checksumType}`, 12);
  const compression = b.readUInt8(13);
  if (compression !== CompressionType.None && compression !== CompressionType.Snappy) throw bad(`unknown compression ${compression}`, 13);
  const blockSize = b.readUInt32LE(16);
  if (blockSize < 1 || blockSize > MAX_BLOCK_SIZE) throw bad(`block size ${blockSize} out of range`, 16);
  const sessionsSize = getU64LE(b, 24);
  if (sessionsSize === undefined) throw bad('sessions size out of range', 24);
  const membershipSize = getU64LE(b, 32);
  if (membershipSize === undefined) throw bad('membership size out of range', 32);
  return {
    version, checksumType, compression, blockSize, sessionsSize, membershipSize,
    metadataCrc: b.readUInt32LE(40), headerCrc,
  };
}

/** Encodes a footer and computes its CRC. */
export function encodeFooter(f: Omit<SnapshotFileFooter, 'footerCrc'>): Buffer {
  const b = Buffer.alloc(FOOTER_BYTES);
  FOOTER_MAGIC.copy(b, 0);
  putU64LE(b, 8, f.blockCount);
  putU64LE(b, 16, f.payloadSize);
  putU64LE(b, 24, f.blocksBytes);
  b.writeUInt32LE(f.digest >>> 0, 32);
  b.writeUInt32LE(crc32(b.subarray(0, FOOTER_BYTES - 4)), FOOTER_BYTES - 4);
  return b;
}

/**
 * Decodes and checks a footer found at byte `offset` of `file`.
 * @throws CorruptionError on a wrong magic or CRC, or a count that cannot be.
 */
export function decodeFooter(b: Buffer, file: string, offset: number): SnapshotFileFooter {
  const bad = (what: string, at: number): CorruptionError => new CorruptionError(`damaged snapshot footer of ${file}: ${what} at offset ${offset + at}`, { file, offset: offset + at });
  if (b.length < FOOTER_BYTES) throw bad('truncated', b.length);
  if (!b.subarray(0, 8).equals(FOOTER_MAGIC)) throw bad('bad magic (truncated or damaged file)', 0);
  const footerCrc = b.readUInt32LE(FOOTER_BYTES - 4);
  if (crc32(b.subarray(0, FOOTER_BYTES - 4)) !== footerCrc) throw bad('checksum mismatch', FOOTER_BYTES - 4);
  const blockCount = getU64LE(b, 8), payloadSize = getU64LE(b, 16), blocksBytes = getU64LE(b, 24);
  if (blockCount === undefined || payloadSize === undefined || blocksBytes === undefined) throw bad('count out of range', 8);
  return { blockCount, payloadSize, blocksBytes, digest: b.readUInt32LE(32), footerCrc };
}

/** Encodes a block header for `data` (the bytes as stored) and returns it with its CRC. */
export function encodeBlockHeader(data: Uint8Array, rawLength: number, flag: BlockFlag): { header: Buffer; crc: number } {
  const b = Buffer.alloc(BLOCK_HEADER_BYTES);
  b.writeUInt32LE(data.length, 0);
  b.writeUInt32LE(rawLength, 4);
  b.writeUInt8(flag, 8);
  const crc = crc32(data, crc32(b.subarray(0, 12)));
  b.writeUInt32LE(crc, 12);
  return { header: b, crc };
}

/**
 * Decodes a block header at `offset` and checks its fields against the file's block size.
 * The CRC is checked later, with the data ({@link blockCrc}).
 * @throws CorruptionError when a length or the flag cannot be valid.
 */
export function decodeBlockHeader(b: Buffer, blockSize: number, file: string, offset: number): BlockHeader {
  const bad = (what: string, at: number): CorruptionError => new CorruptionError(`damaged snapshot block of ${file}: ${what} at offset ${offset + at}`, { file, offset: offset + at });
  const storedLength = b.readUInt32LE(0), rawLength = b.readUInt32LE(4), flag = b.readUInt8(8);
  if (rawLength < 1 || rawLength > blockSize) throw bad(`raw length ${rawLength} out of range`, 4);
  // Writers store a block raw unless compression made it smaller, so stored <= raw always.
  if (storedLength < 1 || storedLength > rawLength) throw bad(`stored length ${storedLength} out of range`, 0);
  if (flag !== BlockFlag.Raw && flag !== BlockFlag.Snappy) throw bad(`unknown flag ${flag}`, 8);
  if (flag === BlockFlag.Raw && storedLength !== rawLength) throw bad('raw block with differing lengths', 0);
  if (b.readUIntLE(9, 3) !== 0) throw bad('reserved bytes not zero', 9);
  return { storedLength, rawLength, flag: flag as BlockFlag, crc: b.readUInt32LE(12) };
}

/** The CRC a block header and its stored data must carry. */
export function blockCrc(headerBytes: Buffer, data: Uint8Array): number {
  return crc32(data, crc32(headerBytes.subarray(0, 12)));
}

/**
 * Folds one CRC into the running file digest. The digest covers the header CRC, the metadata
 * CRC and every block CRC in order, so any change of content changes it without a second
 * pass over the data.
 */
export function foldDigest(digest: number, crc: number): number {
  const b = new Uint8Array(4);
  putU32LE(b, 0, crc >>> 0);
  return crc32(b, digest);
}

/** The checksum recorded for a file: its footer CRC, as 4 little-endian bytes. */
export function fileChecksum(footerCrc: number): Uint8Array {
  const out = new Uint8Array(4);
  putU32LE(out, 0, footerCrc >>> 0);
  return out;
}
