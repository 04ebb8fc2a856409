/**
 * One committed snapshot directory, read and checked on its own: used by the snapshotter for
 * its replica's snapshots and by the import tool for an exported one (which has the same
 * layout: a data file, external files, and the metadata file).
 */
import * as path from 'node:path';
import type { SnapshotMeta } from '../core/types.js';
import { CorruptionError, SnapshotNotFoundError } from '../errors.js';
import { isErrno, storageError } from './durable-fs.js';
import { fileCrc } from './external-files.js';
import { verifySnapshotFile } from './file-reader.js';
import { readMetadataFile, type SnapshotDirMetadata } from './metadata-file.js';
import { type DirKind, parseDirName, parseExportDirName } from './snapshot-names.js';
import { realFileSystem, type DirEntry, type FileSystem } from '../runtime/index.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Reads the metadata of the snapshot directory `dir` (not the data) through `fs` (default Node's). When the directory name
 * has the `snapshot-<hex>` form, the recorded index must match it; when it has the export form
 * `shard-<s>-replica-<r>-snapshot-<hex>`, the recorded shard and index must.
 * @throws SnapshotNotFoundError when `dir` or its metadata file does not exist.
 * @throws CorruptionError when the metadata file is damaged or names another index.
 * @throws StorageError when it cannot be read.
 */
export async function readSnapshotDir(dir: string, fs: FileSystem = realFileSystem): Promise<SnapshotDirMetadata> {
  const md = await readMetadataFile(dir, fs);
  if (md === null) throw new SnapshotNotFoundError(`no snapshot metadata in ${dir}`);
  const parsed = parseDirName(path.basename(dir));
  if (parsed !== null && parsed.index !== md.meta.index) {
    throw new CorruptionError(`snapshot directory ${dir} holds index ${md.meta.index}`, { file: dir });
  }
  const exported = parseExportDirName(path.basename(dir));
  if (exported !== null && (exported.index !== md.meta.index || exported.shardId !== md.meta.shardId)) {
    throw new CorruptionError(`snapshot directory ${dir} holds shard ${md.meta.shardId} index ${md.meta.index}`, { file: dir });
  }
  return md;
}

/**
 * Checks every byte of a snapshot directory (read through `fs`, default Node's): the metadata file, the whole data file (which
 * must match the recorded size and checksum) and each external file (size and CRC-32).
 * @returns the metadata, with paths inside `dir`.
 * @throws SnapshotNotFoundError, CorruptionError, StorageError as {@link readSnapshotDir};
 *   CorruptionError naming the file for any damaged or missing data or external file.
 */
export async function verifySnapshotDir(dir: string, fs: FileSystem = realFileSystem): Promise<SnapshotDirMetadata> {
  const md = await readSnapshotDir(dir, fs);
  const { meta } = md;
  if (meta.filepath !== '') {
    const missing = await fs.promises.stat(meta.filepath).then(() => false, (err: unknown) => {
      if (isErrno(err, 'ENOENT')) return true;
      throw storageError(`stat ${meta.filepath}`, err);
    });
    if (missing) throw new CorruptionError(`snapshot data file ${meta.filepath} is missing`, { file: meta.filepath });
    const v = await verifySnapshotFile(meta.filepath, fs);
    if (v.fileSize !== meta.fileSize || !sameBytes(v.checksum, meta.checksum)) {
      throw new CorruptionError(`snapshot data file ${meta.filepath} does not match its recorded size and checksum`, { file: meta.filepath });
    }
  }
  for (const f of meta.files) {
    let got: { crc: number; size: number };
    try {
      got = await fileCrc(fs, f.filepath);
    } catch (err) {
      if (isErrno((err as Error).cause, 'ENOENT')) throw new CorruptionError(`snapshot external file ${f.filepath} is missing`, { file: f.filepath });
      throw err;
    }
    if (got.size !== f.fileSize) throw new CorruptionError(`external file ${f.filepath} is ${got.size} bytes, recorded ${f.fileSize}`, { file: f.filepath, offset: Math.min(got.size, f.fileSize) });
    if (got.crc !== md.fileCrcs.get(f.fileId)) throw new CorruptionError(`external file ${f.filepath}: checksum mismatch`, { file: f.filepath });
  }
  return md;
}

/** True when two records describe the same snapshot files (for comparing a caller's meta). */
export function sameSnapshotFiles(a: SnapshotMeta, b: SnapshotMeta): boolean {
  return a.index === b.index && a.fileSize === b.fileSize && sameBytes(a.checksum, b.checksum) &&
    a.files.length === b.files.length && a.files.every((f, i) => f.fileId === b.files[i]?.fileId && f.fileSize === b.files[i]?.fileSize);
}

/** A directory of a snapshot root that this layer owns. */
export interface SnapshotDirEntry {
  readonly name: string;
  readonly index: number;
  readonly kind: DirKind;
}

/**
 * The directories of snapshot root `root` (listed through `fs`) whose names this layer owns (final and temporary),
 * in no particular order; other entries are ignored. A missing root has none.
 * @throws StorageError when the root cannot be listed.
 */
export async function listSnapshotDirs(fs: FileSystem, root: string): Promise<SnapshotDirEntry[]> {
  let dirents: DirEntry[];
  try {
    dirents = await fs.promises.readdir(root, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw storageError(`list ${root}`, err);
  }
  const out: SnapshotDirEntry[] = [];
  for (const d of dirents) {
    const parsed = d.isDirectory() ? parseDirName(d.name) : null;
    if (parsed !== null) out.push({ name: d.name, ...parsed });
  }
  return out;
}
