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
 * batch    = version:u8 deploymentId:varint sourceAddress:str count:u32 (message clusterId)*
 *            (version 1: count:u32 message*, no clusterId)
 * message  = type:u8 flags:u8 shardId from to term logTerm logIndex commit hint hintHigh
 *            entryCount entry* [snapshot]            (flags: 1 reject, 2 has snapshot)
 * entry    = term index type:u8 key clientId seriesId respondedTo cmd:bytes
 * snapshot = shardId index term membership filepath:str fileSize checksum:bytes type:u8
 *            fileCount file* flags:u8 onDiskIndex   (flags: 1 dummy, 2 witness, 4 imported)
 * membership = configChangeId voters nonVoting witnesses removedCount id*
 *              (each map: count (id address:str)*)
 * file     = fileId filepath:str fileSize metadata:bytes
 * ```
 *
 * Decoding is total: any input either decodes or throws {@link CodecError}, in time linear in
 * its length. Decoded `cmd`, `checksum` and `metadata` fields are views into the input
 * buffer (no copy), so callers must not reuse that buffer while the batch is alive.
 */
import type { Entry, Membership, Message, SnapshotFile, SnapshotMeta } from '../core/types.js';
import { EntryType, MessageType, StateMachineType } from '../core/types.js';
import { CodecError } from '../errors.js';
import type { MessageBatch } from '../contracts/message-batch.js';
import { BufferReader } from './buffer-reader.js';
import { BufferWriter } from './buffer-writer.js';

/** Version byte at the start of every batch written: 2 adds each message's cluster identity. */
export const CODEC_VERSION = 2;

/** The earlier batch version still read: messages without a cluster identity. */
const CODEC_VERSION_1 = 1;

const MSG_REJECT = 1;
const MSG_HAS_SNAPSHOT = 2;
const SS_DUMMY = 1;
const SS_WITNESS = 2;
const SS_IMPORTED = 4;

const MIN_ENTRY_SIZE = 8;
const MIN_MESSAGE_SIZE = 12;
const MIN_MAP_ITEM_SIZE = 2;
const MIN_FILE_SIZE = 4;

const messageTypes = new Set<number>(Object.values(MessageType));
const entryTypes = new Set<number>(Object.values(EntryType));
const smTypes = new Set<number>(Object.values(StateMachineType));

function writeEntry(w: BufferWriter, e: Entry): void {
  w.varint(e.term);
  w.varint(e.index);
  w.u8(e.type);
  w.varint(e.key);
  w.varint(e.clientId);
  w.varint(e.seriesId);
  w.varint(e.respondedTo);
  w.bytes(e.cmd);
}

function readEntry(r: BufferReader): Entry {
  const term = r.varint();
  const index = r.varint();
  const type = r.u8();
  if (!entryTypes.has(type)) throw new CodecError(`unknown entry type ${type}`);
  return {
    term, index, type: type as EntryType, key: r.varint(), clientId: r.varint(), seriesId: r.varint(),
    respondedTo: r.varint(), cmd: r.bytes(),
  };
}

function writeAddressMap(w: BufferWriter, m: ReadonlyMap<number, string>): void {
  w.varint(m.size);
  for (const [id, address] of m) {
    w.varint(id);
    w.string(address);
  }
}

function readAddressMap(r: BufferReader): Map<number, string> {
  const n = r.count(MIN_MAP_ITEM_SIZE);
  const m = new Map<number, string>();
  for (let i = 0; i < n; i++) {
    const id = r.varint();
    m.set(id, r.string());
  }
  return m;
}

function writeMembership(w: BufferWriter, m: Membership): void {
  w.varint(m.configChangeId);
  writeAddressMap(w, m.voters);
  writeAddressMap(w, m.nonVoting);
  writeAddressMap(w, m.witnesses);
  w.varint(m.removed.size);
  for (const id of m.removed) w.varint(id);
}

function readMembership(r: BufferReader): Membership {
  const configChangeId = r.varint();
  const voters = readAddressMap(r);
  const nonVoting = readAddressMap(r);
  const witnesses = readAddressMap(r);
  const n = r.count(1);
  const removed = new Set<number>();
  for (let i = 0; i < n; i++) removed.add(r.varint());
  return { configChangeId, voters, nonVoting, witnesses, removed };
}

function writeSnapshot(w: BufferWriter, s: SnapshotMeta): void {
  w.varint(s.shardId);
  w.varint(s.index);
  w.varint(s.term);
  writeMembership(w, s.membership);
  w.string(s.filepath);
  w.varint(s.fileSize);
  w.bytes(s.checksum);
  w.u8(s.type);
  w.varint(s.files.length);
  for (const f of s.files) {
    w.varint(f.fileId);
    w.string(f.filepath);
    w.varint(f.fileSize);
    w.bytes(f.metadata);
  }
  w.u8((s.dummy ? SS_DUMMY : 0) | (s.witness ? SS_WITNESS : 0) | (s.imported ? SS_IMPORTED : 0));
  w.varint(s.onDiskIndex);
}

function readSnapshot(r: BufferReader): SnapshotMeta {
  const shardId = r.varint();
  const index = r.varint();
  const term = r.varint();
  const membership = readMembership(r);
  const filepath = r.string();
  const fileSize = r.varint();
  const checksum = r.bytes();
  const type = r.u8();
  if (!smTypes.has(type)) throw new CodecError(`unknown state machine type ${type}`);
  const n = r.count(MIN_FILE_SIZE);
  const files: SnapshotFile[] = [];
  for (let i = 0; i < n; i++) {
    files.push({ fileId: r.varint(), filepath: r.string(), fileSize: r.varint(), metadata: r.bytes() });
  }
  const flags = r.u8();
  if (flags & ~(SS_DUMMY | SS_WITNESS | SS_IMPORTED)) throw new CodecError(`unknown snapshot flags ${flags}`);
  return {
    shardId, index, term, membership, filepath, fileSize, checksum, type: type as StateMachineType, files,
    dummy: (flags & SS_DUMMY) !== 0, witness: (flags & SS_WITNESS) !== 0, onDiskIndex: r.varint(),
    imported: (flags & SS_IMPORTED) !== 0,
  };
}

/**
 * Appends one message to `w`.
 * @throws CodecError if a numeric field is not a safe non-negative integer.
 */
export function writeMessage(w: BufferWriter, m: Message): void {
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
  for (let i = 0; i < entries.length; i++) writeEntry(w, entries[i]!);
  if (m.snapshot !== null) writeSnapshot(w, m.snapshot);
}

/** Reads one message written by {@link writeMessage}. @throws CodecError on malformed input. */
export function readMessage(r: BufferReader): Message {
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
  const n = r.count(MIN_ENTRY_SIZE);
  const entries: Entry[] = new Array<Entry>(n);
  for (let i = 0; i < n; i++) entries[i] = readEntry(r);
  const snapshot = (flags & MSG_HAS_SNAPSHOT) !== 0 ? readSnapshot(r) : null;
  return {
    type: type as MessageType, shardId, from, to, term, logTerm, logIndex, commit,
    reject: (flags & MSG_REJECT) !== 0, hint, hintHigh, entries, snapshot,
  };
}

/** Encodes a single message into a fresh buffer. @throws CodecError on unencodable fields. */
export function encodeMessage(m: Message): Buffer {
  const w = new BufferWriter(256);
  writeMessage(w, m);
  return w.copyOut();
}

/** Decodes exactly one message occupying all of `buf`. @throws CodecError on malformed input. */
export function decodeMessage(buf: Uint8Array): Message {
  const r = new BufferReader(buf);
  const m = readMessage(r);
  r.expectEnd();
  return m;
}

/**
 * Writes a batch header and returns the offset of its message count, which the caller patches
 * with {@link BufferWriter.patchU32} once it knows how many messages it appended.
 */
export function writeBatchHeader(w: BufferWriter, deploymentId: number, sourceAddress: string): number {
  w.u8(CODEC_VERSION);
  w.varint(deploymentId);
  w.string(sourceAddress);
  return w.skip(4);
}

/** Encodes a batch into a fresh buffer. @throws CodecError on unencodable fields. */
export function encodeBatch(batch: MessageBatch, w: BufferWriter = new BufferWriter(1024)): Buffer {
  w.reset();
  const countAt = writeBatchHeader(w, batch.deploymentId, batch.sourceAddress);
  const ids = batch.clusterIds;
  for (let i = 0; i < batch.messages.length; i++) {
    writeMessage(w, batch.messages[i]!);
    w.varint(ids?.[i] ?? 0);
  }
  w.patchU32(countAt, batch.messages.length);
  return w.copyOut();
}

/** Decodes a batch occupying all of `buf`. @throws CodecError on malformed input or another version. */
export function decodeBatch(buf: Uint8Array): MessageBatch {
  const r = new BufferReader(buf);
  const version = r.u8();
  if (version !== CODEC_VERSION && version !== CODEC_VERSION_1) throw new CodecError(`unsupported codec version ${version}`);
  const deploymentId = r.varint();
  const sourceAddress = r.string();
  const n = r.u32();
  if (n * MIN_MESSAGE_SIZE > r.remaining) throw new CodecError(`message count ${n} exceeds the payload`);
  const messages: Message[] = new Array<Message>(n);
  if (version === CODEC_VERSION_1) {
    for (let i = 0; i < n; i++) messages[i] = readMessage(r);
    r.expectEnd();
    return { deploymentId, sourceAddress, messages };
  }
  const clusterIds: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    messages[i] = readMessage(r);
    clusterIds[i] = r.varint();
  }
  r.expectEnd();
  return { deploymentId, sourceAddress, messages, clusterIds };
}
