/**
 * Stall detection for one outgoing message connection: the dialer's proof that its bytes
 * still arrive.
 *
 * A silent partition (a firewall that drops packets, a dead switch) leaves a TCP connection
 * open: writes land in the kernel's send buffer and the kernel retransmits them with an
 * exponential timer (1.6 s, 3.3 s, 6.5 s, 13 s, … up to minutes), so a connection that went
 * dark carries nothing for a long time after the path is back. TCP keepalive does not help
 * (no probes while data is unacknowledged), and Node exposes no TCP_USER_TIMEOUT. So the
 * transport checks for itself, as etcd's peer streams do with their link heartbeats and
 * 5-second read deadline: the dialer writes a Ping frame every `stallTimeoutMs / 4`, the
 * acceptor answers each with a Pong (and also sends one, at most every `stallTimeoutMs / 4`,
 * while any bytes arrive: a Ping stuck behind a large batch on a slow link arrives late, the
 * batch's bytes do not), and a connection that shows no progress is closed and redialled.
 * Progress is a Pong, or the kernel taking bytes queued behind a full send buffer.
 *
 * Deadlines: a new connection must answer its first Ping within `stallTimeoutMs / 2` (it is
 * "established" only then); an established one must show progress within `stallTimeoutMs`.
 */
import type net from 'node:net';
import { CodecError } from '../errors.js';
import { encodeFrame, FrameDecoder, FrameKind } from './frame.js';
import { realRuntime, type Runtime, type TimerHandle, type Timers } from '../runtime/index.js';

const PING = encodeFrame(FrameKind.Ping, Buffer.alloc(0));

/** What a {@link ConnectionLiveness} reports to its connection's owner. */
export interface LivenessEvents {
  /** The first Pong arrived: the peer answers on this connection. Called once. */
  proven(): void;
  /** No progress for `stalledMs` (past the deadline): the owner closes the connection. Called once. */
  stalled(stalledMs: number): void;
  /** The peer wrote something other than Pong frames: the owner closes the connection. */
  protocolError(err: Error): void;
}

/** Pings one connection and watches for the answers. Stops itself after a stall or an error. */
export class ConnectionLiveness {
  private readonly decoder = new FrameDecoder(0);
  private timer: TimerHandle | null = null;
  private readonly timers: Timers;
  private readonly now: () => number;
  private lastProgress: number;
  private lastBuffered = 0;
  private isProven = false;

  /**
   * Starts at once: writes the first Ping and arms the timer (unref'd).
   * @param runtime the monotonic clock and the timers (the transport's runtime; tests give their own)
   */
  constructor(private readonly socket: net.Socket, private readonly stallTimeoutMs: number,
    private readonly events: LivenessEvents, runtime: Pick<Runtime, 'clock' | 'timers'> = realRuntime) {
    const { clock, timers } = runtime;
    this.now = () => clock.now();
    this.timers = timers;
    this.lastProgress = this.now();
    socket.write(PING);
    // The check runs after the poll phase (setImmediate): after the event loop was blocked, a
    // Pong already waiting in the socket is read before the deadline is judged.
    this.timer = timers.setInterval(() => timers.setImmediate(this.tick), Math.max(1, Math.floor(stallTimeoutMs / 4))).unref();
  }

  /** Whether a Pong has arrived on this connection. */
  get proven(): boolean {
    return this.isProven;
  }

  /** Feeds bytes the peer wrote on the connection (Pong frames only, by protocol). */
  onData(chunk: Buffer): void {
    if (this.timer === null) return;
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    for (const f of frames) {
      if (f.kind !== FrameKind.Pong) {
        this.fail(new CodecError(`unexpected frame kind ${f.kind} from the acceptor of a message connection`));
        return;
      }
      this.lastProgress = this.now();
      if (!this.isProven) {
        this.isProven = true;
        this.events.proven();
        if (this.timer === null) return;
      }
    }
    if (this.decoder.error !== null) this.fail(this.decoder.error);
  }

  /** Stops pinging (the connection is closing). Idempotent. */
  stop(): void {
    if (this.timer !== null) this.timers.clearInterval(this.timer);
    this.timer = null;
  }

  private fail(err: Error): void {
    this.stop();
    this.events.protocolError(err);
  }

  private readonly tick = (): void => {
    if (this.timer === null) return;
    const now = this.now();
    const buffered = this.socket.writableLength;
    if (buffered < this.lastBuffered) this.lastProgress = now;
    this.lastBuffered = buffered;
    const quiet = now - this.lastProgress;
    const limit = this.isProven ? this.stallTimeoutMs : this.stallTimeoutMs / 2;
    if (quiet >= limit) {
      this.stop();
      this.events.stalled(Math.round(quiet));
      return;
    }
    this.socket.write(PING);
  };
}
