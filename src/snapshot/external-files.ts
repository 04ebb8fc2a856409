/**
 * External files of a snapshot (dragonboat's file collection): files a regular or concurrent
 * state machine already has on disk (e.g. an embedded store's table files) and wants carried
 * with the snapshot instead of re-serialised. They are hard-linked into the snapshot's
 * temporary directory when the filesystem allows it (no copy, no extra space) and copied
 * otherwise. A hard link shares the bytes with the source, so the state machine must never
 * modify an added file in place afterwards (replace it instead); the CRC recorded at commit
 * catches a violation at the next verification.
 */
import * as path from 'node:path';
import type { SnapshotFile } from '../core/types.js';
import { EMPTY_BYTES } from '../core/types.js';
import { InvalidOptionError } from '../errors.js';
import { crc32 } from '../encoding/crc32.js';
import type { SnapshotFileCollection } from '../contracts/state-machine.js';
import { storageError } from './durable-fs.js';
import { externalFileName } from './snapshot-names.js';
import type { FileHandle, FileStats, FileSystem } from '../runtime/index.js';

/** `fs.constants.COPYFILE_EXCL`: the copy fails if the target exists. */
const COPYFILE_EXCL = 1;

/** A file a state machine asked to add, before it is linked in. */
export interface CollectedFile {
  readonly fileId: number;
  readonly path: string;
  readonly metadata: Uint8Array;
}

/**
 * The {@link SnapshotFileCollection} handed to `saveSnapshot`: it only records the requests
 * (the contract's `addFile` is synchronous); the snapshotter links them in afterwards.
 */
export class FileCollector implements SnapshotFileCollection {
  private readonly byId = new Map<number, CollectedFile>();

  /**
   * Records a file to add.
   * @throws InvalidOptionError for a fileId that is not a non-negative safe integer or was
   *   already added, or an empty path.
   */
  addFile(fileId: number, filePath: string, metadata: Uint8Array = EMPTY_BYTES): void {
    if (!Number.isSafeInteger(fileId) || fileId < 0) throw new InvalidOptionError(`snapshot fileId must be a non-negative integer, got ${fileId}`);
    if (this.byId.has(fileId)) throw new InvalidOptionError(`snapshot fileId ${fileId} added twice`);
    if (filePath === '') throw new InvalidOptionError(`snapshot file ${fileId} has an empty path`);
    this.byId.set(fileId, { fileId, path: filePath, metadata });
  }

  /** The recorded files, in the order added. */
  files(): readonly CollectedFile[] {
    return [...this.byId.values()];
  }
}

/**
 * Links (or, across filesystems or where links are refused, copies) `srcPath` into `dir` as
 * `external-file-<fileId>` (through `fs`) and describes it.
 * @throws InvalidOptionError when the source is not a regular file.
 * @throws StorageError when it cannot be linked, copied or examined (e.g. the target exists).
 */
export async function linkOrCopyInto(fs: FileSystem, dir: string, fileId: number, srcPath: string, metadata: Uint8Array): Promise<SnapshotFile> {
  const dest = path.join(dir, externalFileName(fileId));
  let st: FileStats;
  try {
    st = await fs.promises.stat(srcPath);
  } catch (err) {
    throw storageError(`stat external file ${srcPath}`, err);
  }
  if (!st.isFile()) throw new InvalidOptionError(`snapshot external file ${srcPath} is not a regular file`);
  try {
    await fs.promises.link(srcPath, dest);
  } catch (linkErr) {
    // EXDEV (another filesystem), EPERM/ENOTSUP (no hard links): a copy is always possible.
    try {
      await fs.promises.copyFile(srcPath, dest, COPYFILE_EXCL);
    } catch (err) {
      throw storageError(`add external file ${srcPath} (link failed: ${(linkErr as Error).message})`, err);
    }
  }
  let size: number;
  try {
    size = (await fs.promises.stat(dest)).size;
  } catch (err) {
    throw storageError(`stat ${dest}`, err);
  }
  return { fileId, filepath: dest, fileSize: size, metadata };
}

/**
 * CRC-32 and size of a whole file, read in 1 MiB chunks through `fs`.
 * @throws StorageError when it cannot be read.
 */
export async function fileCrc(fs: FileSystem, file: string): Promise<{ crc: number; size: number }> {
  let h: FileHandle | undefined;
  try {
    h = await fs.promises.open(file, 'r');
    const buf = Buffer.allocUnsafe(1024 * 1024);
    let crc = 0, size = 0;
    for (;;) {
      const { bytesRead } = await h.read(buf, 0, buf.length, size);
      if (bytesRead === 0) break;
      crc = crc32(buf.subarray(0, bytesRead), crc);
      size += bytesRead;
    }
    return { crc, size };
  } catch (err) {
    throw storageError(`read ${file}`, err);
  } finally {
    await h?.close().catch(() => undefined);
  }
}
