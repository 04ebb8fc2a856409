/**
 * The wire codec for Raft messages and message batches (binary, versioned, no JSON).
 *
 * Integers (ids, terms, indexes, sizes) are unsigned LEB128 varints, so the common small
 * values of a heartbeat take one byte each; byte strings and UTF-8 strings are prefixed by a
 * varint length. A batch starts with its version: writers use {@link CODEC_VERSION}; readers
 * also accept version 1 (from a peer of an earlier release, whose messages carry no cluster
 * identity) and refuse any other rather than guessing. Layout of version 2:
 *
 * ```
 * batch    = version:u8 deploymentId:varint sourceAddress:str count:u32 BE (message clusterId)*
 *            (version 1: count:u32 BE message*, no clusterId)
 * message  = type:u8 flags:u8 shardId from to term logTerm logIndex commit hint hintHigh
 *            entryCount entry* [snapshot]            (flags: 1 reject, 2 has snapshot)
 * ```
 *
 * `entry` and `snapshot` (with its membership) are the varint layouts of the schemas in
 * src/encoding/ (entry.ts, snapshot-meta.ts, membership.ts), shared with the WAL's fixed ones.
 *
 * Decoding is total: any input either decodes or throws {@link CodecError}, in time linear in
 * its length. Decoded `cmd`, `checksum` and `metadata` fields are views into the input
 * buffer (no copy), so callers must not reuse that buffer while the batch is alive.
 */
import type { Entry, Message } from '../core/types.js';
import { MessageType } from '../core/types.js';
import { CodecError } from '../errors.js';
import type { MessageBatch } from '../contracts/message-batch.js';
import { ENTRY_VARINT_MIN_BYTES, readEntryVarint, writeEntryVarint } from '../encoding/entry.js';
import { Reader } from '../encoding/reader.js';
import { VARINT } from '../encoding/layout.js';
import { readSnapshotMeta, writeSnapshotMeta } from '../encoding/snapshot-meta.js';
import { Writer } from '../encoding/writer.js';
import type { EntryRunCache } from './entry-run-cache.js';

/** Version byte at the start of every batch written: 2 adds each message's cluster identity. */
export const CODEC_VERSION = 2;

/** The earlier batch version still read: messages without a cluster identity. */
const CODEC_VERSION_1 = 1;

const MSG_REJECT = 1;
const MSG_HAS_SNAPSHOT = 2;
const MIN_MESSAGE_SIZE = 12;

const messageTypes = new Set<number>(Object.values(MessageType));

/**
 * Appends one message to `w`. With `runs`, a run of entries encoded just before (the same
 * entry objects: another follower's Replicate of the same pass) is copied instead of encoded.
 * @throws CodecError if a numeric field is not a safe non-negative integer.
 */
export function writeMessage(w: Writer, m: Message, runs?: EntryRunCache): void {
  w.u8(m.type);
  w.u8((m.reject ? MSG_REJECT : 0) | (m.snapshot !== null ? MSG_HAS_SNAPSHOT : 0));
  w.varint(m.shardId);
  w.varint(m.from);
  w.varint(m.to);
  w.varint(m.term);
  w.varint(m.logTerm);
  w.varint(m.logIndex);
  w.varint(m.commit);
  w.varint(m.hint);
  w.varint(m.hintHigh);
  const entries = m.entries;
  w.varint(entries.length);
  const cached = runs?.lookup(entries) ?? null;
  if (cached !== null) w.raw(cached);
  else {
    const start = w.pos;
    for (let i = 0; i < entries.length; i++) writeEntryVarint(w, entries[i]!);
    runs?.store(entries, w.buf.subarray(start, w.pos));
  }
  if (m.snapshot !== null) writeSnapshotMeta(w, m.snapshot, VARINT);
}

/** Reads one message written by {@link writeMessage}. @throws CodecError on malformed input. */
export function readMessage(r: Reader): Message {
  const type = r.u8();
  if (!messageTypes.has(type)) throw new CodecError(`unknown message type ${type}`);
  const flags = r.u8();
  if (flags & ~(MSG_REJECT | MSG_HAS_SNAPSHOT)) throw new CodecError(`unknown message flags ${flags}`);
  const shardId = r.varint();
  const from = r.varint();
  const to = r.varint();
  const term = r.varint();
  const logTerm = r.varint();
  const logIndex = r.varint();
  const commit = r.varint();
  const hint = r.varint();
  const hintHigh = r.varint();
  const n = r.count(ENTRY_VARINT_MIN_BYTES);
  const entries: Entry[] = new Array<Entry>(n);
  for (let i = 0; i < n; i++) entries[i] = readEntryVarint(r);
  const snapshot = (flags & MSG_HAS_SNAPSHOT) !== 0 ? readSnapshotMeta(r, VARINT) : null;
  return {
    type: type as MessageType, shardId, from, to, term, logTerm, logIndex, commit,
    reject: (flags & MSG_REJECT) !== 0, hint, hintHigh, entries, snapshot,
  };
}

/** The most bytes a safe-integer varint takes (53 bits, 7 per byte). */
const MAX_VARINT = 8;

/**
 * An upper bound on the bytes `m` takes in a batch (its fields, entries, snapshot record and
 * cluster identity), without encoding it: what byte-bounded send queues count. O(entries).
 */
export function messageSizeBound(m: Message): number {
  let n = 2 + 11 * MAX_VARINT;
  for (const e of m.entries) n += 1 + 7 * MAX_VARINT + e.cmd.length;
  const s = m.snapshot;
  if (s !== null) {
    n += 16 * MAX_VARINT + s.filepath.length + s.checksum.length;
    for (const f of s.files) n += 4 * MAX_VARINT + f.filepath.length + f.metadata.length;
    const ms = s.membership;
    for (const part of [ms.voters, ms.nonVoting, ms.witnesses]) for (const a of part.values()) n += 2 * MAX_VARINT + 3 * a.length;
    n += ms.removed.size * MAX_VARINT;
  }
  return n;
}

/** Encodes a single message into a fresh buffer. @throws CodecError on unencodable fields. */
export function encodeMessage(m: Message): Buffer {
  const w = new Writer(256);
  writeMessage(w, m);
  return w.copyOut();
}

/** Decodes exactly one message occupying all of `buf`. @throws CodecError on malformed input. */
export function decodeMessage(buf: Uint8Array): Message {
  const r = new Reader(buf);
  const m = readMessage(r);
  r.done();
  return m;
}

/**
 * Writes a batch header and returns the offset of its message count, which the caller patches
 * with {@link Writer.patchU32be} once it knows how many messages it appended.
 */
export function writeBatchHeader(w: Writer, deploymentId: number, sourceAddress: string): number {
  w.u8(CODEC_VERSION);
  w.varint(deploymentId);
  w.strVar(sourceAddress);
  return w.skip(4);
}

/** Encodes a batch into a fresh buffer. @throws CodecError on unencodable fields. */
export function encodeBatch(batch: MessageBatch, w: Writer = new Writer(1024)): Buffer {
  w.reset();
  const countAt = writeBatchHeader(w, batch.deploymentId, batch.sourceAddress);
  const ids = batch.clusterIds;
  for (let i = 0; i < batch.messages.length; i++) {
    writeMessage(w, batch.messages[i]!);
    w.varint(ids?.[i] ?? 0);
  }
  w.patchU32be(countAt, batch.messages.length);
  return w.copyOut();
}

/** Decodes a batch occupying all of `buf`. @throws CodecError on malformed input or another version. */
export function decodeBatch(buf: Uint8Array): MessageBatch {
  const r = new Reader(buf);
  const version = r.u8();
  if (version !== CODEC_VERSION && version !== CODEC_VERSION_1) throw new CodecError(`unsupported codec version ${version}`);
  const deploymentId = r.varint();
  const sourceAddress = r.strVar();
  const n = r.u32be();
  if (n * MIN_MESSAGE_SIZE > r.remaining) throw new CodecError(`message count ${n} exceeds the payload`);
  const messages: Message[] = new Array<Message>(n);
  if (version === CODEC_VERSION_1) {
    for (let i = 0; i < n; i++) messages[i] = readMessage(r);
    r.done();
    return { deploymentId, sourceAddress, messages };
  }
  const clusterIds: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    messages[i] = readMessage(r);
    clusterIds[i] = r.varint();
  }
  r.done();
  return { deploymentId, sourceAddress, messages, clusterIds };
}
