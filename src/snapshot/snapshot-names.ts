/**
 * Names inside a snapshot root, as dragonboat lays them out: final directories
 * `snapshot-<index as 16 upper-case hex digits>`, and temporary ones with a suffix saying what
 * they are for. A unique part (`-<n>`) before the suffix keeps two saves or two incoming
 * streams of the same index apart. Anything else in the root is left alone.
 *
 * Exported snapshots live in a directory the operator shares between shards and replicas, so
 * their names carry both: `shard-<s>-replica-<r>-snapshot-<hex>` (temporary ones with the same
 * unique part and suffix). Two shards, or two replicas of one shard, exporting into one
 * directory never meet; the same replica exporting the same index again replaces its export.
 */

/** What a directory in a snapshot root is. */
export const DirKind = {
  /** A committed snapshot (valid if its metadata file is). */
  Final: 'final',
  /** A snapshot being saved; removed at start. */
  Generating: 'generating',
  /** A snapshot being received from a leader; removed at start. */
  Receiving: 'receiving',
  /** A snapshot being removed (renamed first so a crash never leaves half of a final dir). */
  Deleting: 'deleting',
} as const;
/** One of {@link DirKind}. */
export type DirKind = (typeof DirKind)[keyof typeof DirKind];

const FINAL = /^snapshot-([0-9A-F]{16})$/;
const TEMP = /^snapshot-([0-9A-F]{16})(?:-[0-9a-z]+)?\.(generating|receiving|deleting)$/;

/** The 16-digit upper-case hex form of an index. */
export function indexHex(index: number): string {
  return index.toString(16).toUpperCase().padStart(16, '0');
}

/** `snapshot-<hex>`: the final directory name of the snapshot at `index`. */
export function finalDirName(index: number): string {
  return `snapshot-${indexHex(index)}`;
}

/** A temporary directory name; `unique` is omitted when 0. */
export function tempDirName(index: number, kind: Exclude<DirKind, 'final'>, unique: number): string {
  return `snapshot-${indexHex(index)}${unique === 0 ? '' : `-${unique.toString(36)}`}.${kind}`;
}

/** `shard-<s>-replica-<r>-snapshot-<hex>`: the directory of an exported snapshot. */
export function exportDirName(shardId: number, replicaId: number, index: number): string {
  return `shard-${shardId}-replica-${replicaId}-snapshot-${indexHex(index)}`;
}

/** A temporary directory name beside exports (being written, or an old export being replaced). */
export function exportTempDirName(shardId: number, replicaId: number, index: number, kind: 'generating' | 'deleting', unique: number): string {
  return `${exportDirName(shardId, replicaId, index)}${unique === 0 ? '' : `-${unique.toString(36)}`}.${kind}`;
}

const EXPORT = /^shard-(\d{1,15})-replica-(\d{1,15})-snapshot-([0-9A-F]{16})$/;

/** Parses an export directory name ({@link exportDirName}); null for any other name. */
export function parseExportDirName(name: string): { shardId: number; replicaId: number; index: number } | null {
  const m = EXPORT.exec(name);
  if (m === null) return null;
  const index = parseInt(m[3] as string, 16);
  if (!Number.isSafeInteger(index)) return null;
  return { shardId: Number(m[1]), replicaId: Number(m[2]), index };
}

/** The data file name inside a snapshot directory. */
export function dataFileName(index: number): string {
  return `snapshot-${indexHex(index)}.data`;
}

/** The name of external file `fileId` inside a snapshot directory (as the transport names it). */
export function externalFileName(fileId: number): string {
  return `external-file-${fileId}`;
}

/** Parses a directory name; null for names this layer does not own. */
export function parseDirName(name: string): { index: number; kind: DirKind } | null {
  const f = FINAL.exec(name);
  const t = f === null ? TEMP.exec(name) : null;
  const m = f ?? t;
  if (m === null) return null;
  const index = parseInt(m[1] as string, 16);
  // Indexes are safe integers everywhere else; a larger name is not one of ours.
  if (!Number.isSafeInteger(index)) return null;
  return { index, kind: f !== null ? DirKind.Final : (m[2] as DirKind) };
}
