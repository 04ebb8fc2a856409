/**
 * The on-disk framing of the write-ahead log. A segment file is a sequence of frames:
 *
 *   magic u32 | frame type u8 | 0 u8 x3 | payload length u32 | payload CRC-32 u32 |
 *   header CRC-32 u32 (of the 16 bytes before it) | payload
 *
 * Each segment starts with a checkpoint frame (the small state of every replica, see
 * wal-records.ts); every write after it is ONE batch frame holding the records of one group
 * commit. A batch is therefore all-or-nothing: a crash can tear only the last write, which
 * was never acknowledged. The separate header checksum lets recovery trust a length before
 * reading the payload, and the magic lets it look for intact frames after a bad one, which is
 * how a torn tail (nothing valid follows) is told apart from damage in the middle of the log
 * (something valid follows).
 */
import { CorruptionError } from '../errors.js';
import { crc32 } from '../encoding/crc32.js';

/** Bytes of a frame header. */
export const FRAME_HEADER_BYTES = 20;
/** "SMPW" little-endian. */
export const FRAME_MAGIC = 0x57504d53;
const MAGIC_BYTES = Buffer.from([0x53, 0x4d, 0x50, 0x57]);
/** Upper bound on one frame's payload, so a damaged length cannot make us allocate wildly. */
export const MAX_FRAME_BYTES = 0x7fff_0000;

/** Frame kinds. */
export const FrameType = {
  /** The small state of every replica, at the start of each segment. */
  Checkpoint: 1,
  /** The records of one group commit. */
  Batch: 2,
} as const;
/** One of {@link FrameType}. */
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/**
 * Fills in the header of a frame whose payload already sits at `start + FRAME_HEADER_BYTES`
 * up to `end` in `buf`.
 */
export function sealFrame(buf: Buffer, start: number, end: number, type: FrameType): void {
  const payloadLen = end - start - FRAME_HEADER_BYTES;
  buf.writeUInt32LE(FRAME_MAGIC, start);
  buf.writeUInt32LE(type, start + 4); // type byte and three zero bytes
  buf.writeUInt32LE(payloadLen, start + 8);
  buf.writeUInt32LE(crc32(buf.subarray(start + FRAME_HEADER_BYTES, end)), start + 12);
  buf.writeUInt32LE(crc32(buf.subarray(start, start + 16)), start + 16);
}

/** Why a frame failed to validate, or null when it is intact. */
function checkFrame(buf: Buffer, pos: number): string | null {
  if (buf.length - pos < FRAME_HEADER_BYTES) return 'truncated frame header';
  if (buf.readUInt32LE(pos) !== FRAME_MAGIC) return 'bad frame magic';
  if (buf.readUInt32LE(pos + 16) !== crc32(buf.subarray(pos, pos + 16))) return 'frame header checksum mismatch';
  const type = buf.readUInt32LE(pos + 4);
  if (type !== FrameType.Checkpoint && type !== FrameType.Batch) return `unknown frame type ${type}`;
  const len = buf.readUInt32LE(pos + 8);
  if (len > MAX_FRAME_BYTES || pos + FRAME_HEADER_BYTES + len > buf.length) return 'frame runs past end of file';
  const payload = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + len);
  if (buf.readUInt32LE(pos + 12) !== crc32(payload)) return 'frame payload checksum mismatch';
  return null;
}

/** True when an intact frame starts anywhere after `pos`. */
function intactFrameAfter(buf: Buffer, pos: number): boolean {
  for (let at = buf.indexOf(MAGIC_BYTES, pos + 1); at >= 0; at = buf.indexOf(MAGIC_BYTES, at + 1)) {
    if (checkFrame(buf, at) === null) return true;
  }
  return false;
}

/** Called for each intact frame, in order; may throw CorruptionError itself. */
export type FrameVisitor = (type: FrameType, payloadStart: number, payloadEnd: number, frameStart: number) => void;

/** True when every byte from `pos` to the end is zero (a preallocated, never written tail). */
export function zeroFrom(buf: Buffer, pos: number): boolean {
  const CHUNK = 64 * 1024;
  const zero = Buffer.alloc(Math.min(CHUNK, Math.max(0, buf.length - pos)));
  for (let at = pos; at < buf.length; at += CHUNK) {
    const part = buf.subarray(at, Math.min(buf.length, at + CHUNK));
    if (!part.equals(zero.subarray(0, part.length))) return false;
  }
  return true;
}

/**
 * Visits the frames of one segment file's bytes and returns the offset where intact data
 * ends. Zero bytes from a frame boundary to the end of the file are preallocated space, a
 * clean end in any segment. A bad frame with nothing intact after it is a torn tail when
 * `isLast` (the caller truncates there); anything else is damage.
 * @throws CorruptionError naming `file` and the offset of the bad frame.
 */
export function visitFrames(buf: Buffer, file: string, isLast: boolean, visit: FrameVisitor): number {
  let pos = 0;
  while (pos < buf.length) {
    const why = checkFrame(buf, pos);
    if (why !== null) {
      if (zeroFrom(buf, pos)) return pos;
      if (!isLast || intactFrameAfter(buf, pos)) {
        throw new CorruptionError(`${why} in ${file} at offset ${pos}`, { file, offset: pos });
      }
      return pos;
    }
    const len = buf.readUInt32LE(pos + 8);
    visit(buf.readUInt32LE(pos + 4) as FrameType, pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + len, pos);
    pos += FRAME_HEADER_BYTES + len;
  }
  return pos;
}
