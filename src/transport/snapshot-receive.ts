/**
 * The receiving end of one snapshot stream: writes the chunks of each file, in order, into
 * the directory the host chose, then hands the rewritten InstallSnapshot to the host.
 * Remote file names are never used as paths: the data file keeps only a sanitised base name
 * and external files are named `external-file-<fileId>`, so a peer cannot write outside the
 * directory.
 */
import type net from 'node:net';
import path from 'node:path';
import type { Message, SnapshotMeta } from '../core/types.js';
import { CodecError } from '../errors.js';
import type { Logger } from '../logger.js';
import { encodeFrame, FrameKind, type Frame } from './frame.js';
import { decodeChunk, encodeAck, type SnapshotStreamHeader } from './snapshot-protocol.js';
import type { SnapshotReceiver, TransportStats } from '../contracts/transport.js';
import type { FileHandle, FileSystem, Runtime, TimerHandle, Timers } from '../runtime/index.js';

/** What a receive session needs from its transport. */
export interface SnapshotReceiveContext {
  readonly stats: TransportStats;
  readonly logger: Logger;
  readonly receiver: SnapshotReceiver;
  readonly chunkTimeoutMs: number;
  /** The transport's runtime: files are written through its fs, the chunk timeout on its timers. */
  readonly runtime: Runtime;
}

function localName(remotePath: string): string {
  const base = path.basename(remotePath);
  return /^[A-Za-z0-9._-]{1,200}$/.test(base) && base !== '.' && base !== '..' ? base : 'snapshot.data';
}

/** One incoming stream. Ends in exactly one of `receiver.complete` or `receiver.failed`. */
export class SnapshotReceiveSession {
  private readonly paths: string[] = [];
  private current = 0;
  private offset = 0;
  private handle: FileHandle | null = null;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private done = false;
  private timer: TimerHandle | null = null;
  private readonly fs: FileSystem;
  private readonly timers: Timers;

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
    try {
      const dir = ctx.receiver.tempDir(snap, header.message.from);
      if (header.hasDataFile) this.paths.push(path.join(dir, localName(snap.filepath)));
      for (const f of snap.files) this.paths.push(path.join(dir, `external-file-${f.fileId}`));
      if (new Set(this.paths).size !== this.paths.length) throw new CodecError('snapshot stream names a file twice');
      this.enqueue(async () => {
        await this.fs.promises.mkdir(dir, { recursive: true });
      });
      this.armTimer();
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Handles the next frame of the stream. */
  onFrame(f: Frame): void {
    if (this.done) return;
    this.armTimer();
    if (f.kind === FrameKind.SnapshotChunk) {
      let chunk: ReturnType<typeof decodeChunk>;
      try {
        chunk = decodeChunk(f.payload);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      this.enqueue(() => this.writeChunk(chunk.fileIndex, chunk.offset, chunk.data));
    } else if (f.kind === FrameKind.SnapshotEnd) {
      this.enqueue(() => this.finish());
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
    if (h !== null) h.close().catch(() => {});
  }

  private armTimer(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.fail(new Error(`no snapshot chunk within ${this.ctx.chunkTimeoutMs} ms`));
      this.socket.destroy();
    }, this.ctx.chunkTimeoutMs);
  }

  /** Serialises file work; the socket is paused while work is pending, which bounds memory. */
  private enqueue(work: () => Promise<void>): void {
    this.pending++;
    if (this.pending === 1) this.socket.pause();
    this.chain = this.chain.then(async () => {
      if (!this.done) await work();
    }).catch((err: unknown) => {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }).finally(() => {
      this.pending--;
      if (this.pending === 0 && !this.done) this.socket.resume();
    });
  }

  private async writeChunk(fileIndex: number, offset: number, data: Uint8Array): Promise<void> {
    const sizes = this.header.fileSizes;
    if (fileIndex < this.current || fileIndex >= sizes.length) throw new CodecError(`chunk for unexpected file ${fileIndex}`);
    while (this.current < fileIndex) await this.finishFile();
    if (offset !== this.offset || offset + data.length > sizes[fileIndex]!) {
      throw new CodecError(`chunk at ${offset}+${data.length} does not continue file ${fileIndex} at ${this.offset}`);
    }
    this.handle ??= await this.fs.promises.open(this.paths[fileIndex]!, 'w');
    await this.handle.write(data, 0, data.length, offset);
    this.offset += data.length;
  }

  private async finishFile(): Promise<void> {
    const size = this.header.fileSizes[this.current]!;
    if (this.offset !== size) throw new CodecError(`file ${this.current} ended at ${this.offset} of ${size} bytes`);
    const h = this.handle ?? (await this.fs.promises.open(this.paths[this.current]!, 'w'));
    this.handle = null;
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    this.current++;
    this.offset = 0;
  }

  private async finish(): Promise<void> {
    while (this.current < this.header.fileSizes.length) await this.finishFile();
    if (this.done) return;
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
    this.socket.end(encodeFrame(FrameKind.SnapshotAck, encodeAck(true, '')));
    try {
      this.ctx.receiver.complete(delivered);
    } catch (err) {
      this.ctx.logger.error('transport: snapshot receiver threw', { shardId: m.shardId, replicaId: m.to, from: m.from, error: String(err) });
    } finally {
      this.onFinish();
    }
  }
}
