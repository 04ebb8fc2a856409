/**
 * The receiving end of one snapshot stream: writes the chunks of each file, in order, into
 * the directory the host chose, then hands the rewritten InstallSnapshot to the host.
 *
 * Chunks come as the pieces the socket read them in (the connection's decoder gathers them,
 * `FrameDecoder.gather`): they are neither copied into one buffer nor checksummed by the
 * decoder. One CRC-32 pass over each piece serves the frame's checksum (compared before the
 * chunk is queued for the disk), the file's running CRC and the host's check of the file; the
 * pieces are written with one vectored write. Every 16 MiB a file's data is flushed to the
 * disk in the background (fdatasync), so the disk writes while the stream goes on instead of
 * all at the end.
 *
 * Writes are behind the socket: chunks queue for the disk while the socket keeps reading,
 * until the bytes queued pass `maxQueueBytes`, which pauses the socket until the disk catches
 * up. The host's receive limit (bytes per second) pauses it too, for as long as the bytes just
 * read cost. Each file's bytes are checked once, in memory, as they arrive: a running CRC-32
 * compared with the sender's at the end, and the host's own check of the file's format
 * (`SnapshotReceiver.checkFile`), so the host need not read the files back.
 * Remote file names are never used as paths: the data file keeps only a sanitised base name
 * and external files are named `external-file-<fileId>`, so a peer cannot write outside the
 * directory.
 */
import type net from 'node:net';
import path from 'node:path';
import type { Message, SnapshotMeta } from '../core/types.js';
import { crc32, crc32Combine } from '../encoding/crc32.js';
import { CodecError, CorruptionError, StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { encodeFrame, FrameKind, type Frame, type GatheredFrame } from './frame.js';
import type { ByteRateLimiter } from './rate-limiter.js';
import { CHUNK_PREFIX_MAX, decodeChunkPrefix, decodeSnapshotEnd, encodeAck, type SnapshotStreamHeader } from './snapshot-protocol.js';
import type { SnapshotReceiver, StreamedFileCheck, TransportStats } from '../contracts/transport.js';
import type { FileHandle, FileSystem, Runtime, TimerHandle, Timers } from '../runtime/index.js';

/** What a receive session needs from its transport. */
export interface SnapshotReceiveContext {
  readonly stats: TransportStats;
  readonly logger: Logger;
  readonly receiver: SnapshotReceiver;
  readonly chunkTimeoutMs: number;
  /** Bytes received and not yet written before the socket is paused (at least one chunk passes). */
  readonly maxQueueBytes: number;
  /** The host's limit on snapshot bytes received per second (shared by its streams); optional. */
  readonly limiter?: ByteRateLimiter;
  /** The transport's runtime: files are written through its fs, the chunk timeout on its timers. */
  readonly runtime: Runtime;
}

/** `pieces` without their first `n` bytes (after a short write). */
function rest(pieces: readonly Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const p of pieces) {
    if (n >= p.length) {
      n -= p.length;
      continue;
    }
    out.push(n > 0 ? p.subarray(n) : p);
    n = 0;
  }
  return out;
}

/** Written bytes of a file after which its data is flushed in the background (see `flush`). */
export const FLUSH_EVERY_BYTES = 16 * 1024 * 1024;

function localName(remotePath: string): string {
  const base = path.basename(remotePath);
  return /^[A-Za-z0-9._-]{1,200}$/.test(base) && base !== '.' && base !== '..' ? base : 'snapshot.data';
}

/**
 * One incoming stream. Ends in exactly one of `receiver.complete` or `receiver.failed`; the
 * sender is acknowledged after `complete` settles (refused if it rejects), or at the failure.
 */
export class SnapshotReceiveSession {
  private readonly paths: string[] = [];
  private current = 0;
  private offset = 0;
  private handle: FileHandle | null = null;
  /** Bytes of the current file written since its last background flush started. */
  private unflushed = 0;
  /** The current file's background flush in flight, if any (settles, never rejects). */
  private flushing: Promise<void> | null = null;
  /** The first background flush that failed. */
  private flushError: Error | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** Bytes of chunks received and not yet written. */
  private queuedBytes = 0;
  /** Whether the socket is paused for the disk (queue full) / for the receive limit. */
  private waitDisk = false;
  private waitRate = false;
  /** Settles when the receive limit's pause ends (null: none); the stream completes only after it. */
  private rateWait: Promise<void> | null = null;
  private done = false;
  private timer: TimerHandle | null = null;
  private readonly fs: FileSystem;
  private readonly timers: Timers;
  /** The file the next chunk belongs to, as received (ahead of `current`, which is as written). */
  private receiving = 0;
  /** Running CRC-32 of each file's bytes as received. */
  private readonly crcs: number[];
  /** The host's checks of each file, created when its first byte (or its end) arrives. */
  private readonly checks: (StreamedFileCheck | null | undefined)[];

  /**
   * Starts a session. Asks the host for the directory at once.
   * @param onFinish called once when the session ends, either way
   */
  constructor(
    private readonly socket: net.Socket,
    private readonly ctx: SnapshotReceiveContext,
    private readonly header: SnapshotStreamHeader,
    private readonly onFinish: () => void,
  ) {
    this.fs = ctx.runtime.fs;
    this.timers = ctx.runtime.timers;
    const snap = header.message.snapshot!;
    this.crcs = header.fileSizes.map(() => 0);
    this.checks = header.fileSizes.map(() => undefined);
    try {
      const dir = ctx.receiver.tempDir(snap, header.message.from);
      if (header.hasDataFile) this.paths.push(path.join(dir, localName(snap.filepath)));
      for (const f of snap.files) this.paths.push(path.join(dir, `external-file-${f.fileId}`));
      if (new Set(this.paths).size !== this.paths.length) throw new CodecError('snapshot stream names a file twice');
      this.enqueue(async () => {
        await this.fs.promises.mkdir(dir, { recursive: true });
      }, 0);
      this.armTimer();
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Handles the next frame of the stream: whole (its checksum checked by the decoder) or
   * gathered (its pieces as they arrived, its checksum checked here, in the one pass over them).
   */
  onFrame(f: Frame | GatheredFrame): void {
    if (this.done) return;
    this.armTimer();
    if (f.kind === FrameKind.SnapshotChunk) {
      const gathered = 'parts' in f;
      const n = gathered ? f.length : f.payload.length;
      let chunk: { fileIndex: number; offset: number; data: Buffer[] } | null;
      try {
        chunk = this.takeChunk(gathered ? f.parts : [f.payload], n, gathered ? f.crc : null);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      if (chunk === null) {
        // A frame damaged in transit: as the connection's own decoder treats one, a bad frame.
        this.ctx.stats.badFrames++;
        this.fail(new CodecError('frame payload checksum mismatch'));
        this.socket.destroy();
        return;
      }
      this.queuedBytes += n;
      this.enqueue(() => this.writeChunk(chunk.fileIndex, chunk.offset, chunk.data), n);
      this.limit(n);
    } else if (!('payload' in f)) {
      this.fail(new CodecError(`unexpected gathered frame kind ${f.kind} on a snapshot stream`));
    } else if (f.kind === FrameKind.SnapshotEnd) {
      let sent: number[] | null;
      try {
        sent = decodeSnapshotEnd(f.payload);
        this.endChecks();
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      this.enqueue(() => this.finish(sent), 0);
    } else {
      this.fail(new CodecError(`unexpected frame kind ${f.kind} on a snapshot stream`));
    }
  }

  /** Ends the session as failed (bad frame, connection lost, timeout, shutdown). Idempotent. */
  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.cleanup();
    this.ctx.stats.snapshotFailures++;
    this.ctx.logger.warn('transport: incoming snapshot failed', {
      shardId: this.header.message.shardId, replicaId: this.header.message.to, from: this.header.message.from,
      fromAddress: this.header.sourceAddress, index: this.header.message.snapshot?.index, error: err.message,
    });
    if (!this.socket.destroyed) this.socket.end(encodeFrame(FrameKind.SnapshotAck, encodeAck(false, err.message)));
    this.timers.setTimeout(() => this.socket.destroy(), 1000).unref();
    try {
      this.ctx.receiver.failed(this.header.message, err);
    } finally {
      this.onFinish();
    }
  }

  private cleanup(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    const h = this.handle;
    this.handle = null;
    // Not under a flush in flight: its descriptor must stay open (and not be reused) until it ends.
    if (h !== null) void (this.flushing ?? Promise.resolve()).then(() => h.close()).catch(() => {});
  }

  /** (Re)starts the chunk deadline; none runs while the socket is paused for the receive limit. */
  private armTimer(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    if (this.waitRate) return;
    this.timer = this.timers.setTimeout(() => {
      this.fail(new Error(`no snapshot chunk within ${this.ctx.chunkTimeoutMs} ms`));
      this.socket.destroy();
    }, this.ctx.chunkTimeoutMs);
  }

  /**
   * Takes in a chunk frame's payload (`parts`, `length` bytes in all), in stream order. Each
   * byte of its data is checksummed once, and that one pass serves three checks: the host's
   * check of the file (which reports the CRCs of the pieces it checksums), the file's running
   * CRC (compared with the sender's at the end), and — for a gathered frame, `frameCrc` — the
   * frame's own checksum, checked before the data is queued for the disk.
   * @returns the file, the offset and the data's pieces (views of `parts`, not copied); null
   *   when the frame's checksum does not match (nothing of it is written)
   * @throws CodecError for a malformed frame, or a chunk of an earlier file; whatever the check
   *   throws (a frame damaged in transit may be refused by the check before its checksum is
   *   compared: the stream fails either way)
   */
  private takeChunk(parts: readonly Buffer[], length: number, frameCrc: number | null): { fileIndex: number; offset: number; data: Buffer[] } | null {
    const first = parts[0] ?? Buffer.alloc(0);
    const head = first.length >= CHUNK_PREFIX_MAX || parts.length === 1 ? first : Buffer.concat(parts, Math.min(length, CHUNK_PREFIX_MAX));
    const { fileIndex, offset, prefixLength } = decodeChunkPrefix(head);
    if (fileIndex < this.receiving || fileIndex >= this.header.fileSizes.length) throw new CodecError(`chunk for unexpected file ${fileIndex}`);
    const data = rest(parts, prefixLength);
    while (this.receiving < fileIndex) this.checkOf(this.receiving++)?.finish();
    const check = this.checkOf(fileIndex);
    let crc = 0;
    if (check === null) {
      for (const d of data) crc = crc32(d, crc);
    } else {
      const add = (n: number, c: number): void => { crc = crc32Combine(crc, c, n); };
      for (const d of data) check.update(d, add);
    }
    const bytes = length - prefixLength;
    if (frameCrc !== null && crc32Combine(crc32(head.subarray(0, prefixLength)), crc, bytes) !== frameCrc) return null;
    this.crcs[fileIndex] = crc32Combine(this.crcs[fileIndex]!, crc, bytes);
    return { fileIndex, offset, data };
  }

  /** The end frame arrived: finishes the checks of the files not finished yet. */
  private endChecks(): void {
    for (; this.receiving < this.header.fileSizes.length; this.receiving++) this.checkOf(this.receiving)?.finish();
  }

  private checkOf(i: number): StreamedFileCheck | null {
    let c = this.checks[i];
    if (c === undefined) {
      c = this.ctx.receiver.checkFile?.(this.header.message.snapshot!, i, this.header.fileSizes[i]!) ?? null;
      this.checks[i] = c;
    }
    return c;
  }

  /** Pays the receive limit for `n` bytes just read: pauses the socket for as long as they cost. */
  private limit(n: number): void {
    const lim = this.ctx.limiter;
    if (lim === undefined || !lim.limited) return;
    const ms = lim.reserve(n);
    if (ms <= 0 || this.waitRate) return;
    this.waitRate = true;
    this.armTimer();
    this.flow();
    this.rateWait = new Promise((resolve) => lim.after(ms, () => {
      this.waitRate = false;
      this.rateWait = null;
      // The chunk deadline counts from here: time paused for the limit is not the sender's.
      if (!this.done) this.armTimer();
      this.flow();
      resolve();
    }));
  }

  /** Pauses or resumes the socket: paused while the disk is behind or the receive limit is owed. */
  private flow(): void {
    if (this.done || this.socket.destroyed) return;
    this.waitDisk = this.queuedBytes > this.ctx.maxQueueBytes;
    if (this.waitDisk || this.waitRate) this.socket.pause();
    else this.socket.resume();
  }

  /** Serialises file work (writes behind the socket); `bytes` of the queue are released when it is done. */
  private enqueue(work: () => Promise<void>, bytes: number): void {
    this.flow();
    this.chain = this.chain.then(async () => {
      if (!this.done) await work();
    }).catch((err: unknown) => {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }).finally(() => {
      this.queuedBytes -= bytes;
      this.flow();
    });
  }

  /** Writes a chunk's data (its pieces, in one call when the disk takes them whole). */
  private async writeChunk(fileIndex: number, offset: number, data: Buffer[]): Promise<void> {
    const sizes = this.header.fileSizes;
    while (this.current < fileIndex) await this.finishFile();
    let length = 0;
    for (const d of data) length += d.length;
    if (offset !== this.offset || offset + length > sizes[fileIndex]!) {
      throw new CodecError(`chunk at ${offset}+${length} does not continue file ${fileIndex} at ${this.offset}`);
    }
    this.handle ??= await this.fs.promises.open(this.paths[fileIndex]!, 'w');
    let pieces = data;
    for (let done = 0; done < length;) {
      const { bytesWritten } = await this.handle.writev(pieces, offset + done);
      done += bytesWritten;
      if (done < length) pieces = rest(pieces, bytesWritten);
    }
    this.offset += length;
    this.unflushed += length;
    if (this.unflushed >= FLUSH_EVERY_BYTES && this.flushing === null) this.flush(this.handle);
  }

  /**
   * Starts writing the file's data so far to the disk (fdatasync) without waiting for it: the
   * disk works while the stream goes on, and the sync at the file's end has only the last
   * bytes left to write, instead of the whole file after the last byte arrived (with much
   * memory, the kernel would otherwise start writing back only at that sync). RocksDB's
   * `bytes_per_sync` does the same with sync_file_range.
   */
  private flush(h: FileHandle): void {
    this.unflushed = 0;
    this.flushing = h.datasync().catch((err: unknown) => {
      this.flushError ??= err instanceof Error ? err : new Error(String(err));
    }).finally(() => {
      this.flushing = null;
    });
  }

  private async finishFile(): Promise<void> {
    const size = this.header.fileSizes[this.current]!;
    if (this.offset !== size) throw new CodecError(`file ${this.current} ended at ${this.offset} of ${size} bytes`);
    const h = this.handle ?? (await this.fs.promises.open(this.paths[this.current]!, 'w'));
    this.handle = null;
    try {
      if (this.flushing !== null) await this.flushing;
      if (this.flushError !== null) {
        throw new StorageError(`fdatasync ${this.paths[this.current]!}: ${this.flushError.message}`, { cause: this.flushError, path: this.paths[this.current]! });
      }
      await h.sync();
    } finally {
      await h.close();
    }
    this.unflushed = 0;
    this.current++;
    this.offset = 0;
  }

  /** Every file is written: syncs the last, compares the CRCs with the sender's (`sent`; null: none sent). */
  private async finish(sent: number[] | null): Promise<void> {
    while (this.current < this.header.fileSizes.length) await this.finishFile();
    // The last bytes are paid for too: a limited stream completes no sooner than its rate allows.
    while (this.rateWait !== null) await this.rateWait;
    if (this.done) return;
    if (sent !== null) {
      if (sent.length !== this.crcs.length) throw new CodecError(`snapshot end names ${sent.length} files, the stream ${this.crcs.length}`);
      const bad = sent.findIndex((c, i) => c !== this.crcs[i]);
      if (bad >= 0) throw new CorruptionError(`streamed file ${bad} does not match the sender's checksum`, { file: this.paths[bad] });
    }
    this.done = true;
    this.cleanup();
    const m = this.header.message;
    const snap = m.snapshot!;
    let i = 0;
    const local: SnapshotMeta = {
      ...snap,
      filepath: this.header.hasDataFile ? this.paths[i++]! : snap.filepath,
      files: snap.files.map((f) => ({ ...f, filepath: this.paths[i++]! })),
    };
    const delivered: Message = { ...m, snapshot: local };
    this.ctx.stats.snapshotsReceived++;
    // The sender hears the verdict only once the host has committed the snapshot and handed it
    // to the replica: told earlier, the leader would probe a follower that does not hold it yet,
    // be refused, and stream the whole snapshot again.
    let refused: Error | null = null;
    try {
      await this.ctx.receiver.complete(delivered, sent === null ? undefined : { crcs: this.crcs });
    } catch (err) {
      refused = err instanceof Error ? err : new Error(String(err));
      this.ctx.logger.warn('transport: received snapshot refused by the host', {
        shardId: m.shardId, replicaId: m.to, from: m.from, index: snap.index, error: refused.message,
      });
    }
    try {
      if (!this.socket.destroyed) this.socket.end(encodeFrame(FrameKind.SnapshotAck, encodeAck(refused === null, refused?.message ?? '')));
    } finally {
      this.onFinish();
    }
  }
}
