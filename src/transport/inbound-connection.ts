/**
 * One accepted connection. Its first frame decides its role for life: a Batch or Ping frame
 * makes it a message connection, a SnapshotHeader frame a snapshot stream. A Ping with a
 * payload carries the dialer's handshake (`handshake.ts`; earlier releases send none). Any violation (bad frame,
 * wrong deployment, local message kinds, a frame that does not finish in time, a frame of the
 * other role) closes this connection only, with a counter and a log line.
 *
 * On a message connection the dialer also sends Ping frames (see `liveness.ts`); each is
 * answered with a Pong on the same connection, and so is the arrival of any bytes when no Pong
 * went out for `idleTimeoutMs / 4`: behind a large batch on a slow link the Pings arrive late,
 * but the bytes before them prove the link alive. A message connection on which nothing arrives
 * for `idleTimeoutMs` (its dialer pings far more often) is dead — a silent partition, or a
 * dialer that went away without a FIN — and is closed.
 */
import type net from 'node:net';
import { CodecError } from '../errors.js';
import type { Logger } from '../logger.js';
import { decodeBatch } from './codec.js';
import type { MessageBatch } from '../contracts/message-batch.js';
import { encodeFrame, FrameDecoder, FrameKind, type Frame, type GatheredFrame } from './frame.js';
import { decodeHello, type Handshake } from './handshake.js';
import { decodeSnapshotHeader, type SnapshotStreamHeader } from './snapshot-protocol.js';
import { isNetworkMessageType } from './transport.js';
import type { TransportStats } from '../contracts/transport.js';
import type { Clock, Runtime, TimerHandle, Timers } from '../runtime/index.js';

const PONG = encodeFrame(FrameKind.Pong, Buffer.alloc(0));

/** The part of a snapshot session an inbound connection drives. */
export interface SnapshotSink {
  /** The next frame; chunks come gathered (their checksum left to the sink), see `FrameDecoder.gather`. */
  onFrame(f: Frame | GatheredFrame): void;
  fail(err: Error): void;
}

/** What an inbound connection needs from its transport. */
export interface InboundContext {
  readonly deploymentId: number;
  readonly maxFrameSize: number;
  readonly frameTimeoutMs: number;
  /** A message connection that receives nothing for this long is closed. */
  readonly idleTimeoutMs: number;
  readonly stats: TransportStats;
  readonly logger: Logger;
  /** The transport's clock and timers (frame, idle timeouts). */
  readonly runtime: Pick<Runtime, 'clock' | 'timers'>;
  /** A batch arrived; `hostId` is the dialer's, from its handshake (undefined without one: a previous release). */
  deliver(batch: MessageBatch, hostId: string | undefined): void;
  /** A handshake of this deployment arrived (optional: without it handshakes are checked, then ignored). */
  handshake?(h: Handshake): void;
  /** Starts a snapshot session for a validated header; null if the stream was refused. */
  openSnapshot(socket: net.Socket, header: SnapshotStreamHeader): SnapshotSink | null;
  closed(conn: InboundConnection): void;
}

/** A connection accepted by the server. */
export class InboundConnection {
  private readonly decoder: FrameDecoder;
  private role: 'new' | 'messages' | 'snapshot' = 'new';
  private snapshot: SnapshotSink | null = null;
  private timer: TimerHandle | null = null;
  private idleTimer: TimerHandle | null = null;
  private readonly timers: Timers;
  private readonly clock: Clock;
  private lastData: number;
  private lastPong = 0;
  private dead = false;
  private hostId: string | undefined;
  private readonly remote: string;

  constructor(readonly socket: net.Socket, private readonly ctx: InboundContext) {
    this.timers = ctx.runtime.timers;
    this.clock = ctx.runtime.clock;
    this.lastData = this.clock.now();
    this.decoder = new FrameDecoder(ctx.maxFrameSize);
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.dead = true;
      if (this.timer !== null) this.timers.clearTimeout(this.timer);
      if (this.idleTimer !== null) this.timers.clearTimeout(this.idleTimer);
      this.snapshot?.fail(new Error('snapshot connection closed'));
      ctx.closed(this);
    });
    this.startTimer();
  }

  /** Closes the connection (transport shutdown). */
  destroy(): void {
    this.socket.destroy();
  }

  private startTimer(): void {
    this.timer = this.timers.setTimeout(() => this.reject(`no complete frame within ${this.ctx.frameTimeoutMs} ms`), this.ctx.frameTimeoutMs);
  }

  private onData(chunk: Buffer): void {
    if (this.dead) return;
    this.lastData = this.clock.now();
    this.ctx.stats.bytesReceived += chunk.length;
    let frames: Array<Frame | GatheredFrame>;
    try {
      frames = this.decoder.pushGathered(chunk);
    } catch (err) {
      this.reject((err as Error).message);
      return;
    }
    // The deadline measures progress: it restarts when a frame completes and runs while a
    // frame is incomplete, so a trickle that never completes a frame is cut off.
    if (frames.length > 0 && this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
    for (const f of frames) {
      if (this.dead) return;
      this.onFrame(f);
    }
    if (this.role === 'snapshot') this.ctx.stats.snapshotBytesReceived += chunk.length;
    else if (this.role === 'messages' && !this.dead && this.lastData - this.lastPong >= this.ctx.idleTimeoutMs / 4) this.pong();
    if (this.decoder.error !== null) return this.reject(this.decoder.error.message);
    if (!this.dead && this.timer === null && this.decoder.buffered > 0) this.startTimer();
  }

  private onFrame(f: Frame | GatheredFrame): void {
    if (this.role === 'snapshot') {
      this.snapshot?.onFrame(f);
      return undefined;
    }
    // Only a snapshot stream gathers frames.
    if ('parts' in f) return this.reject(`unexpected frame kind ${f.kind}`);
    if (this.role === 'new') {
      if (f.kind === FrameKind.Batch || f.kind === FrameKind.Ping) this.becomeMessages();
      else if (f.kind === FrameKind.SnapshotHeader) return this.startSnapshot(f);
      else return this.reject(`unexpected first frame kind ${f.kind}`);
    }
    if (f.kind === FrameKind.Ping) {
      if (f.payload.length > 0) this.onHello(f);
      if (!this.dead) this.pong();
      return undefined;
    }
    if (f.kind !== FrameKind.Batch) return this.reject(`unexpected frame kind ${f.kind} on a message connection`);
    let batch: MessageBatch;
    try {
      batch = decodeBatch(f.payload);
    } catch (err) {
      return this.reject((err as Error).message);
    }
    if (batch.deploymentId !== this.ctx.deploymentId) {
      return this.reject(`deployment id ${batch.deploymentId} is not ours`);
    }
    for (const m of batch.messages) {
      if (!isNetworkMessageType(m.type)) return this.reject(`local message type ${m.type} from the network`);
    }
    this.ctx.stats.batchesReceived++;
    this.ctx.stats.messagesReceived += batch.messages.length;
    this.ctx.deliver(batch, this.hostId);
    return undefined;
  }

  /** A handshake, first or again later: checked, then handed to the transport. */
  private onHello(f: Frame): void {
    let h: Handshake;
    try {
      h = decodeHello(f.payload);
    } catch (err) {
      return this.reject((err as Error).message);
    }
    if (h.deploymentId !== this.ctx.deploymentId) return this.reject(`deployment id ${h.deploymentId} is not ours`);
    if (this.hostId !== undefined && this.hostId !== h.self.hostId) return this.reject(`handshake of host ${h.self.hostId} after ${this.hostId}`);
    this.hostId = h.self.hostId;
    this.ctx.handshake?.(h);
    return undefined;
  }

  private pong(): void {
    this.lastPong = this.clock.now();
    this.socket.write(PONG);
  }

  private becomeMessages(): void {
    this.role = 'messages';
    this.armIdle(this.ctx.idleTimeoutMs);
  }

  /** Checks, `ms` from now, whether anything arrived in the last `idleTimeoutMs`; re-arms if so. */
  private armIdle(ms: number): void {
    // Judged after the poll phase (setImmediate), so that bytes waiting after a blocked event
    // loop are read first.
    this.idleTimer = this.timers.setTimeout(() => this.timers.setImmediate(() => {
      this.idleTimer = null;
      if (this.dead) return;
      const idle = this.clock.now() - this.lastData;
      if (idle < this.ctx.idleTimeoutMs) return this.armIdle(this.ctx.idleTimeoutMs - idle);
      this.dead = true;
      if (this.timer !== null) this.timers.clearTimeout(this.timer);
      this.ctx.logger.info('transport: inbound message connection idle, closed', { remote: this.remote, idleMs: Math.round(idle) });
      this.socket.destroy();
      return undefined;
    }), Math.max(1, Math.ceil(ms))).unref();
  }

  private startSnapshot(f: Frame): void {
    let header: SnapshotStreamHeader;
    try {
      header = decodeSnapshotHeader(f.payload);
    } catch (err) {
      return this.reject((err as Error).message);
    }
    if (header.deploymentId !== this.ctx.deploymentId) return this.reject(`deployment id ${header.deploymentId} is not ours`);
    this.role = 'snapshot';
    // Chunks are large: taken as the pieces they arrive in, checked by the session in its one pass.
    this.decoder.gather(FrameKind.SnapshotChunk);
    this.snapshot = this.ctx.openSnapshot(this.socket, header);
    return undefined;
  }

  private reject(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    if (this.idleTimer !== null) this.timers.clearTimeout(this.idleTimer);
    this.ctx.stats.badFrames++;
    this.ctx.logger.warn('transport: bad frame, connection closed', { remote: this.remote, reason });
    this.snapshot?.fail(new CodecError(reason));
    this.socket.destroy();
  }
}
