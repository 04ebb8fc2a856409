/**
 * The binary encoding of the values the LogDB persists: entries, hard states, snapshot
 * records (with their memberships) and bootstrap info. Little-endian, fixed-width integers:
 * the WAL writes millions of entries a second and fixed widths keep both directions to a few
 * typed-array stores with no branching. This codec is private to the LogDB; the wire codec
 * lives in src/transport/ and may evolve separately.
 *
 * Decoding never trusts a length: every read is bounds-checked and every failure is a
 * {@link CodecError}, which the WAL turns into a CorruptionError naming the file and offset.
 */
import { CodecError } from '../errors.js';
import { EntryType, type Entry, type HardState, type Membership, type SnapshotFile, type SnapshotMeta } from '../core/types.js';
import type { Bootstrap } from '../contracts/log-db.js';

const ENTRY_TYPES = new Set<number>(Object.values(EntryType));

const TWO_32 = 0x1_0000_0000;
/** Bytes of an encoded entry besides its command. */
export const ENTRY_HEADER_BYTES = 8 * 6 + 1 + 4;

/** Little-endian u32 by plain byte stores: cheaper than Buffer.writeUInt32LE's checks, room already ensured. */
function put32(b: Buffer, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = v >>> 24;
}

/** An append-only byte buffer that grows by doubling. */
export class ByteWriter {
  buf: Buffer;
  pos = 0;
  constructor(initialBytes = 4096) { this.buf = Buffer.allocUnsafe(Math.max(64, initialBytes)); }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void { this.ensure(1); this.buf[this.pos++] = v; }
  u32(v: number): void { this.ensure(4); put32(this.buf, this.pos, v >>> 0); this.pos += 4; }
  /** Writes a non-negative safe integer as 64 bits. */
  u64(v: number): void {
    this.ensure(8);
    const hi = Math.floor(v / TWO_32);
    put32(this.buf, this.pos, v - hi * TWO_32);
    put32(this.buf, this.pos + 4, hi);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void { this.u32(b.length); this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; }
  str(s: string): void {
    const n = Buffer.byteLength(s);
    this.u32(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  /** The bytes written so far (a view, not a copy). */
  view(): Buffer { return this.buf.subarray(0, this.pos); }
}

/** A bounds-checked reader; every malformed input throws {@link CodecError}. */
export class ByteReader {
  pos: number;
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) { this.pos = start; }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new CodecError(`truncated: need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`);
  }
  u8(): number { this.need(1); return this.buf[this.pos++] as number; }
  u32(): number {
    this.need(4);
    const b = this.buf, p = this.pos;
    this.pos += 4;
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16)) + (b[p + 3] as number) * 0x100_0000;
  }
  u64(): number {
    const lo = this.u32();
    const hi = this.u32();
    if (hi >= 0x20_0000) throw new CodecError(`integer above 2^53 at ${this.pos - 8}`);
    return hi * TWO_32 + lo;
  }
  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw new CodecError(`bad boolean ${v} at ${this.pos - 1}`);
    return v === 1;
  }
  /** A length-prefixed byte string, copied so it does not pin the source buffer. */
  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    // A plain Uint8Array copy (a Buffer's slice would be a Buffer, and pin the source).
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }
  str(): string {
    const n = this.u32();
    this.need(n);
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n).toString('utf8');
    this.pos += n;
    return s;
  }
  /** Throws unless every byte was consumed. */
  done(): void { if (this.pos !== this.end) throw new CodecError(`${this.end - this.pos} trailing bytes`); }
}

/** Encoded size of an entry. */
export function encodedEntryBytes(e: Entry): number { return ENTRY_HEADER_BYTES + e.cmd.length; }

/** Appends an entry: term, index, type, key, clientId, seriesId, respondedTo, cmd. */
export function writeEntry(w: ByteWriter, e: Entry): void {
  w.ensure(ENTRY_HEADER_BYTES + e.cmd.length);
  w.u64(e.term); w.u64(e.index); w.u8(e.type); w.u64(e.key); w.u64(e.clientId);
  w.u64(e.seriesId); w.u64(e.respondedTo); w.bytes(e.cmd);
}

/**
 * Reads an entry. The command is a view into `r.buf` when `copy` is false (the caller owns
 * a fresh buffer), else a copy.
 * @throws CodecError on malformed bytes.
 */
export function readEntry(r: ByteReader, copy = true): Entry {
  const term = r.u64(), index = r.u64(), type = r.u8();
  if (!ENTRY_TYPES.has(type)) throw new CodecError(`bad entry type ${type}`);
  const key = r.u64(), clientId = r.u64(), seriesId = r.u64(), respondedTo = r.u64();
  let cmd: Uint8Array;
  if (copy) cmd = r.bytes();
  else {
    const n = r.u32();
    if (r.pos + n > r.end) throw new CodecError('truncated entry command');
    cmd = new Uint8Array(r.buf.buffer, r.buf.byteOffset + r.pos, n);
    r.pos += n;
  }
  return { term, index, type: type as Entry['type'], key, clientId, seriesId, respondedTo, cmd };
}

/** Appends a hard state. */
export function writeHardState(w: ByteWriter, hs: HardState): void { w.u64(hs.term); w.u64(hs.vote); w.u64(hs.commit); }

/** Reads a hard state. @throws CodecError */
export function readHardState(r: ByteReader): HardState {
  return { term: r.u64(), vote: r.u64(), commit: r.u64() };
}

function writeAddrMap(w: ByteWriter, m: ReadonlyMap<number, string>): void {
  w.u32(m.size);
  for (const [id, addr] of m) { w.u64(id); w.str(addr); }
}

function readAddrMap(r: ByteReader): Map<number, string> {
  const n = r.u32();
  if (n > r.end - r.pos) throw new CodecError(`map of ${n} members cannot fit`);
  const m = new Map<number, string>();
  for (let i = 0; i < n; i++) { const id = r.u64(); m.set(id, r.str()); }
  return m;
}

/** Appends a membership. */
export function writeMembership(w: ByteWriter, m: Membership): void {
  w.u64(m.configChangeId);
  writeAddrMap(w, m.voters); writeAddrMap(w, m.nonVoting); writeAddrMap(w, m.witnesses);
  w.u32(m.removed.size);
  for (const id of m.removed) w.u64(id);
}

/** Reads a membership. @throws CodecError */
export function readMembership(r: ByteReader): Membership {
  const configChangeId = r.u64();
  const voters = readAddrMap(r), nonVoting = readAddrMap(r), witnesses = readAddrMap(r);
  const n = r.u32();
  if (n > r.end - r.pos) throw new CodecError(`removed set of ${n} cannot fit`);
  const removed = new Set<number>();
  for (let i = 0; i < n; i++) removed.add(r.u64());
  return { configChangeId, voters, nonVoting, witnesses, removed };
}

/** Appends a snapshot record. */
export function writeSnapshot(w: ByteWriter, s: SnapshotMeta): void {
  w.u64(s.shardId); w.u64(s.index); w.u64(s.term);
  writeMembership(w, s.membership);
  w.str(s.filepath); w.u64(s.fileSize); w.bytes(s.checksum); w.u8(s.type);
  w.u32(s.files.length);
  for (const f of s.files) { w.u64(f.fileId); w.str(f.filepath); w.u64(f.fileSize); w.bytes(f.metadata); }
  w.u8((s.dummy ? 1 : 0) | (s.witness ? 2 : 0) | (s.imported ? 4 : 0));
  w.u64(s.onDiskIndex);
}

/** Reads a snapshot record. @throws CodecError */
export function readSnapshot(r: ByteReader): SnapshotMeta {
  const shardId = r.u64(), index = r.u64(), term = r.u64();
  const membership = readMembership(r);
  const filepath = r.str(), fileSize = r.u64(), checksum = r.bytes(), type = r.u8();
  if (type < 1 || type > 3) throw new CodecError(`bad state machine type ${type}`);
  const n = r.u32();
  if (n > r.end - r.pos) throw new CodecError(`${n} snapshot files cannot fit`);
  const files: SnapshotFile[] = [];
  for (let i = 0; i < n; i++) {
    const fileId = r.u64(), fp = r.str(), size = r.u64(), metadata = r.bytes();
    files.push({ fileId, filepath: fp, fileSize: size, metadata });
  }
  const flags = r.u8();
  if (flags > 7) throw new CodecError(`bad snapshot flags ${flags}`);
  return {
    shardId, index, term, membership, filepath, fileSize, checksum, type: type as SnapshotMeta['type'], files,
    dummy: (flags & 1) !== 0, witness: (flags & 2) !== 0, imported: (flags & 4) !== 0, onDiskIndex: r.u64(),
  };
}

/** Bootstrap flag bits (the byte was a plain join boolean before cluster identities). */
const BOOT_JOIN = 1;
const BOOT_CLUSTER_ID = 2;

/**
 * Appends bootstrap info: members, flags (join, has cluster id), state machine type, then the
 * cluster id when known. Records written before cluster ids existed read back with none.
 */
export function writeBootstrap(w: ByteWriter, b: Bootstrap): void {
  const id = b.clusterId ?? 0;
  writeAddrMap(w, b.members); w.u8((b.join ? BOOT_JOIN : 0) | (id !== 0 ? BOOT_CLUSTER_ID : 0)); w.u8(b.smType);
  if (id !== 0) w.u64(id);
}

/** Reads bootstrap info. @throws CodecError */
export function readBootstrap(r: ByteReader): Bootstrap {
  const members = readAddrMap(r), flags = r.u8(), smType = r.u8();
  if ((flags & ~(BOOT_JOIN | BOOT_CLUSTER_ID)) !== 0) throw new CodecError(`bad bootstrap flags ${flags}`);
  if (smType < 1 || smType > 3) throw new CodecError(`bad state machine type ${smType}`);
  const join = (flags & BOOT_JOIN) !== 0;
  if ((flags & BOOT_CLUSTER_ID) === 0) return { members, join, smType: smType as Bootstrap['smType'] };
  return { members, join, smType: smType as Bootstrap['smType'], clusterId: r.u64() };
}
