/**
 * The sending end of one snapshot stream, on a connection of its own so that a large snapshot
 * never delays heartbeats. Chunks are read straight into the buffer that goes to the socket
 * (one allocation per chunk, no copy), and the next chunk is read only once the socket has
 * drained, so memory stays at about one chunk per stream.
 */
import type net from 'node:net';
import type { Message } from '../core/types.js';
import { CodecError } from '../errors.js';
import { dial, type TlsMaterial } from './dial.js';
import { encodeFrame, FRAME_HEADER_SIZE, FrameDecoder, FrameKind, writeFrameHeader } from './frame.js';
import { decodeAck, encodeSnapshotHeader, writeChunkPrefix } from './snapshot-protocol.js';
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

/** Writes `buf`, waiting (on `timers`) for the socket to drain when its buffer is full. */
function write(timers: Timers, socket: net.Socket, buf: Uint8Array, timeoutMs: number): Promise<void> {
  if (socket.write(buf)) return Promise.resolve();
  return withTimeout(timers, new Promise<void>((resolve, reject) => {
    const onClose = (): void => reject(new Error('snapshot connection closed'));
    socket.once('close', onClose);
    socket.once('drain', () => {
      socket.off('close', onClose);
      resolve();
    });
  }), timeoutMs, 'snapshot chunk');
}

/** Sends one file as chunk frames; stops early once `stop()` says the receiver already answered. */
async function sendFile(
  socket: net.Socket, ctx: SnapshotSendContext, index: number, file: string, size: number, stop: () => boolean,
): Promise<void> {
  const fh = await ctx.runtime.fs.promises.open(file, 'r');
  try {
    for (let offset = 0; offset < size && !stop();) {
      const buf = Buffer.allocUnsafe(FRAME_HEADER_SIZE + 16 + ctx.chunkSize);
      const prefix = writeChunkPrefix(buf, FRAME_HEADER_SIZE, index, offset);
      const want = Math.min(ctx.chunkSize, size - offset);
      const { bytesRead } = await fh.read(buf, FRAME_HEADER_SIZE + prefix, want, offset);
      if (bytesRead !== want) throw new Error(`snapshot file ${file} changed while being sent`);
      const end = FRAME_HEADER_SIZE + prefix + bytesRead;
      writeFrameHeader(buf, 0, FrameKind.SnapshotChunk, buf.subarray(FRAME_HEADER_SIZE, end));
      await write(ctx.runtime.timers, socket, buf.subarray(0, end), ctx.chunkTimeoutMs);
      ctx.countBytes?.(end);
      offset += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Streams the files of `m.snapshot` to `address` and waits for the receiver's verdict.
 * Resolves when the receiver has every file; rejects on any failure (missing file, connection
 * error, timeout, refusal). The connection is always closed when it settles.
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
    for (let i = 0; i < paths.length && early === null; i++) {
      await sendFile(socket, ctx, i, paths[i]!, fileSizes[i]!, () => early !== null);
    }
    if (early === null) await write(timers, socket, encodeFrame(FrameKind.SnapshotEnd, Buffer.alloc(0)), ctx.chunkTimeoutMs);
    const verdict = await withTimeout(timers, ack, ctx.chunkTimeoutMs, 'snapshot acknowledgement');
    if (!verdict.ok) throw new Error(`snapshot refused by ${address}: ${verdict.reason}`);
  } finally {
    socket.destroy();
  }
}
