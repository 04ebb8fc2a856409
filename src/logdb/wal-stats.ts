/** The write-ahead log's counters. */

/** Counters for tests, benchmarks and metrics. */
export interface WalStats {
  readonly segments: number;
  /** Bytes of all segment files. */
  readonly totalBytes: number;
  /** Bytes of live entries (what the space bound is stated against). */
  readonly liveBytes: number;
  readonly writes: number;
  readonly syncs: number;
  readonly bytesWritten: number;
  /** Bytes of live entries compaction has copied forward. */
  readonly copiedBytes: number;
  /** Bytes cut from a torn tail at open. */
  readonly truncatedAtOpen: number;
}
