/**
 * Writes one snapshot data file (format: format.ts). The state machine sees it as a
 * {@link SnapshotWriter}: `write` copies the bytes into the current block at once, so a caller
 * may reuse its buffer as soon as `write` returns; full blocks are checksummed, optionally
 * compressed and written in order. The Promise of `write` resolves once every block before
 * the newest sealed one is written: one block may be on its way to disk while the caller fills
 * the next, so checksumming overlaps the I/O, and memory stays bounded at about three blocks.
 *
 * Turns: a `write` whose Promise is already settled lets a state machine's save loop run on in
 * microtasks, never giving the event loop a turn — a 100k-key map went out in one 300–500 ms
 * turn, every shard's requests, ticks and heartbeats waiting behind it. So once writes have
 * held the thread for {@link SNAPSHOT_WRITE_SLICE_MS} in one turn, the Promise of `write`
 * resolves only after the event loop's next poll for I/O (two `setImmediate`s of the runtime,
 * so that it holds whichever phase the slice ran in): a save loop that awaits each `write`
 * yields every few milliseconds whatever it writes.
 */
import { InvalidOperationError, InvalidOptionError, StorageError } from '../errors.js';
import type { SnapshotWriter } from '../contracts/state-machine.js';
import { compressionType, snappyCompress, type CompressionName, CompressionType } from './compression.js';
import { storageError } from './durable-fs.js';
import {
  BLOCK_HEADER_BYTES, BlockFlag, DEFAULT_BLOCK_SIZE, encodeBlockHeader, encodeFooter, encodeHeader,
  fileChecksum, foldDigest, HEADER_BYTES, MAX_BLOCK_SIZE,
} from './format.js';
import { crc32 } from '../encoding/crc32.js';
import { realFileSystem, realRuntime, type Clock, type FileHandle, type FileSystem, type Timers } from '../runtime/index.js';

/** Milliseconds a save loop's writes may hold the thread in one event-loop turn before `write` yields. */
export const SNAPSHOT_WRITE_SLICE_MS = 4;

/** Options of {@link SnapshotFileWriter.create}. */
export interface SnapshotFileWriterOptions {
  /** Block compression; default 'none'. */
  readonly compression?: CompressionName;
  /** Largest raw bytes per block, 1 B .. 64 MiB; default 1 MiB. */
  readonly blockSize?: number;
  /** The clock and `setImmediate` the writer yields the event loop with; default Node's. */
  readonly runtime?: { readonly clock: Clock; readonly timers: Pick<Timers, 'setImmediate'> };
  /** The file system the file is written through; default Node's (`realFileSystem`). */
  readonly fs?: FileSystem;
}

/** What a finished file is: its size and the checksum to record in `SnapshotMeta`. */
export interface SnapshotFileSummary {
  readonly fileSize: number;
  /** The footer CRC (4 bytes, little-endian); it covers every other checksum of the file. */
  readonly checksum: Uint8Array;
  /** Raw payload bytes written through `write`. */
  readonly payloadSize: number;
}

const State = { Open: 0, Finished: 1, Aborted: 2, Failed: 3 } as const;
type State = (typeof State)[keyof typeof State];

/**
 * A snapshot file being written. Create with {@link SnapshotFileWriter.create}; end with
 * exactly one of {@link finish} or {@link abort}. Not a durable commit by itself: the file's
 * directory entry is made durable by the snapshotter's commit.
 */
export class SnapshotFileWriter implements SnapshotWriter {
  private block: Buffer;
  private fill = 0;
  private readonly free: Buffer[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** The chain as it was before the newest sealed block: what `write` waits for. */
  private lagging: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private state: State = State.Open;
  private position: number;
  private digest: number;
  private blockCount = 0;
  private payloadSize = 0;
  private blocksBytes = 0;
  /** When this turn's writes began (clock ms); -1 until a write in the current turn. */
  private turnStart = -1;

  private constructor(
    /** The file being written. */
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly fs: FileSystem,
    private readonly blockSize: number,
    private readonly compression: CompressionType,
    dataStart: number,
    headerCrc: number,
    metadataCrc: number,
    private readonly runtime: { readonly clock: Clock; readonly timers: Pick<Timers, 'setImmediate'> },
  ) {
    this.block = Buffer.allocUnsafe(blockSize);
    this.position = dataStart;
    this.digest = foldDigest(foldDigest(0, headerCrc), metadataCrc);
  }

  /**
   * Creates `path` (which must not exist) and writes the header, the sessions and the
   * membership.
   * @throws InvalidOptionError for a bad block size or compression name.
   * @throws StorageError when the file cannot be created or written (nothing is left behind).
   */
  static async create(path: string, options: SnapshotFileWriterOptions, sessions: Uint8Array, membership: Uint8Array): Promise<SnapshotFileWriter> {
    const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > MAX_BLOCK_SIZE) {
      throw new InvalidOptionError(`blockSize must be an integer in 1..${MAX_BLOCK_SIZE}, got ${blockSize}`);
    }
    const name = options.compression ?? 'none';
    if (name !== 'none' && name !== 'snappy') throw new InvalidOptionError(`unknown compression '${String(name)}'`);
    const compression = compressionType(name);
    const metadataCrc = crc32(membership, crc32(sessions));
    const header = encodeHeader({ compression, blockSize, sessionsSize: sessions.length, membershipSize: membership.length, metadataCrc });
    const fs = options.fs ?? realFileSystem;
    let handle: FileHandle;
    try {
      handle = await fs.promises.open(path, 'wx');
    } catch (err) {
      throw storageError(`create snapshot file ${path}`, err);
    }
    try {
      await handle.writev([header, sessions, membership], 0);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await fs.promises.rm(path, { force: true }).catch(() => undefined);
      throw storageError(`write snapshot header ${path}`, err);
    }
    const dataStart = HEADER_BYTES + sessions.length + membership.length;
    return new SnapshotFileWriter(path, handle, fs, blockSize, compression, dataStart, header.readUInt32LE(HEADER_BYTES - 4), metadataCrc,
      options.runtime ?? realRuntime);
  }

  /**
   * Appends payload bytes. The bytes are copied before this returns; the Promise resolves when
   * all but the newest full block are written, and in a later event-loop turn once this turn's
   * writes have held the thread {@link SNAPSHOT_WRITE_SLICE_MS} (see the module comment).
   * @throws InvalidOperationError after finish/abort; StorageError (rejects) if an earlier
   *   block write failed — the file is then unusable and should be aborted.
   */
  write(data: Uint8Array): Promise<void> {
    if (this.state !== State.Open) return Promise.reject(this.notOpen());
    if (this.failure !== undefined) return Promise.reject(this.failure);
    let off = 0;
    while (off < data.length) {
      const n = Math.min(data.length - off, this.blockSize - this.fill);
      this.block.set(data.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      if (this.fill === this.blockSize) this.sealBlock();
    }
    return this.paced(this.lagging);
  }

  /** `p`, or `p` then a later turn when this turn's slice is spent. */
  private paced(p: Promise<void>): Promise<void> {
    const { clock, timers } = this.runtime;
    const now = clock.now();
    if (this.turnStart < 0) {
      this.turnStart = now;
      // The check phase ends the turn: the next write starts a new slice.
      timers.setImmediate(() => { this.turnStart = -1; });
      return p;
    }
    if (now - this.turnStart < SNAPSHOT_WRITE_SLICE_MS) return p;
    // Two hand-offs: a slice that ran in the poll phase (resumed by a file write's completion)
    // would otherwise continue in the same iteration's check phase, two slices back to back
    // with no I/O between them. The second immediate runs after the next poll whatever the phase.
    return p.then(() => new Promise<void>((res) => timers.setImmediate(() => timers.setImmediate(res))));
  }

  /**
   * Writes the last partial block and the footer, fsyncs and closes the file.
   * @throws InvalidOperationError when not open; StorageError on a failed write or sync (the
   *   file is then removed).
   */
  async finish(): Promise<SnapshotFileSummary> {
    if (this.state !== State.Open) throw this.notOpen();
    if (this.fill > 0) this.sealBlock();
    this.state = State.Finished;
    try {
      await this.chain;
      const footer = encodeFooter({ blockCount: this.blockCount, payloadSize: this.payloadSize, blocksBytes: this.blocksBytes, digest: this.digest });
      await this.writeAt([footer]);
      await this.handle.sync();
      await this.handle.close();
      return { fileSize: this.position, checksum: fileChecksum(footer.readUInt32LE(36)), payloadSize: this.payloadSize };
    } catch (err) {
      this.state = State.Failed;
      await this.discard();
      throw storageError(`finish snapshot file ${this.path}`, err);
    }
  }

  /** Stops writing and removes the file. Idempotent; never throws. */
  async abort(): Promise<void> {
    if (this.state === State.Aborted) return;
    this.state = State.Aborted;
    await this.chain.catch(() => undefined);
    await this.discard();
  }

  private async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await this.fs.promises.rm(this.path, { force: true }).catch(() => undefined);
  }

  private notOpen(): Error {
    return this.failure ?? new InvalidOperationError(`snapshot file ${this.path} is no longer open for writing`);
  }

  /** Hands the filled part of the current block to the write chain and starts a new block. */
  private sealBlock(): void {
    const raw = this.block.subarray(0, this.fill);
    const full = this.block;
    this.block = this.free.pop() ?? Buffer.allocUnsafe(this.blockSize);
    this.fill = 0;
    const compressed = this.compression === CompressionType.Snappy ? snappyCompress(raw) : null;
    const stored = compressed ?? raw;
    const { header, crc } = encodeBlockHeader(stored, raw.length, compressed === null ? BlockFlag.Raw : BlockFlag.Snappy);
    this.digest = foldDigest(this.digest, crc);
    this.blockCount++;
    this.payloadSize += raw.length;
    this.blocksBytes += BLOCK_HEADER_BYTES + stored.length;
    this.lagging = this.chain;
    this.chain = this.chain.then(async () => {
      await this.writeAt([header, stored]);
      if (this.free.length < 2) this.free.push(full);
    });
    // Record the first failure so later calls report it rather than an unrelated state error.
    this.chain.catch((err: unknown) => { this.failure ??= storageError(`write snapshot file ${this.path}`, err); });
  }

  private async writeAt(bufs: Uint8Array[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const want = bufs.reduce((sum, b) => sum + b.length, 0);
    let written = (await this.handle.writev(bufs, this.position)).bytesWritten;
    // writev may write short (signals, some filesystems); finish the rest piece by piece.
    while (written < want) {
      let skip = written, i = 0;
      while (skip >= (bufs[i] as Uint8Array).length) { skip -= (bufs[i] as Uint8Array).length; i++; }
      const b = bufs[i] as Uint8Array;
      const { bytesWritten } = await this.handle.write(b, skip, b.length - skip, this.position + written);
      if (bytesWritten === 0) throw new StorageError(`no progress writing ${this.path}`);
      written += bytesWritten;
    }
    this.position += want;
  }
}
