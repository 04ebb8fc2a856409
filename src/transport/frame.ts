/**
 * Framing: how bytes on a connection are cut into checked frames.
 *
 * ```
 * offset 0  magic "SMPN" (4)   4 version (1)   5 kind (1)   6 reserved, zero (2)
 *        8  payload length (4) 12 payload CRC-32 (4)        16 header CRC-32 of bytes 0..15 (4)
 * ```
 *
 * Every field is checked before anything is trusted: the magic byte by byte as it arrives (so
 * garbage is cut off at its first wrong byte), then the header checksum, version, kind and the
 * maximum size (before any payload is buffered), then the payload checksum. CRC-32 is the one of
 * src/encoding/ (also the WAL's and the snapshot files'): `node:zlib`'s native one where the
 * runtime has it (Node >= 20.15), else a table-driven one with the same output.
 */
import { crc32 } from '../encoding/crc32.js';
import { CodecError } from '../errors.js';

/** Framing version; a peer speaking another one is disconnected. */
export const WIRE_VERSION = 1;

/** Size of the fixed frame header in bytes. */
export const FRAME_HEADER_SIZE = 20;

const MAGIC = Buffer.from('SMPN', 'latin1');

/** What a frame carries. */
export const FrameKind = {
  /** An encoded {@link MessageBatch}. */
  Batch: 1,
  /** Opens a snapshot stream: the InstallSnapshot message and the sizes of the files that follow. */
  SnapshotHeader: 2,
  /** A piece of one snapshot file. */
  SnapshotChunk: 3,
  /** All chunks were sent. */
  SnapshotEnd: 4,
  /** The receiver's verdict on a snapshot stream. */
  SnapshotAck: 5,
  /**
   * Liveness probe, dialer → acceptor on a message connection. The acceptor answers each with
   * a {@link FrameKind.Pong} on the same connection. Its payload is empty, or the dialer's
   * handshake (see `handshake.ts`): first on a message connection and again whenever the
   * dialer's host registry changes. Releases before the handshake ignore a Ping's payload,
   * which is why the handshake rides on this kind rather than a new one.
   */
  Ping: 6,
  /** The answer to a {@link FrameKind.Ping}, acceptor → dialer (empty payload). */
  Pong: 7,
} as const;
/** One of {@link FrameKind}. */
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const kinds = new Set<number>(Object.values(FrameKind));

/** A checked frame. */
export interface Frame {
  readonly kind: FrameKind;
  /** A buffer of its own (never a view into a socket chunk shared with other frames). */
  readonly payload: Buffer;
}

/**
 * A frame of a kind the decoder gathers ({@link FrameDecoder.gather}): its payload as the
 * pieces it arrived in, not copied into one buffer, and its checksum NOT checked — the
 * receiver checks `crc` against the pieces itself (in its own pass over them) before it acts on
 * any of them.
 */
export interface GatheredFrame {
  readonly kind: FrameKind;
  /** The payload's bytes in order (views of the connection's chunks; may share memory with neighbouring frames). */
  readonly parts: readonly Buffer[];
  /** The payload's length: the sum of the parts' lengths. */
  readonly length: number;
  /** The payload CRC-32 the frame's (checked) header announces. */
  readonly crc: number;
}

/** CRC-32 (IEEE) of `data`. */
export function checksum(data: Uint8Array): number {
  return crc32(data);
}

/**
 * Writes a frame header for `payload` into `out` at `at` (which must have 20 bytes of room).
 * `payloadCrc`, when given, must be the CRC-32 of `payload` (a caller that has it already
 * spares a pass over the bytes); otherwise it is computed here.
 */
export function writeFrameHeader(out: Buffer, at: number, kind: FrameKind, payload: Uint8Array, payloadCrc?: number): void {
  MAGIC.copy(out, at);
  out[at + 4] = WIRE_VERSION;
  out[at + 5] = kind;
  out[at + 6] = 0;
  out[at + 7] = 0;
  out.writeUInt32BE(payload.length, at + 8);
  out.writeUInt32BE(payloadCrc ?? crc32(payload), at + 12);
  out.writeUInt32BE(crc32(out.subarray(at, at + 16)), at + 16);
}

/** Builds a whole frame (header + copy of the payload) in one allocation. */
export function encodeFrame(kind: FrameKind, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  out.set(payload, FRAME_HEADER_SIZE);
  writeFrameHeader(out, 0, kind, payload);
  return out;
}

/**
 * Incremental frame parser for one connection. Feed it socket chunks; it returns complete,
 * verified frames. The first violation throws {@link CodecError}, after which the connection
 * must be closed: resynchronising inside a corrupted stream could accept forged frames.
 * Memory is bounded by one header plus `maxPayload` bytes.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private size = 0;
  private header: { kind: FrameKind; length: number; crc: number } | null = null;

  /** Kinds whose frames come out of {@link pushGathered} as {@link GatheredFrame}s. */
  private gathered = new Set<FrameKind>();

  /** @param maxPayload the largest payload accepted; larger declared lengths are refused unread. */
  constructor(private readonly maxPayload: number) {}

  /**
   * From the next frame on, frames of `kind` come out of {@link pushGathered} as
   * {@link GatheredFrame}s: no copy of a payload that arrived in several chunks, and no
   * checksum pass (the caller makes one). For large frames (a snapshot stream's chunks).
   */
  gather(kind: FrameKind): void {
    this.gathered.add(kind);
  }

  /** Bytes held for a frame not yet complete; nonzero means a frame is in progress. */
  get buffered(): number {
    return this.size;
  }

  /**
   * A violation found after valid frames of the same chunk were returned; once set, the
   * stream is dead and `push` throws it. Callers check it after handling the returned frames.
   */
  error: CodecError | null = null;

  /**
   * Adds bytes and returns the frames they complete. Frames before a violation are still
   * returned (and the violation kept in {@link error}); with none, it throws.
   * @throws CodecError on a violation when no frame precedes it, or if already failed.
   */
  push(chunk: Buffer): Frame[] {
    return this.pushGathered(chunk) as Frame[];
  }

  /**
   * {@link push}, where frames of the kinds passed to {@link gather} come out as
   * {@link GatheredFrame}s (`'parts' in f`), their payload checksum left to the caller.
   * @throws CodecError as `push`.
   */
  pushGathered(chunk: Buffer): Array<Frame | GatheredFrame> {
    if (this.error !== null) throw this.error;
    const out: Array<Frame | GatheredFrame> = [];
    try {
      this.decode(chunk, out);
    } catch (err) {
      this.error = err instanceof CodecError ? err : new CodecError(String(err));
      this.chunks = [];
      this.size = 0;
      if (out.length === 0) throw this.error;
    }
    return out;
  }

  private decode(chunk: Buffer, out: Array<Frame | GatheredFrame>): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    for (;;) {
      if (this.header === null) {
        this.checkMagicPrefix();
        if (this.size < FRAME_HEADER_SIZE) return;
        this.header = this.parseHeader(this.take(FRAME_HEADER_SIZE, false));
      }
      const { kind, length, crc } = this.header;
      if (this.size < length) return;
      if (this.gathered.has(kind)) {
        out.push({ kind, parts: this.takeParts(length), length, crc });
      } else {
        const payload = this.take(length);
        if (crc32(payload) !== crc) throw new CodecError('frame payload checksum mismatch');
        out.push({ kind, payload });
      }
      this.header = null;
    }
  }

  private checkMagicPrefix(): void {
    const first = this.chunks[0];
    if (first === undefined) return;
    let i = 0;
    for (const c of this.chunks) {
      for (let j = 0; j < c.length && i < MAGIC.length; j++, i++) {
        if (c[j] !== MAGIC[i]) throw new CodecError('bad frame magic');
      }
      if (i === MAGIC.length) return;
    }
  }

  private parseHeader(h: Buffer): { kind: FrameKind; length: number; crc: number } {
    if (crc32(h.subarray(0, 16)) !== h.readUInt32BE(16)) throw new CodecError('frame header checksum mismatch');
    const version = h[4]!;
    if (version !== WIRE_VERSION) throw new CodecError(`unsupported wire version ${version}`);
    const kind = h[5]!;
    if (!kinds.has(kind)) throw new CodecError(`unknown frame kind ${kind}`);
    if (h[6] !== 0 || h[7] !== 0) throw new CodecError('reserved frame bits set');
    const length = h.readUInt32BE(8);
    if (length > this.maxPayload) throw new CodecError(`frame of ${length} bytes exceeds the limit of ${this.maxPayload}`);
    return { kind: kind as FrameKind, length, crc: h.readUInt32BE(12) };
  }

  /** Removes `n` buffered bytes (n <= size) as views of the chunks they are in, without copying. */
  private takeParts(n: number): Buffer[] {
    const parts: Buffer[] = [];
    this.size -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      if (c.length <= n) {
        parts.push(c);
        this.chunks.shift();
        n -= c.length;
      } else {
        parts.push(c.subarray(0, n));
        this.chunks[0] = c.subarray(n);
        n = 0;
      }
    }
    return parts;
  }

  /**
   * Removes `n` buffered bytes (n <= size) as one buffer. With `own`, the result never shares
   * memory with a chunk that holds other bytes, so a small frame cannot pin a large chunk.
   */
  private take(n: number, own = true): Buffer {
    if (n === 0) return Buffer.alloc(0);
    this.size -= n;
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return own ? Buffer.from(first.subarray(0, n)) : first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
