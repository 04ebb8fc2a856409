/**
 * Errors raised by the log layer of the core. They are conditions the protocol handles
 * itself (a compacted index makes the leader send a snapshot), so they rarely reach users.
 */
import { SampanError } from '../errors.js';

/** The requested index is at or below the log's compaction point. */
export class CompactedError extends SampanError {
  /** Creates the error (code `LOG_COMPACTED`) for the compacted `index`. */
  constructor(index: number) { super('LOG_COMPACTED', `log index ${index} is compacted`); }
}

/** The requested index is past the end of the log. */
export class UnavailableError extends SampanError {
  /** Creates the error (code `LOG_UNAVAILABLE`) for the missing `index`. */
  constructor(index: number) { super('LOG_UNAVAILABLE', `log index ${index} is unavailable`); }
}

/** A snapshot older than the one the storage already holds. */
export class SnapshotOutOfDateError extends SampanError {
  /** Creates the error (code `SNAPSHOT_OUT_OF_DATE`): snapshot `index` is not newer than `current`. */
  constructor(index: number, current: number) {
    super('SNAPSHOT_OUT_OF_DATE', `snapshot ${index} is not newer than the current snapshot ${current}`);
  }
}
