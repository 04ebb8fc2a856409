/**
 * A {@link Transport} on a {@link MemoryNetwork}: the same contract as TCP without sockets,
 * for tests of whole clusters in one process. Snapshot files are copied through the file
 * system into the receiver's `tempDir`, as the TCP transport would stream them; timers and
 * files come from the transport's runtime.
 */
import path from 'node:path';
import type { FileSystem, TimerHandle, Timers } from '../runtime/index.js';
import type { Message, SnapshotMeta } from '../core/types.js';
import { ClosedError, InvalidOperationError, InvalidOptionError } from '../errors.js';
import { noopLogger, type Logger } from '../logger.js';
import { decodeBatch, encodeBatch, messageSizeBound } from './codec.js';
import type { MessageBatch } from '../contracts/message-batch.js';
import { isNetworkMessageType } from './transport.js';
import type { MemoryNetwork, MemoryTransportOptions } from './memory-network.js';
import { StaticAddressResolver } from './static-resolver.js';
import { emptyStats } from './transport.js';
import type { AddressResolver, Transport, TransportStats } from '../contracts/transport.js';

/** One host on a {@link MemoryNetwork}. Create it with {@link MemoryNetwork.createTransport}. */
export class MemoryTransport implements Transport {
  /** This host's address (fixed at construction). */
  readonly address: string;
  private readonly deploymentId: number;
  private readonly resolver: AddressResolver;
  private readonly maxSendQueue: number;
  private readonly maxSendQueueBytes: number;
  /** Bytes held per destination this turn (under a byte bound). */
  private outboxBytes = new Map<string, number>();
  private readonly encode: boolean;
  private readonly logger: Logger;
  private readonly counters = emptyStats();
  private state: 'new' | 'started' | 'closed' = 'new';
  private outbox = new Map<string, Message[]>();
  private flushScheduled = false;
  /** Unreachable already reported, per destination, until that destination is back. */
  private readonly reported = new Map<string, Set<string>>();
  private readonly timers = new Set<TimerHandle>();
  /** The runtime's timers and file system, resolved once. */
  private readonly rtTimers: Timers;
  private readonly fs: FileSystem;

  /** @throws InvalidOptionError on a bad option. */
  constructor(private readonly network: MemoryNetwork, private readonly options: MemoryTransportOptions) {
    if (options.address === '') throw new InvalidOptionError('address must not be empty');
    this.address = options.address;
    this.deploymentId = options.deploymentId ?? 0;
    this.resolver = options.resolver ?? new StaticAddressResolver();
    this.maxSendQueue = options.maxSendQueue ?? 8192;
    this.maxSendQueueBytes = options.maxSendQueueBytes ?? 0;
    if (!Number.isSafeInteger(this.maxSendQueueBytes) || this.maxSendQueueBytes < 0) throw new InvalidOptionError('maxSendQueueBytes must be a non-negative integer');
    this.encode = options.encode ?? true;
    this.logger = options.logger ?? noopLogger;
    const rt = options.runtime ?? network.runtime;
    this.rtTimers = rt.timers;
    this.fs = rt.fs;
  }

  /** Joins the network. @throws ClosedError if closed; InvalidOperationError if started or the address is taken. */
  start(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new ClosedError('transport closed'));
    if (this.state === 'started') return Promise.reject(new InvalidOperationError('transport already started'));
    if (!this.network.join(this)) return Promise.reject(new InvalidOperationError(`address ${this.address} in use`));
    this.state = 'started';
    return Promise.resolve();
  }

  /** See {@link Transport.send}. */
  send(m: Message): boolean {
    const address = this.state === 'started' ? this.resolver.resolve(m.shardId, m.to) : undefined;
    if (address === undefined) {
      this.counters.messagesDropped++;
      return false;
    }
    if (this.network.host(address) === undefined) {
      this.counters.messagesDropped++;
      this.unreachable(address, m);
      return false;
    }
    this.reported.delete(address);
    let q = this.outbox.get(address);
    if (q === undefined) this.outbox.set(address, (q = []));
    if (q.length >= this.maxSendQueue) {
      this.counters.messagesDropped++;
      return false;
    }
    if (this.maxSendQueueBytes > 0) {
      const size = messageSizeBound(m);
      const held = this.outboxBytes.get(address) ?? 0;
      if (q.length > 0 && held + size > this.maxSendQueueBytes) {
        this.counters.messagesDropped++;
        return false;
      }
      this.outboxBytes.set(address, held + size);
    }
    q.push(m);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.rtTimers.setImmediate(this.flush);
    }
    return true;
  }

  /** See {@link Transport.sendSnapshot}. Fails (with a status) if the link is cut or the receiver is gone. */
  sendSnapshot(m: Message): boolean {
    const address = this.state === 'started' ? this.resolver.resolve(m.shardId, m.to) : undefined;
    if (address === undefined || m.snapshot === null) return false;
    const run = async (): Promise<void> => {
      const dest = this.network.host(address);
      if (dest === undefined || !this.network.linkUp(this.address, address)) throw new Error(`snapshot target ${address} unreachable`);
      await dest.receiveSnapshot(m);
    };
    run().then(() => {
      this.counters.snapshotsSent++;
      this.options.handler.handleSnapshotStatus(m.shardId, m.to, false);
    }, (err: unknown) => {
      this.counters.snapshotFailures++;
      this.logger.warn('transport: snapshot send failed', { remote: address, shardId: m.shardId, replicaId: m.from, to: m.to, error: String(err) });
      this.options.handler.handleSnapshotStatus(m.shardId, m.to, true);
    });
    return true;
  }

  /** See {@link Transport.setAddress}. */
  setAddress(shardId: number, replicaId: number, address: string): void {
    this.resolver.set(shardId, replicaId, address);
  }

  /** See {@link Transport.removeAddress}. */
  removeAddress(shardId: number, replicaId: number): void {
    this.resolver.remove(shardId, replicaId);
  }

  /** See {@link Transport.stats}. */
  stats(): TransportStats {
    return { ...this.counters };
  }

  /** Leaves the network; messages in flight to this host are lost. Idempotent. */
  close(): Promise<void> {
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.network.leave(this);
      for (const t of this.timers) this.rtTimers.clearTimeout(t);
      this.timers.clear();
      this.outbox.clear();
      this.outboxBytes.clear();
    }
    return Promise.resolve();
  }

  /** Receives a batch from the network. Internal to the in-memory network. */
  receiveBatch(batch: MessageBatch, encoded: Buffer | null): void {
    if (this.state !== 'started') return;
    let b = batch;
    if (encoded !== null) {
      b = decodeBatch(encoded);
      this.counters.bytesReceived += encoded.length;
    }
    if (b.deploymentId !== this.deploymentId) {
      this.counters.badFrames++;
      this.logger.warn('transport: batch of another deployment dropped', { from: b.sourceAddress });
      return;
    }
    // The same refusal as the TCP transport's, so in-memory tests catch a host-local kind
    // sent over the network.
    const local = b.messages.find((m) => !isNetworkMessageType(m.type));
    if (local !== undefined) {
      this.counters.badFrames++;
      this.logger.warn('transport: batch with a host-local message kind dropped', {
        from: b.sourceAddress, shardId: local.shardId, replicaId: local.to, type: local.type,
      });
      return;
    }
    this.counters.batchesReceived++;
    this.counters.messagesReceived += b.messages.length;
    this.options.handler.handleMessageBatch(b);
  }

  /**
   * Copies a snapshot's files into this host's temp dir and completes it; called by the
   * sending transport of the same network. Resolves once the receiver's `complete` has
   * (the receiver holds the snapshot), so the sender reports success only then.
   * @throws rethrows, after reporting it to the receiver's `failed`, any error of the copy
   *   (ClosedError when this transport stopped meanwhile), and the rejection of `complete`
   *   (the receiver refused the snapshot), so the sender reports a failure.
   * @internal
   */
  async receiveSnapshot(m: Message): Promise<void> {
    const snap = m.snapshot!;
    const receiver = this.options.handler.snapshotReceiver;
    let local: SnapshotMeta;
    try {
      const dir = receiver.tempDir(snap, m.from);
      await this.fs.promises.mkdir(dir, { recursive: true });
      local = {
        ...snap,
        filepath: snap.filepath === '' ? '' : path.join(dir, path.basename(snap.filepath)),
        files: snap.files.map((f) => ({ ...f, filepath: path.join(dir, `external-file-${f.fileId}`) })),
      };
      if (snap.filepath !== '') await this.fs.promises.copyFile(snap.filepath, local.filepath);
      for (let i = 0; i < snap.files.length; i++) await this.fs.promises.copyFile(snap.files[i]!.filepath, local.files[i]!.filepath);
      if (this.state !== 'started') throw new ClosedError('receiver closed');
    } catch (err) {
      this.counters.snapshotFailures++;
      receiver.failed(m, err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    this.counters.snapshotsReceived++;
    // The sender hears of success only once the receiver holds the snapshot (or of its refusal).
    await receiver.complete({ ...m, snapshot: local });
  }

  private unreachable(address: string, m: Message): void {
    let s = this.reported.get(address);
    if (s === undefined) this.reported.set(address, (s = new Set()));
    const key = `${m.shardId}:${m.to}`;
    if (s.has(key)) return;
    s.add(key);
    this.counters.unreachableReported++;
    this.options.handler.handleUnreachable(m.shardId, m.to);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const outbox = this.outbox;
    this.outbox = new Map();
    this.outboxBytes = new Map();
    for (const [address, msgs] of outbox) this.transmit(address, msgs);
  };

  private transmit(address: string, msgs: Message[]): void {
    const net = this.network;
    const f = net.currentFaults;
    const now: Message[] = [];
    for (const m of msgs) {
      if (!net.linkUp(this.address, address) || net.chance(f.dropRate)) continue;
      const copies = net.chance(f.duplicateRate) ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        if (net.chance(f.delayRate)) {
          const lo = f.delayMinMs ?? 0;
          const delay = lo + net.random.intn(Math.max(1, (f.delayMaxMs ?? lo) - lo + 1));
          const t = this.rtTimers.setTimeout(() => {
            this.timers.delete(t);
            this.deliver(address, [m]);
          }, delay);
          this.timers.add(t);
        } else {
          now.push(m);
        }
      }
    }
    if (net.chance(f.reorderRate)) {
      for (let i = now.length - 1; i > 0; i--) {
        const j = net.random.intn(i + 1);
        [now[i], now[j]] = [now[j]!, now[i]!];
      }
    }
    this.counters.messagesSent += msgs.length;
    if (now.length > 0) this.deliver(address, now);
  }

  private deliver(address: string, messages: Message[]): void {
    const dest = this.network.host(address);
    // A partition that starts while a message is delayed still stops it.
    if (dest === undefined || !this.network.linkUp(this.address, address)) return;
    const handler = this.options.handler;
    const clusterIds = handler.clusterIdOf === undefined ? undefined : messages.map((m) => handler.clusterIdOf?.(m.shardId) ?? 0);
    const batch: MessageBatch = { deploymentId: this.deploymentId, sourceAddress: this.address, messages, clusterIds };
    let encoded: Buffer | null = null;
    try {
      if (this.encode) {
        encoded = encodeBatch(batch);
        this.counters.bytesSent += encoded.length;
      }
    } catch (err) {
      this.counters.messagesDropped += messages.length;
      this.logger.error('transport: batch not encodable, dropped', { remote: address, error: String(err) });
      return;
    }
    this.counters.batchesSent++;
    try {
      dest.receiveBatch(batch, encoded);
    } catch (err) {
      this.logger.error('transport: handleMessageBatch threw', { remote: address, error: String(err) });
    }
  }
}
