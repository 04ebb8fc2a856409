/**
 * Reads and verifies snapshot data files (format: format.ts). Opening checks everything that
 * has a fixed place (header, sessions, membership, footer, and that the blocks exactly fill
 * the space between them), so a truncated or foreign file fails before any payload is
 * handed out. Blocks are then checked one by one as they are read: a block is yielded only
 * after its CRC (and decompression) passed, and the end of the payload is checked against the
 * footer's counts and digest.
 *
 * Streaming means a damaged block k is reported after blocks 0..k-1 were yielded. Callers that
 * must not begin applying a damaged snapshot run {@link verifySnapshotFile} first (the
 * snapshotter's `verify` does).
 */
import { constants as bufferConstants } from 'node:buffer';
import { CorruptionError, InvalidOperationError } from '../errors.js';
import type { SnapshotReader } from '../contracts/state-machine.js';
import { crc32 } from '../encoding/crc32.js';
import { snappyUncompress } from './compression.js';
import { storageError } from './durable-fs.js';
import { realFileSystem, type FileHandle, type FileSystem } from '../runtime/index.js';
import {
  BLOCK_HEADER_BYTES, BlockFlag, blockCrc, decodeBlockHeader, decodeFooter, decodeHeader, fileChecksum,
  foldDigest, FOOTER_BYTES, HEADER_BYTES, type BlockHeader, type SnapshotFileFooter, type SnapshotFileHeader,
} from './format.js';

/** An opened snapshot file: its checked fixed parts and a reader of its payload. */
export interface OpenedSnapshotFile {
  readonly path: string;
  readonly header: SnapshotFileHeader;
  readonly footer: SnapshotFileFooter;
  readonly fileSize: number;
  /** The file's checksum as recorded in `SnapshotMeta.checksum`. */
  readonly checksum: Uint8Array;
  /** The client sessions bytes the writer was given. */
  readonly sessions: Uint8Array;
  /** The membership bytes the writer was given. */
  readonly membership: Uint8Array;
  /** The payload; may be iterated more than once (each pass re-reads and re-verifies). */
  readonly payload: SnapshotReader;
}

/** The outcome of a full verification pass. */
export interface VerifiedSnapshotFile {
  readonly fileSize: number;
  readonly checksum: Uint8Array;
  readonly payloadSize: number;
  readonly blockCount: number;
}

function corrupt(file: string, offset: number, what: string): CorruptionError {
  // The message names the file and offset: it is often all an operator sees (one line from `sampan kv`).
  return new CorruptionError(`damaged snapshot file ${file}: ${what} at offset ${offset}`, { file, offset });
}

/** Reads exactly `n` bytes at `pos` into `buf` (from 0). @throws CorruptionError if the file ends. */
async function readExactly(h: FileHandle, file: string, buf: Buffer, n: number, pos: number): Promise<void> {
  let got = 0;
  while (got < n) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await h.read(buf, got, n - got, pos + got));
    } catch (err) {
      throw storageError(`read ${file}`, err);
    }
    if (bytesRead === 0) throw corrupt(file, pos + got, 'unexpected end of file');
    got += bytesRead;
  }
}

async function openHandle(fs: FileSystem, file: string): Promise<FileHandle> {
  try {
    return await fs.promises.open(file, 'r');
  } catch (err) {
    throw storageError(`open snapshot file ${file}`, err);
  }
}

/**
 * Opens `file` (through `fs`, default Node's; the payload is read through it too) and checks
 * its header, metadata section and footer.
 * @throws CorruptionError (with file and offset) on any damage, truncation or wrong version.
 * @throws StorageError when the file cannot be opened or read.
 */
export async function openSnapshotFile(file: string, fs: FileSystem = realFileSystem): Promise<OpenedSnapshotFile> {
  const h = await openHandle(fs, file);
  try {
    const fileSize = (await h.stat()).size;
    if (fileSize < HEADER_BYTES + FOOTER_BYTES) throw corrupt(file, fileSize, `truncated: ${fileSize} bytes is shorter than header and footer`);
    const hb = Buffer.allocUnsafe(HEADER_BYTES);
    await readExactly(h, file, hb, HEADER_BYTES, 0);
    const header = decodeHeader(hb, file);
    const dataStart = HEADER_BYTES + header.sessionsSize + header.membershipSize;
    if (dataStart + FOOTER_BYTES > fileSize) throw corrupt(file, fileSize, 'truncated inside the metadata section');
    const meta = Buffer.allocUnsafe(dataStart - HEADER_BYTES);
    await readExactly(h, file, meta, meta.length, HEADER_BYTES);
    if (crc32(meta) !== header.metadataCrc) throw corrupt(file, HEADER_BYTES, 'sessions/membership checksum mismatch');
    const fb = Buffer.allocUnsafe(FOOTER_BYTES);
    await readExactly(h, file, fb, FOOTER_BYTES, fileSize - FOOTER_BYTES);
    const footer = decodeFooter(fb, file, fileSize - FOOTER_BYTES);
    if (dataStart + footer.blocksBytes + FOOTER_BYTES !== fileSize) {
      throw corrupt(file, fileSize - FOOTER_BYTES, `blocks do not fill the file (footer says ${footer.blocksBytes} bytes)`);
    }
    if (footer.blockCount * (BLOCK_HEADER_BYTES + 1) > footer.blocksBytes || footer.payloadSize > footer.blockCount * header.blockSize) {
      throw corrupt(file, fileSize - FOOTER_BYTES, 'footer counts cannot fit the blocks');
    }
    // Plain Uint8Array copies, so callers holding them do not pin `meta`.
    const sessions = new Uint8Array(meta.subarray(0, header.sessionsSize));
    const membership = new Uint8Array(meta.subarray(header.sessionsSize));
    const opened = { fs, file, header, footer, fileSize, dataStart };
    return {
      path: file, header, footer, fileSize, checksum: fileChecksum(footer.footerCrc), sessions, membership,
      payload: new PayloadReader(opened),
    };
  } finally {
    await h.close().catch(() => undefined);
  }
}

/**
 * Reads and checks every byte of `file` (through `fs`, default Node's): header, metadata, each block (CRC and decompression)
 * and the footer's counts and digest.
 * @returns size and checksum, to compare with a SnapshotMeta.
 * @throws CorruptionError on any damage; StorageError when the file cannot be read.
 */
export async function verifySnapshotFile(file: string, fs: FileSystem = realFileSystem): Promise<VerifiedSnapshotFile> {
  const opened = await openSnapshotFile(file, fs);
  let blockCount = 0;
  const reader = opened.payload as PayloadReader;
  for await (const _ of reader.blocks(true)) blockCount++;
  return { fileSize: opened.fileSize, checksum: opened.checksum, payloadSize: opened.footer.payloadSize, blockCount };
}

interface OpenedParts {
  readonly fs: FileSystem;
  readonly file: string;
  readonly header: SnapshotFileHeader;
  readonly footer: SnapshotFileFooter;
  readonly fileSize: number;
  readonly dataStart: number;
}

/** The payload of an opened file as a {@link SnapshotReader}. */
class PayloadReader implements SnapshotReader {
  constructor(private readonly f: OpenedParts) {}

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.blocks(false);
  }

  /**
   * Every payload byte in one buffer.
   * @throws CorruptionError as iteration does; InvalidOperationError if too large for a Buffer.
   */
  async readAll(): Promise<Uint8Array> {
    const size = this.f.footer.payloadSize;
    if (size > bufferConstants.MAX_LENGTH) throw new InvalidOperationError(`payload of ${size} bytes is too large for readAll`);
    const out = new Uint8Array(size);
    let pos = 0;
    for await (const b of this.blocks(true)) { out.set(b, pos); pos += b.length; }
    return out;
  }

  /**
   * Yields verified blocks in order. With `reuse`, yielded buffers are overwritten by the
   * block after next (for verification and copying readers); otherwise each is fresh.
   *
   * Each read fetches a block's data together with the next block's header, so the next read
   * can start before the current block is checked: checksumming overlaps the I/O.
   */
  async *blocks(reuse: boolean): AsyncGenerator<Uint8Array, void, undefined> {
    const { fs, file, header, footer, fileSize, dataStart } = this.f;
    const end = fileSize - FOOTER_BYTES;
    const h = await openHandle(fs, file);
    const spare: (Buffer | undefined)[] = [undefined, undefined];
    let turn = 0;
    /** Reads the block at `pos` whose header is `hb` (its data plus the following header). */
    const fetch = async (pos: number, hb: Buffer): Promise<Fetched> => {
      const b = decodeBlockHeader(hb, header.blockSize, file, pos);
      const dataPos = pos + BLOCK_HEADER_BYTES, nextPos = dataPos + b.storedLength;
      if (nextPos > end) throw corrupt(file, pos, `block of ${b.storedLength} bytes crosses the footer`);
      const want = b.storedLength + (nextPos + BLOCK_HEADER_BYTES <= end ? BLOCK_HEADER_BYTES : 0);
      let buf: Buffer;
      if (reuse) {
        const k = turn++ & 1;
        buf = spare[k] !== undefined && (spare[k] as Buffer).length >= want ? spare[k] as Buffer : Buffer.allocUnsafe(Math.max(want, header.blockSize + BLOCK_HEADER_BYTES));
        spare[k] = buf;
      } else buf = Buffer.allocUnsafe(want);
      await readExactly(h, file, buf, want, dataPos);
      const data = buf.subarray(0, b.storedLength);
      // Copied: `buf` is reused two blocks later, the next header is needed before that.
      const nextHeader = want > b.storedLength ? Buffer.from(buf.subarray(b.storedLength, want)) : null;
      return { pos, hb, b, data, nextPos, nextHeader };
    };
    let pending: Promise<Fetched> | null = null;
    try {
      if ((await h.stat()).size !== fileSize) throw corrupt(file, fileSize, 'file size changed since it was opened');
      let count = 0, payload = 0;
      let digest = foldDigest(foldDigest(0, header.headerCrc), header.metadataCrc);
      if (dataStart < end) {
        if (dataStart + BLOCK_HEADER_BYTES > end) throw corrupt(file, dataStart, 'block header crosses the footer');
        const hb = Buffer.allocUnsafe(BLOCK_HEADER_BYTES);
        await readExactly(h, file, hb, BLOCK_HEADER_BYTES, dataStart);
        pending = fetch(dataStart, hb);
      }
      while (pending !== null) {
        const cur: Fetched = await pending;
        pending = null;
        if (cur.nextPos < end) {
          if (cur.nextHeader === null) throw corrupt(file, cur.nextPos, 'block header crosses the footer');
          pending = fetch(cur.nextPos, cur.nextHeader);
          // Handled when awaited next turn; this only keeps a failure during a slow consumer
          // from counting as an unhandled rejection.
          pending.catch(() => undefined);
        }
        const { b, data } = cur;
        if (blockCrc(cur.hb, data) !== b.crc) throw corrupt(file, cur.pos, 'block checksum mismatch');
        let raw: Uint8Array = data;
        if (b.flag === BlockFlag.Snappy) {
          const out = snappyUncompress(data, b.rawLength);
          if (out === null) throw corrupt(file, cur.pos + BLOCK_HEADER_BYTES, 'block does not decompress');
          raw = out;
        }
        digest = foldDigest(digest, b.crc);
        count++;
        payload += b.rawLength;
        if (count > footer.blockCount) throw corrupt(file, cur.nextPos, 'more blocks than the footer counts');
        yield raw;
      }
      if (count !== footer.blockCount) throw corrupt(file, end, `found ${count} blocks, footer counts ${footer.blockCount}`);
      if (payload !== footer.payloadSize) throw corrupt(file, end, `payload is ${payload} bytes, footer says ${footer.payloadSize}`);
      if (digest !== footer.digest) throw corrupt(file, end, 'file digest mismatch');
    } finally {
      // Let an in-flight read finish before closing its handle.
      if (pending !== null) await (pending as Promise<Fetched>).catch(() => undefined);
      await h.close().catch(() => undefined);
    }
  }
}

/** One block as read, before it is checked. */
interface Fetched {
  readonly pos: number;
  /** The block's 16 header bytes (its CRC covers the first 12). */
  readonly hb: Buffer;
  readonly b: BlockHeader;
  readonly data: Buffer;
  readonly nextPos: number;
  readonly nextHeader: Buffer | null;
}
