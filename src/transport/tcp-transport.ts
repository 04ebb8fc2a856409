/**
 * The default transport: TCP between hosts, optionally mutual TLS. One connection per remote
 * host carries every shard's messages (see {@link RemoteHost}); each snapshot stream gets a
 * connection of its own. See {@link Transport} for the contract and `frame.ts` / `codec.ts`
 * for the wire format.
 */
import net from 'node:net';
import tls from 'node:tls';
import { SeededRandom } from '../core/random.js';
import type { Message } from '../core/types.js';
import { ClosedError, InvalidOperationError } from '../errors.js';
import { noopLogger, type Logger } from '../logger.js';
import type { MessageBatch } from '../contracts/message-batch.js';
import { loadTls, tlsServerOptions, type TlsMaterial } from './dial.js';
import { InboundConnection, type SnapshotSink } from './inbound-connection.js';
import { ByteRateLimiter } from './rate-limiter.js';
import { EntryRunCache } from './entry-run-cache.js';
import { RemoteHost } from './remote-host.js';
import type { SnapshotStreamHeader } from './snapshot-protocol.js';
import { SnapshotReceiveSession } from './snapshot-receive.js';
import { sendSnapshotStream } from './snapshot-send.js';
import { StaticAddressResolver } from './static-resolver.js';
import { formatAddress, parseAddress, resolveTcpOptions, type ResolvedTcpOptions, type TcpTransportOptions } from './tcp-options.js';
import { emptyStats } from './transport.js';
import type { AddressResolver, RemoteStats, Transport, TransportStats } from '../contracts/transport.js';
import { encodeAck } from './snapshot-protocol.js';
import { encodeFrame, FrameKind } from './frame.js';
import { encodeHello, MAX_GOSSIP, type Handshake } from './handshake.js';
import { isHostIdAddress, type HostRegistry } from './host-registry.js';

/**
 * A {@link Transport} over TCP. Construct, then `start()` to listen; `address` is then the
 * advertised address (the bound one unless `advertiseAddress` was given).
 */
export class TcpTransport implements Transport {
  private readonly opts: ResolvedTcpOptions;
  private readonly logger: Logger;
  private readonly tls: TlsMaterial | undefined;
  private readonly resolver: AddressResolver;
  private readonly counters = emptyStats();
  private readonly remotes = new Map<string, RemoteHost>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly server: net.Server;
  private state: 'new' | 'started' | 'closed' = 'new';
  private advertised = '';
  private snapshotSends = 0;
  private snapshotReceives = 0;
  private readonly sends = new Set<Promise<void>>();
  /** The host's snapshot bandwidth limits, shared by all streams of one direction. */
  private readonly sendLimiter: ByteRateLimiter;
  private readonly recvLimiter: ByteRateLimiter;
  private readonly registry: HostRegistry | undefined;
  /** The encoded handshake, rebuilt when the registry changes. */
  private helloFrame: Buffer | null = null;

  /** @throws InvalidOptionError on a bad option or an unreadable TLS file. */
  constructor(options: TcpTransportOptions) {
    this.logger = options.logger ?? noopLogger;
    this.opts = resolveTcpOptions(options, this.logger);
    this.tls = options.tls === undefined ? undefined : loadTls(options.tls, this.opts.runtime.fs);
    this.resolver = options.resolver ?? new StaticAddressResolver();
    this.sendLimiter = new ByteRateLimiter(this.opts.snapshotSendBytesPerSecond, this.opts.runtime.clock, this.opts.runtime.timers);
    this.recvLimiter = new ByteRateLimiter(this.opts.snapshotRecvBytesPerSecond, this.opts.runtime.clock, this.opts.runtime.timers);
    this.registry = options.registry;
    this.registry?.onChange((rerouted) => this.registryChanged(rerouted));
    const onConnection = (socket: net.Socket): void => this.accept(socket);
    if (this.tls === undefined) {
      this.server = net.createServer({ noDelay: true }, onConnection);
    } else {
      const server = tls.createServer({ ...tlsServerOptions(this.tls), handshakeTimeout: this.opts.frameTimeoutMs }, onConnection);
      // Plaintext peers and certificates of another CA end here, before any frame is read.
      server.on('tlsClientError', (err, socket) => {
        this.counters.connectionsRejected++;
        this.logger.warn('transport: TLS handshake refused', { remote: socket.remoteAddress, error: err.message });
      });
      this.server = server;
    }
    this.server.on('error', (err) => this.logger.error('transport: server error', { error: err.message }));
  }

  /** The advertised address; empty before `start()` resolves. */
  get address(): string {
    return this.advertised;
  }

  /**
   * Binds the listen address.
   * @throws ClosedError if closed; InvalidOperationError if already started; the listen error otherwise.
   */
  async start(): Promise<void> {
    if (this.state === 'closed') throw new ClosedError('transport closed');
    if (this.state === 'started') throw new InvalidOperationError('transport already started');
    const { host, port } = parseAddress(this.opts.listenAddress);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const bound = this.server.address() as net.AddressInfo;
    this.advertised = this.opts.advertiseAddress ?? formatAddress(host, bound.port);
    this.registry?.setSelfAddress(this.advertised);
    this.state = 'started';
    this.logger.info('transport: listening', { listen: formatAddress(host, bound.port), advertise: this.advertised, tls: this.tls !== undefined });
  }

  /** See {@link Transport.send}. Unencodable messages are dropped and logged when flushed. */
  /** See {@link Transport.flushPending}. */
  flushPending(): void {
    for (const r of this.remotes.values()) r.flushNow();
  }

  send(m: Message): boolean {
    if (this.state !== 'started') {
      this.counters.messagesDropped++;
      return false;
    }
    const address = this.route(m.shardId, m.to);
    if (address === undefined) {
      this.counters.messagesDropped++;
      return false;
    }
    return this.remoteFor(address).send(m);
  }

  private remoteFor(address: string): RemoteHost {
    let remote = this.remotes.get(address);
    if (remote === undefined) {
      remote = new RemoteHost(address, {
        opts: this.opts, tls: this.tls, stats: this.counters, random: this.opts.random ?? new SeededRandom(this.opts.runtime.random.int(0, 2 ** 32)),
        logger: this.logger, sourceAddress: this.advertised, reportUnreachable: this.reportUnreachable,
        clusterIdOf: this.clusterIdOf, runs: this.runs,
        connectionChanged: (a, up) => this.opts.handler.handleConnection?.(a, up),
        ...(this.registry === undefined ? {} : { hello: this.hello }),
      });
      this.remotes.set(address, remote);
    }
    return remote;
  }

  /** See {@link Transport.sendSnapshot}. */
  sendSnapshot(m: Message): boolean {
    const address = this.route(m.shardId, m.to);
    if (this.state !== 'started' || address === undefined || m.snapshot === null || this.snapshotSends >= this.opts.maxSnapshotSends) {
      return false;
    }
    this.snapshotSends++;
    const ctx = {
      tls: this.tls, deploymentId: this.opts.deploymentId, sourceAddress: this.advertised, connectTimeoutMs: this.opts.connectTimeoutMs, dialFromHost: this.opts.dialFromHost,
      chunkSize: this.opts.snapshotChunkSize, chunkTimeoutMs: this.opts.snapshotChunkTimeoutMs,
      countBytes: (n: number) => { this.counters.snapshotBytesSent += n; }, runtime: this.opts.runtime,
      limiter: this.sendLimiter,
    };
    const p: Promise<void> = sendSnapshotStream(ctx, address, m).then(() => {
      this.counters.snapshotsSent++;
      this.snapshotStatus(m, false);
    }, (err: unknown) => {
      this.counters.snapshotFailures++;
      this.logger.warn('transport: snapshot send failed', {
        remote: address, shardId: m.shardId, replicaId: m.from, to: m.to, index: m.snapshot?.index, error: (err as Error).message,
      });
      this.snapshotStatus(m, true);
    }).finally(() => {
      this.snapshotSends--;
      this.sends.delete(p);
    });
    this.sends.add(p);
    return true;
  }

  /** See {@link Transport.setAddress}. */
  setAddress(shardId: number, replicaId: number, address: string): void {
    if (!(this.registry !== undefined && isHostIdAddress(address))) parseAddress(address);
    this.resolver.set(shardId, replicaId, address);
    // With a registry, announce this host at once (a handshake on a new connection) rather
    // than at its first message: a host that just moved is found by its peers before its
    // election timeout, and their connections back tell it where they are now.
    if (this.registry !== undefined && this.state === 'started') {
      const to = this.route(shardId, replicaId);
      if (to !== undefined && to !== this.advertised) this.remoteFor(to).open();
    }
  }

  /** See {@link Transport.removeAddress}. */
  removeAddress(shardId: number, replicaId: number): void {
    this.resolver.remove(shardId, replicaId);
    this.registry?.unbindReplica(shardId, replicaId);
  }

  /** The address to dial for a replica: its membership address, translated by the host registry (if any). */
  private route(shardId: number, replicaId: number): string | undefined {
    const member = this.resolver.resolve(shardId, replicaId);
    if (member === undefined || this.registry === undefined) return member;
    return this.registry.route(shardId, replicaId, member);
  }

  /** This host's handshake: itself, then what it knows of hosts that moved first, then of the others. */
  private readonly hello = (): Buffer => {
    if (this.helloFrame !== null) return this.helloFrame;
    const r = this.registry!;
    const gossip = r.entries().sort((a, b) => b.former.length - a.former.length || b.incarnation - a.incarnation).slice(0, MAX_GOSSIP);
    this.helloFrame = encodeHello({ deploymentId: this.opts.deploymentId, self: r.self, gossip });
    return this.helloFrame;
  };

  /** A host moved (or was learned): stop dialling the addresses it left, and tell the hosts we talk to. */
  private registryChanged(rerouted: readonly string[]): void {
    this.helloFrame = null;
    for (const a of rerouted) {
      const r = this.remotes.get(a);
      if (r === undefined) continue;
      r.close();
      this.remotes.delete(a);
      this.logger.info('transport: address no longer dialled, its host moved', { remote: a, now: this.registry?.hostIdOf(a) });
    }
    for (const r of this.remotes.values()) r.resendHello();
  }

  /** A handshake arrived on an inbound connection. */
  private onHandshake(h: Handshake): void {
    if (this.registry === undefined || this.state !== 'started') return;
    this.registry.learn([h.self, ...h.gossip]);
    // Answer with a connection of our own (a no-op when one is open): its handshake tells the
    // dialer what we know, e.g. where its peers moved while it was away.
    if (h.self.address !== this.advertised && this.registry.addressOf(h.self.hostId) === h.self.address) this.remoteFor(h.self.address).open();
  }

  /** See {@link Transport.stats}. */
  stats(): TransportStats {
    return { ...this.counters };
  }

  /** See {@link Transport.remoteStats}: one row per remote host this transport has sent to. */
  remoteStats(): RemoteStats[] {
    return [...this.remotes.values()].map((r) => r.stats());
  }

  /** Whether the circuit to `address` is open (its last connection attempt failed). For tests and diagnostics. */
  circuitOpen(address: string): boolean {
    return this.remotes.get(address)?.circuitOpen ?? false;
  }

  /** See {@link Transport.close}. Waits for outgoing snapshot streams to settle (they fail fast once sockets close). */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasStarted = this.state === 'started';
    this.state = 'closed';
    for (const r of this.remotes.values()) r.close();
    this.remotes.clear();
    this.registry?.flush();
    for (const c of this.inbound) c.destroy();
    if (wasStarted) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.allSettled([...this.sends]);
  }

  /** The last run of entries encoded for any remote: a leader's Replicate to its next follower copies it. */
  private readonly runs = new EntryRunCache();
  private readonly clusterIdOf = (shardId: number): number => this.opts.handler.clusterIdOf?.(shardId) ?? 0;

  private readonly reportUnreachable = (shardId: number, replicaId: number): void => {
    try {
      this.opts.handler.handleUnreachable(shardId, replicaId);
    } catch (err) {
      this.logger.error('transport: handleUnreachable threw', { shardId, to: replicaId, error: String(err) });
    }
  };

  private snapshotStatus(m: Message, failed: boolean): void {
    try {
      this.opts.handler.handleSnapshotStatus(m.shardId, m.to, failed);
    } catch (err) {
      this.logger.error('transport: handleSnapshotStatus threw', { shardId: m.shardId, replicaId: m.from, to: m.to, error: String(err) });
    }
  }

  private accept(socket: net.Socket): void {
    if (this.state !== 'started' || this.inbound.size >= this.opts.maxInboundConnections) {
      this.counters.connectionsRejected++;
      socket.destroy();
      return;
    }
    this.counters.connectionsAccepted++;
    const conn = new InboundConnection(socket, {
      deploymentId: this.opts.deploymentId, maxFrameSize: this.opts.maxFrameSize, frameTimeoutMs: this.opts.frameTimeoutMs,
      idleTimeoutMs: this.opts.stallTimeoutMs, stats: this.counters, logger: this.logger, runtime: this.opts.runtime,
      handshake: (h) => this.onHandshake(h),
      deliver: (batch: MessageBatch, hostId: string | undefined) => {
        if (hostId !== undefined && this.registry !== undefined) this.bindSenders(batch, hostId);
        try {
          this.opts.handler.handleMessageBatch(batch);
        } catch (err) {
          this.logger.error('transport: handleMessageBatch threw', { from: batch.sourceAddress, error: String(err) });
        }
      },
      openSnapshot: (s, header) => this.openSnapshot(s, header),
      closed: (c) => this.inbound.delete(c),
    });
    this.inbound.add(conn);
  }

  /**
   * Learns which host each sender replica runs on — only from messages of the receiving
   * replica's own cluster (a known, equal identity): a stray replica of another cluster that
   * claims a member's id must not divert that member's traffic to itself.
   */
  private bindSenders(batch: MessageBatch, hostId: string): void {
    const ids = batch.clusterIds;
    const ours = this.opts.handler.clusterIdOf;
    if (ids === undefined || ours === undefined) return;
    for (let i = 0; i < batch.messages.length; i++) {
      const m = batch.messages[i]!;
      const theirs = ids[i] ?? 0;
      if (theirs !== 0 && theirs === ours(m.shardId)) this.registry?.bindReplica(m.shardId, m.from, hostId);
    }
  }

  private openSnapshot(socket: net.Socket, header: SnapshotStreamHeader): SnapshotSink | null {
    if (this.snapshotReceives >= this.opts.maxSnapshotReceives) {
      this.logger.warn('transport: incoming snapshot refused, too many streams', {
        shardId: header.message.shardId, replicaId: header.message.to, from: header.message.from, fromAddress: header.sourceAddress,
      });
      socket.end(encodeFrame(FrameKind.SnapshotAck, encodeAck(false, 'busy: too many snapshot streams')));
      return null;
    }
    this.snapshotReceives++;
    return new SnapshotReceiveSession(socket, {
      stats: this.counters, logger: this.logger, receiver: this.opts.handler.snapshotReceiver,
      chunkTimeoutMs: this.opts.snapshotChunkTimeoutMs, limiter: this.recvLimiter, runtime: this.opts.runtime,
      maxQueueBytes: this.opts.maxReceiveQueueBytes === 0 ? Infinity : this.opts.maxReceiveQueueBytes,
    }, header, () => this.snapshotReceives--);
  }
}
