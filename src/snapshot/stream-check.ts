/**
 * Checks a snapshot data file (format.ts) from its bytes as they stream in, in order, without
 * the file: header, metadata CRC, each block's CRC, the footer's counts and digest, and that
 * the footer CRC is the checksum the leader recorded. What `verifySnapshotFile` checks by
 * reading the file back, except decompression (the block CRCs cover the stored bytes; a
 * block that does not decompress is still refused when the state machine reads it). A
 * received snapshot checked this way need not be read back before it is installed
 * (dragonboat checks chunks in flight the same way, with its SnapshotValidator).
 */
import { crc32, crc32Combine } from '../encoding/crc32.js';
import { CorruptionError } from '../errors.js';
import type { StreamedFileCheck } from '../contracts/transport.js';
import {
  BLOCK_HEADER_BYTES, decodeBlockHeader, decodeFooter, decodeHeader, fileChecksum, foldDigest, FOOTER_BYTES,
  HEADER_BYTES, type BlockHeader, type SnapshotFileHeader,
} from './format.js';

type Phase = 'header' | 'metadata' | 'block-header' | 'block-data' | 'footer' | 'done';

/** A streaming check of one snapshot data file of a known size and checksum. */
export class SnapshotStreamCheck implements StreamedFileCheck {
  private phase: Phase = 'header';
  /** Bytes seen so far (the file offset of the next byte). */
  private pos = 0;
  /** Collects a fixed-size record (header, block header, footer) across chunks. */
  private fixed = Buffer.allocUnsafe(HEADER_BYTES);
  private fixedLen = 0;
  /** Bytes left in the current variable part (metadata, block data). */
  private left = 0;
  private crc = 0;
  private header: SnapshotFileHeader | null = null;
  private block: BlockHeader | null = null;
  private blockPos = 0;
  private dataStart = 0;
  private digest = 0;
  private blocks = 0;
  private payload = 0;
  private readonly end: number;

  /**
   * @param file the name to put in errors
   * @param size the file's size in bytes
   * @param checksum the checksum recorded for it (`SnapshotMeta.checksum`)
   */
  constructor(private readonly file: string, private readonly size: number, private readonly checksum: Uint8Array) {
    this.end = size - FOOTER_BYTES;
    if (size < HEADER_BYTES + FOOTER_BYTES) throw this.corrupt(size, `truncated: ${size} bytes is shorter than header and footer`);
  }

  private corrupt(offset: number, what: string): CorruptionError {
    return new CorruptionError(`damaged snapshot file ${this.file} (streamed): ${what} at offset ${offset}`, { file: this.file, offset });
  }

  /**
   * See {@link StreamedFileCheck.update}: each byte is checksummed once, and with `crcs` the
   * pieces' CRCs are reported (a block's data piece by piece, header and footer bytes as they
   * come). @throws CorruptionError at the first damage found.
   */
  update(bytes: Uint8Array, crcs?: (length: number, crc: number) => void): void {
    if (this.pos + bytes.length > this.size) throw this.corrupt(this.pos, `more than the ${this.size} bytes announced`);
    let i = 0;
    while (i < bytes.length) {
      switch (this.phase) {
        case 'header':
        case 'block-header':
        case 'footer': {
          const want = this.fixed.length - this.fixedLen;
          const k = Math.min(want, bytes.length - i);
          const piece = bytes.subarray(i, i + k);
          crcs?.(k, crc32(piece));
          this.fixed.set(piece, this.fixedLen);
          this.fixedLen += k;
          i += k;
          this.pos += k;
          if (this.fixedLen === this.fixed.length) this.fixedDone();
          break;
        }
        case 'metadata':
        case 'block-data': {
          const k = Math.min(this.left, bytes.length - i);
          const piece = bytes.subarray(i, i + k);
          if (crcs === undefined) {
            this.crc = crc32(piece, this.crc);
          } else {
            const c = crc32(piece);
            crcs(k, c);
            this.crc = crc32Combine(this.crc, c, k);
          }
          this.left -= k;
          i += k;
          this.pos += k;
          if (this.left === 0) this.variableDone();
          break;
        }
        case 'done':
          throw this.corrupt(this.pos, 'bytes after the footer');
      }
    }
  }

  /** See {@link StreamedFileCheck.finish}. @throws CorruptionError if the file is incomplete. */
  finish(): void {
    if (this.phase !== 'done' || this.pos !== this.size) throw this.corrupt(this.pos, `stream ended at ${this.pos} of ${this.size} bytes`);
  }

  private expect(phase: Phase, bytes: number): void {
    this.phase = phase;
    if (phase === 'header' || phase === 'block-header' || phase === 'footer') {
      if (this.fixed.length !== bytes) this.fixed = Buffer.allocUnsafe(bytes);
      this.fixedLen = 0;
    } else {
      this.left = bytes;
      if (bytes === 0) this.variableDone();
    }
  }

  /** The next part after the metadata or a block: a block header, or the footer. */
  private nextPart(): void {
    if (this.pos === this.end) return this.expect('footer', FOOTER_BYTES);
    if (this.pos + BLOCK_HEADER_BYTES > this.end) throw this.corrupt(this.pos, 'block header crosses the footer');
    this.blockPos = this.pos;
    return this.expect('block-header', BLOCK_HEADER_BYTES);
  }

  private fixedDone(): void {
    const b = this.fixed;
    if (this.phase === 'header') {
      const h = decodeHeader(b, this.file);
      this.header = h;
      this.dataStart = HEADER_BYTES + h.sessionsSize + h.membershipSize;
      if (this.dataStart > this.end) throw this.corrupt(this.size, 'truncated inside the metadata section');
      this.digest = foldDigest(0, h.headerCrc);
      this.crc = 0;
      return this.expect('metadata', h.sessionsSize + h.membershipSize);
    }
    if (this.phase === 'block-header') {
      const blk = decodeBlockHeader(b, this.header!.blockSize, this.file, this.blockPos);
      if (this.pos + blk.storedLength > this.end) throw this.corrupt(this.blockPos, `block of ${blk.storedLength} bytes crosses the footer`);
      this.block = blk;
      this.crc = crc32(b.subarray(0, 12));
      return this.expect('block-data', blk.storedLength);
    }
    // The footer.
    const f = decodeFooter(b, this.file, this.end);
    if (this.dataStart + f.blocksBytes !== this.end) throw this.corrupt(this.end, `blocks do not fill the file (footer says ${f.blocksBytes} bytes)`);
    if (this.blocks !== f.blockCount) throw this.corrupt(this.end, `found ${this.blocks} blocks, footer counts ${f.blockCount}`);
    if (this.payload !== f.payloadSize) throw this.corrupt(this.end, `payload is ${this.payload} bytes, footer says ${f.payloadSize}`);
    if (this.digest !== f.digest) throw this.corrupt(this.end, 'file digest mismatch');
    const sum = fileChecksum(f.footerCrc);
    if (sum.length !== this.checksum.length || sum.some((v, i) => v !== this.checksum[i])) {
      throw this.corrupt(this.end, 'checksum differs from the one the leader recorded');
    }
    this.phase = 'done';
    return undefined;
  }

  private variableDone(): void {
    if (this.phase === 'metadata') {
      if (this.crc !== this.header!.metadataCrc) throw this.corrupt(HEADER_BYTES, 'sessions/membership checksum mismatch');
      this.digest = foldDigest(this.digest, this.header!.metadataCrc);
      return this.nextPart();
    }
    const blk = this.block!;
    if (this.crc !== blk.crc) throw this.corrupt(this.blockPos, 'block checksum mismatch');
    this.digest = foldDigest(this.digest, blk.crc);
    this.blocks++;
    this.payload += blk.rawLength;
    return this.nextPart();
  }
}
