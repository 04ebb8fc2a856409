/**
 * The sending side of one remote host: a queue bounded in messages (`maxSendQueue`) and in
 * bytes (`maxSendQueueBytes`, dragonboat's MaxSendQueueSize), one connection that carries every
 * shard's messages, batching per event-loop turn, reconnect with back-off, and the circuit
 * breaker that makes a dead host cheap.
 *
 * States: idle (no socket; the next send dials) → connecting (queueing) → connected
 * (flushing) → on any failure, backoff (the circuit is open: sends are refused in O(1)) →
 * idle again when the back-off delay ends (half-open: the next send tries one connection).
 *
 * A connected socket is watched by a {@link ConnectionLiveness} (Ping/Pong): it counts as
 * established, in stats and `connectionChanged`, once the peer has answered, and a connection
 * that stops making progress (a silent partition) is closed like a broken one — a failure is
 * counted, one warning per outage says how long it was stalled — and redialled.
 */
import type net from 'node:net';
import type { RandomSource } from '../core/random.js';
import type { Message } from '../core/types.js';
import type { Logger } from '../logger.js';
import { BatchFrameEncoder } from './batch-encoder.js';
import type { EntryRunCache } from './entry-run-cache.js';
import { messageSizeBound } from './codec.js';
import { dial, type TlsMaterial } from './dial.js';
import { ConnectionLiveness } from './liveness.js';
import type { ResolvedTcpOptions } from './tcp-options.js';
import type { RemoteStats, TransportStats } from '../contracts/transport.js';
import type { Clock, TimerHandle, Timers } from '../runtime/index.js';

/** What a {@link RemoteHost} shares with its transport. */
export interface RemoteHostContext {
  readonly opts: ResolvedTcpOptions;
  readonly tls: TlsMaterial | undefined;
  readonly stats: TransportStats;
  readonly random: RandomSource;
  readonly logger: Logger;
  /** This host's advertised address, written into every batch. */
  readonly sourceAddress: string;
  /** The cluster identity of a shard's local replica, written with each message (0: unknown). */
  readonly clusterIdOf: (shardId: number) => number;
  readonly reportUnreachable: (shardId: number, replicaId: number) => void;
  /** A connection was established, or an outage began. */
  readonly connectionChanged: (address: string, established: boolean) => void;
  /** The handshake frame to open each connection with (see `handshake.ts`); none: send no handshake. */
  readonly hello?: () => Buffer;
  /** The transport's last encoded run of entries, shared by every remote (`entry-run-cache.ts`); optional. */
  readonly runs?: EntryRunCache;
}

type State = 'idle' | 'connecting' | 'connected' | 'backoff' | 'closed';

/** Delay before reconnect attempt `failures` (≥ 1): exponential, capped, with equal jitter. */
export function backoffDelay(failures: number, initialMs: number, maxMs: number, random: RandomSource): number {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
  const half = Math.max(1, Math.floor(cap / 2));
  return half + random.intn(half + 1);
}

/** Outgoing messages to one remote address. Not exported from the package: an internal of TcpTransport. */
export class RemoteHost {
  private state: State = 'idle';
  private queue: Message[] = [];
  /** Bytes of `queue` (by {@link messageSizeBound}); counted only under a byte bound. */
  private queueBytes = 0;
  private socket: net.Socket | null = null;
  private liveness: ConnectionLiveness | null = null;
  /** When the current outage began (the first failure since the peer last answered), for the log. */
  private outageSince = 0;
  private flushScheduled = false;
  private draining = false;
  private failures = 0;
  private timer: TimerHandle | null = null;
  /** Replicas told Unreachable during the current failure episode (so: once, not per message). */
  private reported = new Map<number, Set<number>>();
  private readonly encoder: BatchFrameEncoder;
  /** This remote's share of the transport's counters. */
  private readonly counters = { messagesSent: 0, bytesSent: 0, messagesDropped: 0, connectionFailures: 0, connectionStalls: 0 };

  /** The runtime's timers and clock (`ctx.opts.runtime`), resolved once. */
  private readonly timers: Timers;
  private readonly clock: Clock;

  constructor(readonly address: string, private readonly ctx: RemoteHostContext) {
    this.timers = ctx.opts.runtime.timers;
    this.clock = ctx.opts.runtime.clock;
    this.encoder = new BatchFrameEncoder(ctx.opts.deploymentId, ctx.sourceAddress, ctx.opts.batchBytes, ctx.opts.maxFrameSize, ctx.clusterIdOf, ctx.runs);
  }

  /** True while the circuit is open (the last attempt failed and the back-off delay runs). */
  get circuitOpen(): boolean {
    return this.state === 'backoff';
  }

  /** This remote's counters and whether it is connected now (connected, and the peer answered a Ping). */
  stats(): RemoteStats {
    return { address: this.address, connected: this.state === 'connected' && this.liveness?.proven === true, ...this.counters };
  }

  private dropped(n: number): void {
    this.ctx.stats.messagesDropped += n;
    this.counters.messagesDropped += n;
  }

  /** Queues a message; false if it was dropped. Never throws. */
  send(m: Message): boolean {
    const state = this.state;
    if (state === 'backoff' || state === 'closed') {
      this.dropped(1);
      if (state === 'backoff') this.unreachable(m.shardId, m.to);
      return false;
    }
    if (this.queue.length >= this.ctx.opts.maxSendQueue) {
      this.dropped(1);
      return false;
    }
    const maxBytes = this.ctx.opts.maxSendQueueBytes;
    if (maxBytes > 0) {
      const size = messageSizeBound(m);
      // A message alone always fits, as dragonboat lets one through an empty queue.
      if (this.queue.length > 0 && this.queueBytes + size > maxBytes) {
        this.dropped(1);
        return false;
      }
      this.queueBytes += size;
    }
    this.queue.push(m);
    if (state === 'idle') this.connect();
    else if (state === 'connected' && !this.flushScheduled) {
      this.flushScheduled = true;
      this.timers.setImmediate(this.flush);
    }
    return true;
  }

  /** Opens the connection now if there is none and the circuit is closed (nothing is queued). */
  open(): void {
    if (this.state === 'idle') this.connect();
  }

  /** Writes the queue now (when connected), instead of at the end of the turn. */
  flushNow(): void {
    if (this.queue.length > 0) this.flush();
  }

  /** Closes the connection and drops the queue. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.dropped(this.queue.length);
    this.queue = [];
    this.queueBytes = 0;
    this.liveness?.stop();
    this.liveness = null;
    this.socket?.destroy();
    this.socket = null;
  }

  private connect(): void {
    this.state = 'connecting';
    const { connectTimeoutMs, stallTimeoutMs } = this.ctx.opts;
    dial(this.address, this.ctx.tls, Math.min(connectTimeoutMs, stallTimeoutMs), this.ctx.opts.dialFromHost, this.timers).then((socket) => {
      if (this.state !== 'connecting') {
        socket.destroy();
        return;
      }
      this.socket = socket;
      this.state = 'connected';
      // The handshake goes first (a Ping with a payload; see handshake.ts).
      if (this.ctx.hello !== undefined) socket.write(this.ctx.hello());
      socket.on('error', (err) => this.broken(socket, err));
      socket.on('close', () => this.broken(socket, new Error('connection closed by peer')));
      const liveness = new ConnectionLiveness(socket, stallTimeoutMs, {
        proven: () => this.established(),
        stalled: (ms) => this.broken(socket, new Error(`no progress for ${ms} ms`), ms),
        protocolError: (err) => this.broken(socket, err),
      }, this.ctx.opts.runtime);
      this.liveness = liveness;
      // The peer writes only Pong frames on a message connection.
      socket.on('data', (chunk: Buffer) => liveness.onData(chunk));
      this.flush();
    }, (err: unknown) => this.broken(null, err));
  }

  /** Writes the handshake again on the open connection (this host's registry changed). */
  resendHello(): void {
    if (this.state === 'connected' && this.socket !== null && this.ctx.hello !== undefined) this.socket.write(this.ctx.hello());
  }

  /** The peer answered on the new connection: the outage, if any, is over. */
  private established(): void {
    if (this.failures > 0) {
      this.ctx.logger.info('transport: reconnected', { remote: this.address, after: this.failures, outageMs: Math.round(this.clock.now() - this.outageSince) });
    }
    this.failures = 0;
    this.ctx.connectionChanged(this.address, true);
  }

  /**
   * The connection failed (or never opened): close it, drop the queue, report Unreachable,
   * open the circuit for a back-off delay. `stalledMs` is set when the liveness check closed
   * it for want of progress (how long it was silent).
   */
  private broken(socket: net.Socket | null, err: unknown, stalledMs?: number): void {
    if (socket !== this.socket || (this.state !== 'connecting' && this.state !== 'connected')) return;
    const wasProven = this.liveness?.proven === true;
    this.liveness?.stop();
    this.liveness = null;
    this.socket?.destroy();
    this.socket = null;
    this.draining = false;
    this.failures++;
    this.ctx.stats.connectionFailures++;
    this.counters.connectionFailures++;
    if (stalledMs !== undefined) {
      this.ctx.stats.connectionStalls++;
      this.counters.connectionStalls++;
    }
    this.reported.clear();
    const dropped = this.queue;
    this.queue = [];
    this.queueBytes = 0;
    this.dropped(dropped.length);
    for (const m of dropped) this.unreachable(m.shardId, m.to);
    const delay = backoffDelay(this.failures, this.ctx.opts.backoffInitialMs, this.ctx.opts.backoffMaxMs, this.ctx.random);
    const fields = {
      remote: this.address, error: err instanceof Error ? err.message : String(err), failures: this.failures, retryInMs: delay,
      ...(stalledMs === undefined ? {} : { stalledMs, established: wasProven }),
    };
    const what = stalledMs === undefined ? 'transport: connection to remote failed' : 'transport: connection to remote stalled, closed';
    // Warn once per outage; the retries of a long outage would otherwise flood the log.
    if (this.failures === 1) {
      this.outageSince = this.clock.now() - (stalledMs ?? 0);
      this.ctx.logger.warn(what, fields);
      this.ctx.connectionChanged(this.address, false);
    } else this.ctx.logger.debug(what, fields);
    this.state = 'backoff';
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      if (this.state === 'backoff') this.state = 'idle';
    }, delay).unref();
  }

  private unreachable(shardId: number, replicaId: number): void {
    let s = this.reported.get(shardId);
    if (s === undefined) this.reported.set(shardId, (s = new Set()));
    if (s.has(replicaId)) return;
    s.add(replicaId);
    this.ctx.stats.unreachableReported++;
    this.ctx.reportUnreachable(shardId, replicaId);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const socket = this.socket;
    if (this.state !== 'connected' || socket === null || this.draining || this.queue.length === 0) return;
    const msgs = this.queue;
    this.queue = [];
    this.queueBytes = 0;
    let dropped = 0;
    const frames = this.encoder.encode(msgs, (m, reason) => {
      dropped++;
      this.ctx.logger.error('transport: message not sendable, dropped', {
        remote: this.address, type: m.type, shardId: m.shardId, replicaId: m.from, to: m.to, error: reason instanceof Error ? reason.message : String(reason),
      });
    });
    let ok = true;
    let bytes = 0;
    socket.cork();
    for (const f of frames) {
      ok = socket.write(f);
      bytes += f.length;
    }
    socket.uncork();
    const s = this.ctx.stats;
    this.dropped(dropped);
    s.messagesSent += msgs.length - dropped;
    s.batchesSent += frames.length;
    s.bytesSent += bytes;
    this.counters.messagesSent += msgs.length - dropped;
    this.counters.bytesSent += bytes;
    if (!ok) {
      // Backpressure: keep queueing (bounded) until the kernel buffer drains.
      this.draining = true;
      socket.once('drain', () => {
        this.draining = false;
        this.flush();
      });
    }
  };
}
