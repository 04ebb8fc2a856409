/**
 * The metadata file of a snapshot directory: the SnapshotMeta (with paths relative to the
 * directory, so an exported directory can be moved) and a CRC-32 per external file, the
 * whole checksummed. Its presence and validity is what makes a final directory a snapshot:
 * cleanup removes final directories whose metadata file is missing or damaged.
 *
 * ```
 *   magic "SMPNMETA" | version u16 | 2 zero bytes | body length u32 | body | CRC-32 u32
 *   body: SnapshotMeta (fixed layout, src/encoding/snapshot-meta.ts) | file count u32 |
 *         per file: fileId u64, CRC u32
 * ```
 */
import * as path from 'node:path';
import type { SnapshotMeta } from '../core/types.js';
import { CorruptionError, InvalidOperationError } from '../errors.js';
import { crc32 } from '../encoding/crc32.js';
import { Reader } from '../encoding/reader.js';
import { FIXED } from '../encoding/layout.js';
import { readSnapshotMeta, writeSnapshotMeta } from '../encoding/snapshot-meta.js';
import { Writer } from '../encoding/writer.js';
import { isErrno, storageError } from './durable-fs.js';
import { realFileSystem, type FileHandle, type FileSystem } from '../runtime/index.js';

/** File name of the metadata file inside a snapshot directory. */
export const METADATA_FILE = 'snapshot.metadata';
const MAGIC = Buffer.from('SMPNMETA', 'latin1');
const VERSION = 1;
const PREFIX = 16;

/** A snapshot directory's metadata as read back. */
export interface SnapshotDirMetadata {
  /** The record with `filepath` and `files[].filepath` resolved inside the directory. */
  readonly meta: SnapshotMeta;
  /** CRC-32 of each external file's bytes, by fileId. */
  readonly fileCrcs: ReadonlyMap<number, number>;
}

/** The name a file has inside its snapshot directory; '' stays '' (no data file). */
function relativeName(dir: string, p: string): string {
  if (p === '') return '';
  const rel = path.relative(dir, p);
  // Files always sit directly in the snapshot directory; anything else is a caller bug.
  if (rel === '' || rel.includes(path.sep) || rel.startsWith('..')) {
    throw new InvalidOperationError(`snapshot file ${p} is not directly inside ${dir}`);
  }
  return rel;
}

/**
 * Encodes the metadata of a snapshot whose files are in `dir` (paths in `meta` must point
 * into `dir`).
 * @throws InvalidOperationError when a path of `meta` is not directly inside `dir`.
 */
export function encodeMetadata(dir: string, meta: SnapshotMeta, fileCrcs: ReadonlyMap<number, number>): Buffer {
  const rel: SnapshotMeta = {
    ...meta,
    filepath: relativeName(dir, meta.filepath),
    files: meta.files.map((f) => ({ ...f, filepath: relativeName(dir, f.filepath) })),
  };
  const w = new Writer(1024);
  w.raw(MAGIC);
  w.u8(VERSION & 0xff); w.u8(VERSION >>> 8); w.u8(0); w.u8(0);
  const bodyLengthAt = w.skip(4);
  writeSnapshotMeta(w, rel, FIXED);
  w.u32le(meta.files.length);
  for (const f of meta.files) { w.u64le(f.fileId); w.u32le(fileCrcs.get(f.fileId) ?? 0); }
  w.patchU32le(bodyLengthAt, w.pos - PREFIX);
  w.u32le(crc32(w.view()));
  return w.copyOut();
}

/**
 * Decodes a metadata file's bytes; paths are resolved inside `dir`.
 * @throws CorruptionError (file and offset) on any damage.
 */
export function decodeMetadata(dir: string, b: Buffer, file = path.join(dir, METADATA_FILE)): SnapshotDirMetadata {
  const bad = (what: string, offset: number, cause?: unknown): CorruptionError =>
    new CorruptionError(`damaged snapshot metadata ${file}: ${what} at offset ${offset}`, { file, offset, cause });
  if (b.length < PREFIX + 4) throw bad('truncated', b.length);
  if (!b.subarray(0, 8).equals(MAGIC)) throw bad('bad magic', 0);
  const bodyLen = b.readUInt32LE(12);
  if (PREFIX + bodyLen + 4 !== b.length) throw bad(`body length ${bodyLen} does not match the file`, 12);
  if (crc32(b.subarray(0, b.length - 4)) !== b.readUInt32LE(b.length - 4)) throw bad('checksum mismatch', b.length - 4);
  if (b.readUInt16LE(8) !== VERSION) throw bad(`unsupported version ${b.readUInt16LE(8)}`, 8);
  const r = new Reader(b, PREFIX, b.length - 4);
  let rel: SnapshotMeta;
  const fileCrcs = new Map<number, number>();
  try {
    rel = readSnapshotMeta(r, FIXED);
    const n = r.u32le();
    for (let i = 0; i < n; i++) { const id = r.u64le(); fileCrcs.set(id, r.u32le()); }
    r.done();
  } catch (err) {
    throw bad('malformed record', r.pos, err);
  }
  const resolve = (name: string): string => {
    if (name === '') return '';
    if (name !== path.basename(name) || name === '.' || name === '..') throw bad(`file name '${name}' escapes the directory`, PREFIX);
    return path.join(dir, name);
  };
  const meta: SnapshotMeta = {
    ...rel,
    filepath: resolve(rel.filepath),
    files: rel.files.map((f) => ({ ...f, filepath: resolve(f.filepath) })),
  };
  return { meta, fileCrcs };
}

/**
 * Reads the metadata file of snapshot directory `dir` through `fs` (default: Node's).
 * @returns null when the file does not exist.
 * @throws CorruptionError when it is damaged; StorageError when it cannot be read.
 */
export async function readMetadataFile(dir: string, fs: FileSystem = realFileSystem): Promise<SnapshotDirMetadata | null> {
  const file = path.join(dir, METADATA_FILE);
  let b: Buffer;
  try {
    b = await fs.promises.readFile(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw storageError(`read ${file}`, err);
  }
  return decodeMetadata(dir, b, file);
}

/**
 * Writes the metadata file into `dir` through `fs` (default: Node's) and fsyncs it (not the
 * directory: the caller's commit syncs the directory before renaming it).
 * @throws StorageError; InvalidOperationError as {@link encodeMetadata}.
 */
export async function writeMetadataFile(dir: string, meta: SnapshotMeta, fileCrcs: ReadonlyMap<number, number>,
  fs: FileSystem = realFileSystem): Promise<void> {
  const b = encodeMetadata(dir, meta, fileCrcs);
  const file = path.join(dir, METADATA_FILE);
  let h: FileHandle | undefined;
  try {
    h = await fs.promises.open(file, 'w');
    await h.writeFile(b);
    await h.sync();
  } catch (err) {
    throw storageError(`write ${file}`, err);
  } finally {
    await h?.close().catch(() => undefined);
  }
}
