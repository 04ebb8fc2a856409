/** Options of the TCP transport, their defaults and their validation. */
import { isIP } from 'node:net';
import type { RandomSource } from '../core/random.js';
import { InvalidOptionError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { HostRegistry } from './host-registry.js';
import type { AddressResolver, TransportHandler } from '../contracts/transport.js';
import { realRuntime, type Runtime } from '../runtime/index.js';

/** Paths of the PEM files for mutual TLS. Both sides present a certificate signed by `caFile`. */
export interface TlsFiles {
  /** PEM file of the certificate authority that signs every host's certificate. */
  readonly caFile: string;
  /** PEM file of this host's certificate. */
  readonly certFile: string;
  /** PEM file of this host's private key. */
  readonly keyFile: string;
  /**
   * Check that the server certificate names the host dialled (default true). Turn off only for
   * clusters whose certificates carry no host names; the CA check still applies.
   */
  readonly verifyHostname?: boolean;
}

/** Configuration of a {@link TcpTransport}. Sizes are bytes, times milliseconds. */
export interface TcpTransportOptions {
  /** `host:port` to bind (`[v6]:port` for IPv6); port 0 picks an ephemeral port. */
  readonly listenAddress: string;
  /** `host:port` peers dial; defaults to the bound listen address. Differs behind NAT or 0.0.0.0. */
  readonly advertiseAddress?: string;
  /**
   * The local IP address outgoing connections (messages and snapshot streams) are bound to,
   * as `net.connect`'s `localAddress`; by default the operating system picks one. Lets a proxy
   * or a firewall tell apart hosts that share a machine (e.g. `127.0.0.11`, `127.0.0.12`, … on
   * Linux loopback), as the chaos suite's partitions do. Must be an address of this machine.
   */
  readonly dialFromHost?: string;
  /** Cluster id written into every batch; batches with another id are refused. */
  readonly deploymentId: number;
  /** The host's upcalls: where received messages and connection events go. */
  readonly handler: TransportHandler;
  /** Mutual TLS. When set, plaintext peers and peers with certificates of another CA are refused. */
  readonly tls?: TlsFiles;
  /** Resolves replicas to host addresses; default: a static resolver filled by `setAddress`. */
  readonly resolver?: AddressResolver;
  /**
   * The host registry (see `host-registry.ts`). When given, every message connection opens
   * with a handshake naming this host (`registry.self`), what peers' handshakes say is learned
   * into it, every address is routed through it, and membership addresses may name hosts by
   * id (`nhid-<host id>`). Without it no handshake is sent and addresses are used as given.
   */
  readonly registry?: HostRegistry;
  /** Where the transport logs; default: no logging. */
  readonly logger?: Logger;
  /** Jitter source for reconnect back-off (injected for replayable tests). */
  readonly random?: RandomSource;
  /**
   * Where the transport takes its timers and clock (connect, liveness, idle, back-off and
   * snapshot timeouts), the TLS files and snapshot files, and the back-off seed when `random`
   * is not given; default {@link realRuntime}. Sockets are Node's either way.
   */
  readonly runtime?: Runtime;
  /** Messages queued per remote host before new ones are dropped. Default 8192. */
  readonly maxSendQueue?: number;
  /**
   * Bytes of messages (estimated encoded size) queued per remote host before new ones are
   * dropped and counted in `messagesDropped`, as past `maxSendQueue` (dragonboat's
   * `MaxSendQueueSize`). A message alone is always queued. 0 (the default): no byte bound.
   */
  readonly maxSendQueueBytes?: number;
  /**
   * Bytes received on a snapshot stream and not yet written to disk before the stream's socket
   * is paused until the disk catches up (the write-behind bound; the next chunk is read only
   * then). At least one chunk is always let through. 0: no bound. Default 64 MiB. Message
   * connections queue nothing after decoding (batches are delivered as they complete), so a
   * connection holds at most one incomplete frame (`maxFrameSize`).
   */
  readonly maxReceiveQueueBytes?: number;
  /**
   * Snapshot bytes sent per second by all of this transport's streams together (a token
   * bucket; dragonboat's `MaxSnapshotSendBytesPerSecond`). 0 (the default): unlimited.
   */
  readonly snapshotSendBytesPerSecond?: number;
  /**
   * Snapshot bytes received per second by all of this transport's streams together; applied
   * by pausing their sockets (dragonboat's `MaxSnapshotRecvBytesPerSecond`). 0 (the default): unlimited.
   */
  readonly snapshotRecvBytesPerSecond?: number;
  /** Largest frame payload sent or accepted. Default 64 MiB. */
  readonly maxFrameSize?: number;
  /** A batch frame is closed once its payload passes this size. Default 4 MiB. */
  readonly batchBytes?: number;
  /** Bound on opening a connection (TCP and TLS handshakes). Message connections use at most `stallTimeoutMs`. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** First reconnect delay; doubles per failure up to `backoffMaxMs`, with equal jitter. Default 100. */
  readonly backoffInitialMs?: number;
  /**
   * Longest reconnect delay. Together with `stallTimeoutMs` it bounds how long a healed
   * network waits for the next attempt. Default 1000.
   */
  readonly backoffMaxMs?: number;
  /**
   * Stall detection on message connections (silent partitions: packets dropped, the TCP
   * connection still open). The dialer pings every `stallTimeoutMs / 4` and the acceptor
   * answers; a new connection must answer within `stallTimeoutMs / 2`, an established one must
   * show progress (an answer, or queued bytes leaving) within `stallTimeoutMs`, or it is
   * closed, counted as a failure (`connectionStalls`) and redialled. The acceptor closes a
   * message connection that receives nothing for `stallTimeoutMs`. NodeHost passes
   * `NodeHostConfig.transportStallTimeoutMs`. Default 2000.
   */
  readonly stallTimeoutMs?: number;
  /**
   * A started frame must complete within this time, and a new connection must deliver its
   * first frame within it; slower peers are cut off (slowloris). Default 15000.
   */
  readonly frameTimeoutMs?: number;
  /** Concurrent incoming connections accepted; beyond, new ones are closed. Default 1024. */
  readonly maxInboundConnections?: number;
  /** Snapshot chunk size. Default 2 MiB. */
  readonly snapshotChunkSize?: number;
  /** Concurrent outgoing / incoming snapshot streams. Default 4 each. */
  readonly maxSnapshotSends?: number;
  /** Concurrent incoming snapshot streams; beyond, new ones are refused. Default 4. */
  readonly maxSnapshotReceives?: number;
  /** Each snapshot chunk (and the final acknowledgement) must move within this time. Default 10000. */
  readonly snapshotChunkTimeoutMs?: number;
}

/** The options with every default filled in. */
export type ResolvedTcpOptions = Required<Omit<TcpTransportOptions, 'tls' | 'advertiseAddress' | 'dialFromHost' | 'resolver' | 'random' | 'registry'>> &
  Pick<TcpTransportOptions, 'tls' | 'advertiseAddress' | 'dialFromHost' | 'resolver' | 'random' | 'registry'>;

/** Splits `host:port` / `[v6]:port`. @throws InvalidOptionError if malformed. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new InvalidOptionError(`bad address "${address}": want host:port`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Formats a host and port as an address, bracketing IPv6 hosts. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function nonNegative(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isSafeInteger(x) || x < 0) throw new InvalidOptionError(`${name} must be a non-negative integer, got ${x}`);
  return x;
}

function positive(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isSafeInteger(x) || x <= 0) throw new InvalidOptionError(`${name} must be a positive integer, got ${x}`);
  return x;
}

/** Fills defaults and checks ranges. @throws InvalidOptionError on a bad value. */
export function resolveTcpOptions(o: TcpTransportOptions, logger: Logger): ResolvedTcpOptions {
  parseAddress(o.listenAddress);
  if (o.advertiseAddress !== undefined) parseAddress(o.advertiseAddress);
  if (o.dialFromHost !== undefined && isIP(o.dialFromHost) === 0) {
    throw new InvalidOptionError(`dialFromHost "${o.dialFromHost}" is not an IP address`);
  }
  if (!Number.isSafeInteger(o.deploymentId) || o.deploymentId < 0) {
    throw new InvalidOptionError('deploymentId must be a non-negative safe integer');
  }
  const maxFrameSize = positive('maxFrameSize', o.maxFrameSize, 64 * 1024 * 1024);
  const batchBytes = positive('batchBytes', o.batchBytes, Math.min(4 * 1024 * 1024, maxFrameSize));
  const snapshotChunkSize = positive('snapshotChunkSize', o.snapshotChunkSize, Math.min(2 * 1024 * 1024, maxFrameSize - 64));
  if (batchBytes > maxFrameSize) throw new InvalidOptionError('batchBytes must not exceed maxFrameSize');
  if (snapshotChunkSize + 64 > maxFrameSize) throw new InvalidOptionError('snapshotChunkSize must fit in maxFrameSize');
  return {
    ...o, logger,
    maxSendQueue: positive('maxSendQueue', o.maxSendQueue, 8192),
    maxSendQueueBytes: nonNegative('maxSendQueueBytes', o.maxSendQueueBytes, 0),
    maxReceiveQueueBytes: nonNegative('maxReceiveQueueBytes', o.maxReceiveQueueBytes, 64 * 1024 * 1024),
    snapshotSendBytesPerSecond: nonNegative('snapshotSendBytesPerSecond', o.snapshotSendBytesPerSecond, 0),
    snapshotRecvBytesPerSecond: nonNegative('snapshotRecvBytesPerSecond', o.snapshotRecvBytesPerSecond, 0),
    maxFrameSize, batchBytes, snapshotChunkSize,
    connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs, 5000),
    backoffInitialMs: positive('backoffInitialMs', o.backoffInitialMs, 100),
    backoffMaxMs: positive('backoffMaxMs', o.backoffMaxMs, 1000),
    stallTimeoutMs: positive('stallTimeoutMs', o.stallTimeoutMs, 2000),
    frameTimeoutMs: positive('frameTimeoutMs', o.frameTimeoutMs, 15000),
    maxInboundConnections: positive('maxInboundConnections', o.maxInboundConnections, 1024),
    maxSnapshotSends: positive('maxSnapshotSends', o.maxSnapshotSends, 4),
    maxSnapshotReceives: positive('maxSnapshotReceives', o.maxSnapshotReceives, 4),
    snapshotChunkTimeoutMs: positive('snapshotChunkTimeoutMs', o.snapshotChunkTimeoutMs, 10000),
    runtime: o.runtime ?? realRuntime,
  };
}
