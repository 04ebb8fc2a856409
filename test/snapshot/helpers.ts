/** Shared helpers of the snapshot tests: temp directories, seeded bytes, a sample meta. */
import { StateMachineType, type Membership, type SnapshotFile, type SnapshotMeta } from '../../src/core/types.js';
import { SnapshotFileWriter, type SnapshotFileWriterOptions } from '../../src/snapshot/file-writer.js';
import { tempDirFor, removeDir, seeded } from '../support/temp.js';

/** A fresh directory under the OS temp dir. */
export function tempDir(tag: string): string {
  return tempDirFor('snapshot', tag);
}

export { removeDir, seeded };

/**
 * `n` bytes that follow from `seed` alone; half random, half runs of one byte, so Snappy has
 * something to compress and something it cannot.
 */
export function seededBytes(seed: number, n: number): Buffer {
  const rnd = seeded(seed);
  const b = Buffer.allocUnsafe(n);
  let i = 0;
  while (i < n) {
    const run = Math.min(n - i, 1 + Math.floor(rnd() * 64));
    if (rnd() < 0.5) b.fill(Math.floor(rnd() * 256), i, i + run);
    else for (let k = 0; k < run; k++) b[i + k] = Math.floor(rnd() * 256);
    i += run;
  }
  return b;
}

/** A membership with three voters. */
export function sampleMembership(): Membership {
  return {
    configChangeId: 7,
    voters: new Map([[1, 'a:1'], [2, 'b:2'], [3, 'c:3']]),
    nonVoting: new Map(), witnesses: new Map(), removed: new Set([9]),
  };
}

/** Writes a snapshot file of `payload` (in `chunks` writes) and returns its summary. */
export async function writeFile(
  file: string, payload: Uint8Array, opts: SnapshotFileWriterOptions = {}, chunk = 4096,
  sessions: Uint8Array = Buffer.from('sessions!'), membership: Uint8Array = Buffer.from('membership'),
): Promise<{ fileSize: number; checksum: Uint8Array }> {
  const w = await SnapshotFileWriter.create(file, opts, sessions, membership);
  for (let off = 0; off < payload.length; off += chunk) await w.write(payload.subarray(off, off + chunk));
  return w.finish();
}

/** A SnapshotMeta for a data file written at `filepath`. */
export function metaFor(index: number, filepath: string, summary: { fileSize: number; checksum: Uint8Array }, files: SnapshotFile[] = []): SnapshotMeta {
  return {
    shardId: 1, index, term: 3, membership: sampleMembership(), filepath, fileSize: summary.fileSize,
    checksum: summary.checksum, type: StateMachineType.Regular, files, dummy: false, witness: false,
    onDiskIndex: 0, imported: false,
  };
}
