/** The write-ahead log's counters. */

/** Counters for tests, benchmarks and metrics. */
export interface WalStats {
  /** Segment files the log has now. */
  readonly segments: number;
  /** Bytes of all segment files. */
  readonly totalBytes: number;
  /** Bytes of live entries (what the space bound is stated against). */
  readonly liveBytes: number;
  /** Batches written (each one a commit of one or more updates). */
  readonly writes: number;
  /** fdatasync calls made. */
  readonly syncs: number;
  /** Bytes written to segment files, framing included. */
  readonly bytesWritten: number;
  /** Bytes of live entries compaction has copied forward. */
  readonly copiedBytes: number;
  /** Bytes cut from a torn tail at open. */
  readonly truncatedAtOpen: number;
  /** Entries read back from segment files because they were no longer cached (`cacheBytes`). */
  readonly entriesReadFromDisk: number;
}
