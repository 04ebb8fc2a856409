/**
 * The simulator's network: a {@link Transport} per host incarnation whose every delivery is a
 * scheduler event of the receiving host (so a crashed receiver's events never run, and what a
 * message does on arrival runs as the receiver). Each message is independently lost,
 * duplicated, delayed (a random latency, so messages reorder) or stopped by a partition, all
 * drawn from the seed; every delivery is folded into the trace digest. Partitions are
 * symmetric (both directions cut) or one-way (a→b cut while b→a flows). Batches round-trip
 * through the binary codec, as on TCP. Snapshots are copied file by file into the receiver's
 * temp dir on the simulated disk, synced, then completed, and the sender hears the outcome.
 */
import * as path from 'node:path';
import type { Message } from '../../src/core/types.js';
import type { MessageBatch } from '../../src/contracts/message-batch.js';
import type { Transport, TransportHandler, TransportStats } from '../../src/contracts/transport.js';
import { decodeBatch, encodeBatch } from '../../src/transport/codec.js';
import { StaticAddressResolver } from '../../src/transport/static-resolver.js';
import { emptyStats } from '../../src/transport/transport.js';
import type { Scheduler } from './scheduler.js';
import type { SimFs } from './sim-fs.js';
import type { SimRandom } from './sim-random.js';

/** Network fault rates and latency (virtual ms). */
export interface NetFaults {
  dropRate: number;
  duplicateRate: number;
  minLatencyMs: number;
  maxLatencyMs: number;
}

/** Calm network: 1–3 ms latency, nothing lost. */
export const calmNet: NetFaults = { dropRate: 0, duplicateRate: 0, minLatencyMs: 1, maxLatencyMs: 3 };

/** The simulated network between host incarnations. */
export class SimNetwork {
  faults: NetFaults = { ...calmNet };
  /** Messages delivered (for statistics). */
  delivered = 0;
  /** Hears every message a host sends, before the network's faults (the world's vote check). */
  onSend: ((m: Message) => void) | undefined;
  private readonly hosts = new Map<string, SimTransport>();
  private readonly blocked = new Set<string>();

  constructor(readonly sched: Scheduler, readonly random: SimRandom, readonly fs: SimFs) {}

  /** A transport for the incarnation `tag` at `address` (it joins when started). */
  create(address: string, tag: string, handler: TransportHandler): SimTransport {
    return new SimTransport(this, address, tag, handler);
  }

  /** Cuts every link between a host of `a` and one of `b`, both ways. */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) { this.blocked.add(`${x}>${y}`); this.blocked.add(`${y}>${x}`); }
  }

  /** Cuts one direction only. */
  blockOneWay(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Cuts every link from a host of `from` to one of `to`; the other direction still flows. */
  partitionOneWay(from: readonly string[], to: readonly string[]): void {
    for (const x of from) for (const y of to) this.blockOneWay(x, y);
  }

  /** Removes every partition. */
  heal(): void {
    this.blocked.clear();
  }

  /** Whether `from` can reach `to`. */
  linkUp(from: string, to: string): boolean {
    return !this.blocked.has(`${from}>${to}`);
  }

  /** The live transport at `address`. */
  host(address: string): SimTransport | undefined {
    return this.hosts.get(address);
  }

  /** @internal */
  join(t: SimTransport): void { this.hosts.set(t.address, t); }
  /** Removes `t` (a crash or a close): messages in flight to it are lost. */
  leave(t: SimTransport): void { if (this.hosts.get(t.address) === t) this.hosts.delete(t.address); }

  /** A latency drawn from the current faults. */
  latency(): number {
    const f = this.faults;
    return f.minLatencyMs + this.random.int(0, Math.max(1, f.maxLatencyMs - f.minLatencyMs + 1));
  }
}

/** One host incarnation's endpoint on a {@link SimNetwork}. */
export class SimTransport implements Transport {
  private readonly resolver = new StaticAddressResolver();
  private readonly counters = emptyStats();
  private state: 'new' | 'started' | 'closed' = 'new';
  private outbox = new Map<string, Message[]>();
  private flushing = false;
  private readonly reported = new Set<string>();

  constructor(private readonly net: SimNetwork, readonly address: string, readonly tag: string, private readonly handler: TransportHandler) {}

  /** Joins the network. */
  start(): Promise<void> {
    this.state = 'started';
    this.net.join(this);
    return Promise.resolve();
  }

  /** Queues `m` for its replica's host; delivered after this turn with the network's faults. */
  send(m: Message): boolean {
    if (this.state !== 'started') return false;
    this.net.onSend?.(m);
    const to = this.resolver.resolve(m.shardId, m.to);
    if (to === undefined) return false;
    if (this.net.host(to) === undefined) {
      const key = `${to}/${m.shardId}/${m.to}`;
      if (!this.reported.has(key)) {
        this.reported.add(key);
        this.counters.unreachableReported++;
        this.handler.handleUnreachable(m.shardId, m.to);
      }
      return false;
    }
    this.reported.delete(`${to}/${m.shardId}/${m.to}`);
    let q = this.outbox.get(to);
    if (q === undefined) this.outbox.set(to, (q = []));
    q.push(m);
    if (!this.flushing) {
      this.flushing = true;
      this.net.sched.schedule(0, () => this.flush(), 'flush', this.tag);
    }
    return true;
  }

  /** Copies the snapshot's files to the receiver and completes it there; reports the outcome here. */
  sendSnapshot(m: Message): boolean {
    if (this.state !== 'started' || m.snapshot === null) return false;
    const to = this.resolver.resolve(m.shardId, m.to);
    if (to === undefined) return false;
    const net = this.net;
    const status = (failed: boolean): void => {
      net.sched.schedule(net.latency(), () => {
        if (failed) this.counters.snapshotFailures++;
        else this.counters.snapshotsSent++;
        this.handler.handleSnapshotStatus(m.shardId, m.to, failed);
      }, `snapshot-status ${m.shardId}/${m.to} ${failed}`, this.tag);
    };
    const dest = net.host(to);
    if (dest === undefined || !net.linkUp(this.address, to)) {
      status(true);
      return true;
    }
    net.sched.schedule(net.latency() * 4, () => {
      const live = net.host(to) === dest && net.linkUp(this.address, to);
      if (!live) { status(true); return; }
      status(!dest.receiveSnapshot(m));
    }, `snapshot ${this.address}>${to} ${m.shardId}`, dest.tag);
    return true;
  }

  /** Records the address of a replica. */
  setAddress(shardId: number, replicaId: number, address: string): void { this.resolver.set(shardId, replicaId, address); }
  /** Forgets the address of a replica. */
  removeAddress(shardId: number, replicaId: number): void { this.resolver.remove(shardId, replicaId); }
  /** Counters. */
  stats(): TransportStats { return { ...this.counters }; }

  /** Leaves the network. */
  close(): Promise<void> {
    this.state = 'closed';
    this.net.leave(this);
    return Promise.resolve();
  }

  /** Runs on the receiver: copies and syncs the files, completes the snapshot. @returns success. */
  private receiveSnapshot(m: Message): boolean {
    if (this.state !== 'started') return false;
    const snap = m.snapshot!;
    const receiver = this.handler.snapshotReceiver;
    const fs = this.net.fs;
    try {
      const dir = receiver.tempDir(snap, m.from);
      fs.mkdirSync(dir, { recursive: true });
      const copy = (from: string, to: string): void => {
        fs.copyFileSync(from, to);
        const fd = fs.openSync(to, 'r+');
        try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
      };
      const local = {
        ...snap,
        filepath: snap.filepath === '' ? '' : path.join(dir, path.basename(snap.filepath)),
        files: snap.files.map((f) => ({ ...f, filepath: path.join(dir, `external-file-${f.fileId}`) })),
      };
      if (snap.filepath !== '') copy(snap.filepath, local.filepath);
      for (let i = 0; i < snap.files.length; i++) copy(snap.files[i]!.filepath, local.files[i]!.filepath);
      const dfd = fs.openSync(dir, 'r');
      try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
      this.counters.snapshotsReceived++;
      // A refusal (an out-of-date snapshot, say) was logged by the host; the sender still sees success here.
      void Promise.resolve(receiver.complete({ ...m, snapshot: local })).catch(() => undefined);
      return true;
    } catch (err) {
      this.counters.snapshotFailures++;
      receiver.failed(m, err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  private flush(): void {
    this.flushing = false;
    const out = this.outbox;
    this.outbox = new Map();
    if (this.state !== 'started') return;
    const net = this.net;
    for (const [to, msgs] of out) {
      for (const m of msgs) {
        if (!net.linkUp(this.address, to) || net.random.chance(net.faults.dropRate)) continue;
        const copies = net.random.chance(net.faults.duplicateRate) ? 2 : 1;
        const batch: MessageBatch = { deploymentId: 0, sourceAddress: this.address, messages: [m], clusterIds: [this.handler.clusterIdOf?.(m.shardId) ?? 0] };
        const bytes = encodeBatch(batch);
        this.counters.messagesSent++;
        this.counters.bytesSent += bytes.length;
        for (let c = 0; c < copies; c++) {
          const dest = net.host(to);
          if (dest === undefined) continue;
          net.sched.schedule(net.latency(), () => {
            if (net.host(to) !== dest || !net.linkUp(this.address, to)) return;
            net.delivered++;
            dest.receive(bytes);
          }, `msg ${this.address}>${to} ${m.shardId} t${m.type} ${m.from}>${m.to} i${m.logIndex} c${m.commit}`, dest.tag);
        }
      }
    }
  }

  /** Runs on the receiver: hands a batch to the host. */
  private receive(bytes: Buffer): void {
    if (this.state !== 'started') return;
    const b = decodeBatch(bytes);
    this.counters.batchesReceived++;
    this.counters.messagesReceived += b.messages.length;
    this.counters.bytesReceived += bytes.length;
    this.handler.handleMessageBatch(b);
  }
}
