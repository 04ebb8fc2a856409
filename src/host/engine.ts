/**
 * The engine: Node has one thread, so it is a loop on the event loop, not a pool of workers.
 * One step pass takes the pending update of every ready replica, writes all of them to the
 * LogDB in ONE batch (one durable sync for every shard of the host), sends the messages — a
 * leader's Replicate messages before the write, everything else after it — and hands
 * committed entries to each replica's apply loop: before the write when they were persisted
 * by earlier passes (so applying overlaps the sync), after it otherwise. Work that arrives during a pass (messages,
 * proposals) is picked up by the next one.
 */
import type { Update } from '../core/peer.js';
import { MessageType, type Message } from '../core/types.js';
import type { Logger } from '../logger.js';
import type { LogDB, ReplicaUpdate } from '../logdb/log-db.js';
import type { Transport } from '../transport/transport.js';
import type { HostObserver } from './observer.js';
import type { Replica } from './replica.js';

/** Counters of the engine's work, for metrics and benchmarks. */
export interface EngineStats {
  passes: number;
  updates: number;
  logdbBatches: number;
  messagesSent: number;
}

/** Drives every replica of a host. */
export class Engine {
  private readonly ready = new Set<Replica>();
  private running = false;
  private scheduled = false;
  private closed = false;
  private idle: Array<() => void> = [];
  readonly stats: EngineStats = { passes: 0, updates: 0, logdbBatches: 0, messagesSent: 0 };
  /** Told the duration of each pass and LogDB batch; null (the default): no clock is read. */
  observer: HostObserver | null = null;

  constructor(
    private readonly logdb: LogDB,
    private readonly transport: Transport,
    private readonly logger: Logger,
    private readonly onFatal: (err: Error) => void,
    /** Starts a snapshot stream for an InstallSnapshot message; false if refused at once. */
    private readonly sendSnapshot: (r: Replica, m: Message) => boolean,
  ) {}

  /** Marks `r` as having work; a pass runs soon. */
  setReady(r: Replica): void {
    this.ready.add(r);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.pass();
    });
  }

  private send(r: Replica, m: Message): void {
    this.stats.messagesSent++;
    if (m.type === MessageType.InstallSnapshot) {
      if (!this.sendSnapshot(r, m)) r.peer.reportSnapshotStatus(m.to, true);
      return;
    }
    this.transport.send(m);
  }

  private async pass(): Promise<void> {
    if (this.closed) {
      this.notifyIdle();
      return;
    }
    this.running = true;
    this.stats.passes++;
    const obs = this.observer;
    const start = obs === null ? 0 : performance.now();
    let updates = 0;
    try {
      const work: Array<{ r: Replica; u: Update }> = [];
      for (const r of this.ready) {
        if (r.stopped || r.failure !== null) continue;
        r.handleEvents();
        if (r.peer.hasUpdate()) work.push({ r, u: r.peer.getUpdate() });
      }
      this.ready.clear();
      if (work.length === 0) return;
      this.stats.updates += work.length;
      updates = work.length;
      const writes: ReplicaUpdate[] = [];
      for (const { r, u } of work) {
        for (const m of u.messages) if (m.type === MessageType.Replicate) this.send(r, m);
        r.applyBeforePersist(u);
        if (u.hardState !== null || u.entriesToSave.length > 0 || u.snapshot !== null) {
          writes.push({
            shardId: u.shardId, replicaId: u.replicaId, hardState: u.hardState ?? undefined,
            entries: u.entriesToSave, snapshot: u.snapshot ?? undefined,
          });
        }
      }
      if (writes.length > 0) {
        this.stats.logdbBatches++;
        const t0 = obs === null ? 0 : performance.now();
        await this.logdb.saveUpdates(writes);
        if (obs?.logdbBatch !== undefined) {
          let entries = 0;
          for (const w of writes) entries += w.entries.length;
          obs.logdbBatch(writes.length, entries, (performance.now() - t0) / 1000);
        }
      }
      for (const { r, u } of work) {
        if (r.stopped) continue;
        for (const m of u.messages) if (m.type !== MessageType.Replicate) this.send(r, m);
        r.afterPersist(u);
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.logger.error('engine pass failed; the host stops', { error: err.message });
      this.closed = true;
      this.onFatal(err);
    } finally {
      if (obs !== null && updates > 0) obs.enginePass?.((performance.now() - start) / 1000, updates);
      this.running = false;
      if (this.ready.size > 0 && !this.closed) this.schedule();
      else this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }

  /** Resolves once no pass is running (used when closing). */
  async drain(): Promise<void> {
    if (!this.running && !this.scheduled) return;
    await new Promise<void>((res) => this.idle.push(res));
  }

  /** Stops scheduling passes. */
  close(): void {
    this.closed = true;
  }
}
