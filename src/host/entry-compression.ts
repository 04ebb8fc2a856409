/**
 * Entry compression (dragonboat's EntryCompressionType and `rsm/encoded.go`): a proposal's
 * command is Snappy-compressed once, where the proposal is made, so the WAL, the in-memory log
 * and the wire all carry the compressed bytes; the host decodes it again before the state
 * machine (or `queryRaftLog`) sees it.
 *
 * Per entry, not per batch of entries: one proposal is one entry from the caller to the state
 * machine, so nothing has to be regrouped, and a 1 KiB compressible command already compresses
 * well on its own (Snappy's window is 64 KiB; a batch would add only the cross-entry matches,
 * which pay for tiny entries only).
 *
 * An entry is stored compressed only when that makes it smaller; otherwise it stays an ordinary
 * Application entry. A compressed one has the type {@link EntryType.Encoded} and a `cmd` of one
 * header byte and a Snappy block:
 *
 * ```
 * header: version (high 4 bits, 0) | compression (bits 1-3: 0 none, 1 Snappy) | session (bit 0, 0)
 * ```
 *
 * the layout of dragonboat's encoded entries (version 0, no session information). Decoding
 * depends only on the entry, never on the local setting, so replicas configured differently
 * (during a rolling change of the option) apply the same commands.
 */
import { EntryType, type Entry } from '../core/types.js';
import { CodecError } from '../errors.js';
import { snappyCompress, snappyUncompressBlock } from '../snapshot/compression.js';

/** How a shard's proposals are stored: `ShardConfig.entryCompression`. */
export type EntryCompression = 'none' | 'snappy';

const VERSION_MASK = 0xf0;
const COMPRESSION_MASK = 0x0e;
const SESSION_FLAG = 0x01;
/** The compression field of the header (already shifted into bits 1-3). */
const NO_COMPRESSION = 0 << 1;
const SNAPPY = 1 << 1;
/** The header this host writes: version 0, Snappy, no session. */
const SNAPPY_HEADER = SNAPPY;

/**
 * The type and `cmd` to propose a user command with: an Encoded entry holding the compressed
 * command when `compression` is 'snappy' and that is smaller (header included), else an
 * Application entry holding `cmd` itself. Never throws.
 */
export function encodeCommand(cmd: Uint8Array, compression: EntryCompression): { type: EntryType; cmd: Uint8Array } {
  if (compression !== 'snappy' || cmd.length === 0) return { type: EntryType.Application, cmd };
  const z = snappyCompress(cmd);
  if (z === null || z.length + 1 >= cmd.length) return { type: EntryType.Application, cmd };
  // A copy of the exact size: snappyjs may return a view into a larger buffer, which the
  // in-memory log would otherwise keep alive.
  const out = new Uint8Array(z.length + 1);
  out[0] = SNAPPY_HEADER;
  out.set(z, 1);
  return { type: EntryType.Encoded, cmd: out };
}

/**
 * The user command an Encoded entry's `cmd` holds (a fresh array).
 * @throws CodecError when the header names an unknown version, compression or session form,
 *   or the compressed bytes are not a well-formed Snappy block.
 */
export function decodeCommand(cmd: Uint8Array, index: number): Uint8Array {
  if (cmd.length === 0) throw new CodecError(`encoded entry ${index} has no header`);
  const h = cmd[0] as number;
  if ((h & VERSION_MASK) !== 0) throw new CodecError(`encoded entry ${index}: unknown version ${h >>> 4}`);
  if ((h & SESSION_FLAG) !== 0) throw new CodecError(`encoded entry ${index}: session information is not supported`);
  const body = cmd.subarray(1);
  switch (h & COMPRESSION_MASK) {
    case NO_COMPRESSION: return body.slice();
    case SNAPPY: {
      const raw = snappyUncompressBlock(body);
      if (raw === null) throw new CodecError(`encoded entry ${index}: the Snappy-compressed command is corrupt`);
      return raw;
    }
    default: throw new CodecError(`encoded entry ${index}: unknown compression ${(h & COMPRESSION_MASK) >>> 1}`);
  }
}

/**
 * `e` as its proposer gave it: an Encoded entry becomes the Application entry with the decoded
 * command; any other entry is returned as is.
 * @throws CodecError as {@link decodeCommand}.
 */
export function decodeEntry(e: Entry): Entry {
  if (e.type !== EntryType.Encoded) return e;
  return { ...e, type: EntryType.Application, cmd: decodeCommand(e.cmd, e.index) };
}

/**
 * {@link decodeEntry} over a list; the same array when it holds no Encoded entry.
 * @throws CodecError as {@link decodeCommand}.
 */
export function decodeEntries(entries: readonly Entry[]): readonly Entry[] {
  if (!entries.some((e) => e.type === EntryType.Encoded)) return entries;
  return entries.map(decodeEntry);
}
