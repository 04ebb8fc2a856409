/**
 * `NodeHost.queryRaftLog` (dragonboat's QueryRaftLog): a read of a running replica's committed
 * log, for change capture and audit. Entries come from the LogDB through the replica's log
 * reader, as the Raft core reads them; membership changes come decoded.
 */
import { CompactedError } from '../core/errors.js';
import { EntryType, type ConfigChange, type Entry } from '../core/types.js';
import { decodeConfigChange } from '../encoding/config-change.js';
import { EntriesCompactedError, InvalidOptionError, LogUnavailableError } from '../errors.js';
import { decodeEntry } from './entry-compression.js';
import type { Replica } from './replica.js';

/** One committed log entry as `NodeHost.queryRaftLog` returns it. */
export interface RaftLogEntry {
  /** The entry's log index. */
  readonly index: number;
  /** The term it was proposed in. */
  readonly term: number;
  /**
   * `application` (a command given to `propose`, a session registration, or the empty no-op a
   * new leader appends), `config-change` (a membership change, see `configChange`) or
   * `metadata` (internal: e.g. a `verifyShard` marker; on a witness every entry).
   */
  readonly type: 'application' | 'config-change' | 'metadata';
  /**
   * The payload: the command's bytes as proposed (shared: do not mutate), empty for a no-op. A
   * command stored compressed (`entryCompression`) comes decompressed, as an `application` entry.
   */
  readonly cmd: Uint8Array;
  /** For `config-change`: the change. */
  readonly configChange?: ConfigChange;
  /** The client session of an application entry (0: none). */
  readonly clientId: number;
}

/** What `NodeHost.queryRaftLog` returns. */
export interface RaftLogQueryResult {
  /** Entries from `from` on, in order: at least one, then as many as fit `maxBytes`, all below `to`. */
  readonly entries: readonly RaftLogEntry[];
  /** The first index still in the log (lower ones were compacted away). */
  readonly firstIndex: number;
  /** The last committed index in the log (persisted here): the highest that may be queried. */
  readonly lastIndex: number;
}

// An Encoded entry is decoded to an Application one first; it is listed for completeness.
const TYPES = {
  [EntryType.Application]: 'application', [EntryType.ConfigChange]: 'config-change', [EntryType.Metadata]: 'metadata',
  [EntryType.Encoded]: 'application',
} as const;

function publicEntry(stored: Entry): RaftLogEntry {
  const e = decodeEntry(stored);
  const base = { index: e.index, term: e.term, type: TYPES[e.type], cmd: e.cmd, clientId: e.clientId };
  return e.type === EntryType.ConfigChange ? { ...base, configChange: decodeConfigChange(e.cmd) } : base;
}

/**
 * The committed entries of `r` in `[from, to)`, stopping before the first that takes their
 * size past `maxBytes` (always at least one; sizes as stored, so compressed for a compressed
 * command).
 * @throws InvalidOptionError for non-integers, `from < 1`, `to <= from` or a negative `maxBytes`;
 *   EntriesCompactedError when `from` is below the first index held (compacted; read the
 *   snapshot instead); LogUnavailableError when `to - 1` is past the last committed index;
 *   CodecError when a compressed command in the range does not decode.
 */
export function queryRaftLog(r: Replica, from: number, to: number, maxBytes: number): RaftLogQueryResult {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || to <= from) {
    throw new InvalidOptionError(`log range [${from}, ${to}) is invalid: need 1 <= from < to`);
  }
  if (typeof maxBytes !== 'number' || Number.isNaN(maxBytes) || maxBytes < 0) throw new InvalidOptionError(`maxBytes ${maxBytes} is invalid`);
  const firstIndex = r.reader.firstIndex();
  const lastIndex = Math.min(r.peer.status().commit, r.reader.lastIndex());
  if (from < firstIndex) throw new EntriesCompactedError(`shard ${r.shardId}: entries below ${firstIndex} were compacted (asked from ${from})`);
  if (to - 1 > lastIndex) throw new LogUnavailableError(`shard ${r.shardId}: the last committed index here is ${lastIndex} (asked up to ${to - 1})`);
  try {
    return { entries: r.reader.entries(from, to, maxBytes).map(publicEntry), firstIndex, lastIndex };
  } catch (e) {
    if (e instanceof CompactedError) throw new EntriesCompactedError(`shard ${r.shardId}: entries from ${from} were compacted meanwhile`);
    throw e;
  }
}
