/**
 * The snapshot layer: the snapshot data file format, the per-replica snapshotter (temporary
 * directories, atomic commit, cleanup, retention) and external files. This module names every
 * export the host, the state machine adapter and the import tool use.
 */
export { CompressionType, type CompressionName } from './compression.js';
export {
  SNAPSHOT_FORMAT_VERSION, DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE, ChecksumType,
  type SnapshotFileHeader, type SnapshotFileFooter,
} from './format.js';
export { SnapshotFileWriter, type SnapshotFileWriterOptions, type SnapshotFileSummary } from './file-writer.js';
export { openSnapshotFile, verifySnapshotFile, type OpenedSnapshotFile, type VerifiedSnapshotFile } from './file-reader.js';
export { FileCollector, type CollectedFile } from './external-files.js';
export { METADATA_FILE, type SnapshotDirMetadata } from './metadata-file.js';
export { readSnapshotDir, verifySnapshotDir } from './snapshot-dir.js';
export { finalDirName, indexHex } from './snapshot-names.js';
export {
  Snapshotter, EnvKind, type SnapshotEnv, type SnapshotterOptions, type CleanupReport, type RemovalReport,
} from './snapshotter.js';
