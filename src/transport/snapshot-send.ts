/**
 * The sending end of one snapshot stream, on a connection of its own so that a large snapshot
 * never delays heartbeats. Chunks are read straight into the buffer that goes to the socket
 * (no copy; the stream's few chunk buffers are reused), and each byte is checksummed once: the
 * chunk's CRC-32 gives its frame's checksum and its file's running CRC by combination. Reading
 * is pipelined: the next chunk is read from disk while the current one is on the socket, and a
 * chunk is handed to the socket only once the socket has drained (backpressure), so memory
 * stays at about three chunks per stream (one in the socket's buffer, one being written, one
 * read ahead). The running CRC-32 of each file goes out in the end frame; the host's send
 * limit (bytes per second) is paid before each chunk is written.
 */
import type net from 'node:net';
import type { Message } from '../core/types.js';
import { crc32, crc32Combine } from '../encoding/crc32.js';
import { CodecError } from '../errors.js';
import { dial, type TlsMaterial } from './dial.js';
import { encodeFrame, FRAME_HEADER_SIZE, FrameDecoder, FrameKind, writeFrameHeader } from './frame.js';
import type { ByteRateLimiter } from './rate-limiter.js';
import { decodeAck, encodeSnapshotEnd, encodeSnapshotHeader, writeChunkPrefix } from './snapshot-protocol.js';
import type { Runtime, TimerHandle, Timers } from '../runtime/index.js';

/** What a send needs from its transport. */
export interface SnapshotSendContext {
  readonly tls: TlsMaterial | undefined;
  readonly deploymentId: number;
  readonly sourceAddress: string;
  readonly connectTimeoutMs: number;
  /** The local IP address to dial from (`TcpTransportOptions.dialFromHost`); optional. */
  readonly dialFromHost?: string;
  readonly chunkSize: number;
  readonly chunkTimeoutMs: number;
  /** Counts bytes written to the stream (metrics); optional. */
  readonly countBytes?: (n: number) => void;
  /** The host's limit on snapshot bytes sent per second (shared by its streams); optional. */
  readonly limiter?: ByteRateLimiter;
  /** The transport's runtime: the files are read through its fs, the timeouts on its timers. */
  readonly runtime: Runtime;
}

/** Settles with the receiver's acknowledgement; rejects if the connection ends first. */
function ackWaiter(socket: net.Socket): Promise<{ ok: boolean; reason: string }> {
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder(64 * 1024);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of decoder.push(chunk)) {
          if (f.kind !== FrameKind.SnapshotAck) throw new CodecError(`unexpected frame kind ${f.kind}`);
          resolve(decodeAck(f.payload));
        }
      } catch (err) {
        reject(err as Error);
        socket.destroy();
      }
    });
    socket.once('close', () => reject(new Error('snapshot connection closed before the acknowledgement')));
    socket.once('error', (err) => reject(err));
  });
}

function withTimeout<T>(timers: Timers, p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: TimerHandle | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = timers.setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => timers.clearTimeout(timer));
}

/**
 * Writes `buf`, waiting (on `timers`) for the socket to drain when its buffer is full.
 * `written` is called once the socket has handed every byte of `buf` to the kernel (the
 * buffer may be reused from then on), or failed to.
 */
function write(timers: Timers, socket: net.Socket, buf: Uint8Array, timeoutMs: number, written?: () => void): Promise<void> {
  if (socket.write(buf, written)) return Promise.resolve();
  return withTimeout(timers, new Promise<void>((resolve, reject) => {
    const onClose = (): void => reject(new Error('snapshot connection closed'));
    socket.once('close', onClose);
    socket.once('drain', () => {
      socket.off('close', onClose);
      resolve();
    });
  }), timeoutMs, 'snapshot chunk');
}

/** One chunk read from disk, framed and ready for the socket. */
interface ReadChunk {
  /** The whole buffer (returned to the stream's free list once the socket is done with it). */
  readonly buf: Buffer;
  readonly frame: Buffer;
  /** The CRC-32 of the chunk's file bytes. */
  readonly crc: number;
  readonly length: number;
}

/**
 * The chunk buffers of one stream, reused once the socket has handed their bytes to the kernel:
 * a fresh buffer of a chunk's size per chunk costs the kernel a page fault per 4 KiB on first
 * touch (about 1 ms per MiB on a VM), more than reading and sending the chunk. A stream holds
 * two or three (one in the socket, one read ahead).
 */
class ChunkBuffers {
  private readonly free: Buffer[] = [];
  constructor(private readonly size: number) {}
  get(): Buffer { return this.free.pop() ?? Buffer.allocUnsafe(this.size); }
  put(b: Buffer): void { if (this.free.length < 4) this.free.push(b); }
}

/**
 * Sends one file as chunk frames and returns the CRC-32 of its bytes; stops early once
 * `stop()` says the receiver already answered (the CRC is then of a prefix, and unused).
 * Each byte is checksummed once: the chunk's CRC gives both the frame's checksum and the
 * file's running CRC (by CRC combination).
 */
async function sendFile(
  socket: net.Socket, ctx: SnapshotSendContext, buffers: ChunkBuffers, index: number, file: string, size: number, stop: () => boolean,
): Promise<number> {
  const fh = await ctx.runtime.fs.promises.open(file, 'r');
  const readAt = async (offset: number): Promise<ReadChunk> => {
    const buf = buffers.get();
    try {
      const prefix = writeChunkPrefix(buf, FRAME_HEADER_SIZE, index, offset);
      const want = Math.min(ctx.chunkSize, size - offset);
      const at = FRAME_HEADER_SIZE + prefix;
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, at + got, want - got, offset + got);
        if (bytesRead === 0) throw new Error(`snapshot file ${file} changed while being sent`);
        got += bytesRead;
      }
      const end = at + want;
      const crc = crc32(buf.subarray(at, end));
      const frameCrc = crc32Combine(crc32(buf.subarray(FRAME_HEADER_SIZE, at)), crc, want);
      writeFrameHeader(buf, 0, FrameKind.SnapshotChunk, buf.subarray(FRAME_HEADER_SIZE, end), frameCrc);
      return { buf, frame: buf.subarray(0, end), crc, length: want };
    } catch (err) {
      buffers.put(buf);
      throw err;
    }
  };
  let crc = 0;
  let next: Promise<ReadChunk> | null = size > 0 ? readAt(0) : null;
  try {
    for (let offset = 0; next !== null && !stop();) {
      const cur = await next;
      offset += cur.length;
      // Read ahead: the next chunk comes off the disk while this one goes to the socket.
      next = offset < size ? readAt(offset) : null;
      next?.catch(() => undefined);
      crc = crc32Combine(crc, cur.crc, cur.length);
      if (ctx.limiter?.limited === true) await ctx.limiter.take(cur.frame.length);
      await write(ctx.runtime.timers, socket, cur.frame, ctx.chunkTimeoutMs, () => buffers.put(cur.buf));
      ctx.countBytes?.(cur.frame.length);
    }
  } finally {
    // Let a read in flight finish before its handle closes.
    if (next !== null) await next.catch(() => undefined);
    await fh.close();
  }
  return crc;
}

/**
 * Streams the files of `m.snapshot` to `address` and waits for the receiver's verdict.
 * Resolves when the receiver holds the snapshot (committed and handed to its replica; a
 * receiver before issue 19 answers once the files are written); rejects on any failure
 * (missing file, connection error, timeout, refusal). The connection is always closed when it
 * settles.
 */
export async function sendSnapshotStream(ctx: SnapshotSendContext, address: string, m: Message): Promise<void> {
  const snap = m.snapshot;
  if (snap === null) throw new CodecError('InstallSnapshot without a snapshot');
  const hasDataFile = snap.filepath !== '';
  const paths = [...(hasDataFile ? [snap.filepath] : []), ...snap.files.map((f) => f.filepath)];
  const { fs, timers } = ctx.runtime;
  const fileSizes = await Promise.all(paths.map(async (p) => (await fs.promises.stat(p)).size));
  const header = encodeSnapshotHeader({
    deploymentId: ctx.deploymentId, sourceAddress: ctx.sourceAddress, hasDataFile, fileSizes, message: m,
  });
  const socket = await dial(address, ctx.tls, ctx.connectTimeoutMs, ctx.dialFromHost, timers);
  const ack = ackWaiter(socket);
  let early: { ok: boolean; reason: string } | null = null;
  ack.then((a) => (early = a), () => {});
  try {
    const headerFrame = encodeFrame(FrameKind.SnapshotHeader, header);
    await write(timers, socket, headerFrame, ctx.chunkTimeoutMs);
    ctx.countBytes?.(headerFrame.length);
    const crcs: number[] = [];
    const buffers = new ChunkBuffers(FRAME_HEADER_SIZE + 16 + ctx.chunkSize);
    for (let i = 0; i < paths.length && early === null; i++) {
      crcs.push(await sendFile(socket, ctx, buffers, i, paths[i]!, fileSizes[i]!, () => early !== null));
    }
    if (early === null) await write(timers, socket, encodeFrame(FrameKind.SnapshotEnd, encodeSnapshotEnd(crcs)), ctx.chunkTimeoutMs);
    const verdict = await withTimeout(timers, ack, ctx.chunkTimeoutMs, 'snapshot acknowledgement');
    if (!verdict.ok) throw new Error(`snapshot refused by ${address}: ${verdict.reason}`);
  } finally {
    socket.destroy();
  }
}
