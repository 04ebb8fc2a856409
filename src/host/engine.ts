/**
 * The engine: Node has one thread, so it is a loop on the event loop, not a pool of workers.
 * One step pass takes the pending update of every ready replica, writes all of them to the
 * LogDB in ONE batch (one durable sync for every shard of the host), sends the messages — a
 * leader's Replicate messages and a follower's forwarded proposals and reads before the write,
 * everything else after it; a leader's empty Replicate that carries only a new commit index is
 * held one pass, and dropped when that pass's Replicate carries the index (`bare-commits.ts`) — and hands
 * committed entries to each replica's apply loop at once (the core hands out only entries
 * already persisted here). Writes are pipelined (the core's `asyncStorageWrites`): the next
 * pass runs while earlier writes are still syncing, and the WAL groups them into the next
 * commit; completions — messages that wait for the write, acknowledgements to the core —
 * run in pass order. Only a pass that installs a snapshot waits for its write before the next.
 * Snapshot saves, recoveries and stream images run beside all this on the engine's snapshot
 * workers (`snapshot-scheduler.ts`): a bounded pool, never two pieces of work of one shard.
 */
import type { Update } from '../core/peer.js';
import { MessageType, type Message } from '../core/types.js';
import type { Logger } from '../logger.js';
import type { LogDB, ReplicaUpdate } from '../contracts/log-db.js';
import type { Transport } from '../contracts/transport.js';
import type { HostObserver } from './observer.js';
import type { Replica } from './replica.js';
import { ApplyBudget } from './apply-budget.js';
import { DEFAULT_APPLY_SLICE_MS } from './apply-budget.js';
import { DEFAULT_SNAPSHOT_WORKERS, SnapshotScheduler } from './snapshot-scheduler.js';
import { acquireLoopMonitor, type LoopMonitorHandle } from './loop-monitor.js';
import { BareCommits, isBareCommit } from './bare-commits.js';
import type { Clock, Runtime, Timers } from '../runtime/index.js';

/** Counters of the engine's work, for metrics and benchmarks. */
export interface EngineStats {
  /** Passes run: each collects every ready replica's update and handles them together. */
  passes: number;
  /** Replica updates handled, over all passes. */
  updates: number;
  /** LogDB writes: one batch per pass that had something to persist. */
  logdbBatches: number;
  /** Raft messages handed to the transport (snapshots included). */
  messagesSent: number;
  /**
   * Empty Replicates (a bare commit index) not sent because the next pass's Replicate to the
   * same follower carried the commit index (`bare-commits.ts`).
   */
  bareCommitsDropped: number;
}

/**
 * Whether `m` leaves before its pass's LogDB write rather than after it: a leader's Replicate
 * (the followers' fsync then overlaps the leader's, Raft §10.2.1), and a follower's forwarded
 * Propose or ReadIndex, which claim nothing about this replica's log or vote (a forwarded
 * proposal would otherwise wait for the follower's own sync of entries it has nothing to do
 * with). The answers whose promise a crash must not undo — ReplicateResp, vote answers — and
 * everything else wait for the write; etcd raft likewise holds back only its answers
 * (`msgsAfterAppend`) and sends a forwarded MsgProp at once.
 */
function sentBeforeWrite(m: Message): boolean {
  return m.type === MessageType.Replicate || m.type === MessageType.Propose || m.type === MessageType.ReadIndex;
}

/** One replica's update taken in a pass. */
interface Work { readonly r: Replica; readonly u: Update }

/** Drives every replica of a host. */
export class Engine {
  private readonly ready = new Set<Replica>();
  private running = false;
  private scheduled = false;
  private closed = false;
  private idle: Array<() => void> = [];
  /** The completion of the last pass's write (passes complete in order). */
  private inFlight: Promise<void> = Promise.resolve();
  readonly stats: EngineStats = { passes: 0, updates: 0, logdbBatches: 0, messagesSent: 0, bareCommitsDropped: 0 };
  /** A leader's bare commit indexes, held for one pass (`bare-commits.ts`). */
  private readonly bare = new BareCommits<Replica>();
  /** Told the duration of each pass and LogDB batch; null (the default): no clock is read. */
  observer: HostObserver | null = null;
  /** The snapshot workers: every replica's saves, recoveries and stream images run here. */
  readonly snapshots: SnapshotScheduler;
  /** The apply budget every replica's `update` calls share (`apply-budget.ts`). */
  readonly applyBudget: ApplyBudget;
  /** This host's hold on the process's event-loop and GC monitor (`loop-monitor.ts`), released by {@link close}. */
  readonly loop: LoopMonitorHandle;
  private readonly clock: Clock;
  private readonly timers: Timers;

  constructor(
    private readonly logdb: LogDB,
    private readonly transport: Transport,
    private readonly logger: Logger,
    private readonly onFatal: (err: Error) => void,
    /** Starts a snapshot stream for an InstallSnapshot message; false if refused at once. */
    private readonly sendSnapshot: (r: Replica, m: Message) => boolean,
    /** The host's runtime: the pass hand-off (`setImmediate`), the observer's clock, the apply budget's. */
    runtime: Runtime,
    /** How many pieces of snapshot work run at once on the host. @throws InvalidOptionError unless a positive integer */
    snapshotWorkers: number = DEFAULT_SNAPSHOT_WORKERS,
  ) {
    this.snapshots = new SnapshotScheduler(snapshotWorkers);
    this.clock = runtime.clock;
    this.timers = runtime.timers;
    this.applyBudget = new ApplyBudget(DEFAULT_APPLY_SLICE_MS, runtime);
    this.loop = acquireLoopMonitor(runtime);
  }

  /** Marks `r` as having work; a pass runs soon. */
  setReady(r: Replica): void {
    this.ready.add(r);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.closed) return;
    this.scheduled = true;
    this.timers.setImmediate(this.onImmediate);
  }

  /** The pass hand-off, one closure for the engine's life. */
  private readonly onImmediate = (): void => {
    this.scheduled = false;
    this.pass();
  };

  private send(r: Replica, m: Message): void {
    this.stats.messagesSent++;
    if (m.type === MessageType.InstallSnapshot) {
      if (!this.sendSnapshot(r, m)) r.peer.reportSnapshotStatus(m.to, true);
      return;
    }
    this.transport.send(m);
  }

  /**
   * One pass. Not an async function: it waits for nothing except a pass that installs a
   * snapshot, which ends once its write completes (a generator and a promise per pass were a
   * good part of what a proposal at one in flight allocated, issue 19).
   */
  private pass(): void {
    if (this.closed) {
      this.notifyIdle();
      return;
    }
    this.running = true;
    this.stats.passes++;
    // -1: no observer when the pass began (one set meanwhile is not told of this pass).
    const start = this.observer === null ? -1 : this.clock.now();
    this.passUpdates = 0;
    let wait: Promise<void> | null = null;
    try {
      wait = this.runPass();
    } catch (e) {
      this.fail(e);
    }
    if (wait === null) this.endPass(start);
    else wait.then(() => this.endPass(start), () => this.endPass(start));
  }

  /** Updates taken by the pass running (for the observer). */
  private passUpdates = 0;

  /** The end of a pass: observed, and the next one scheduled if there is work. */
  private endPass(start: number): void {
    const obs = this.observer;
    if (start >= 0 && obs !== null && this.passUpdates > 0) obs.enginePass?.((this.clock.now() - start) / 1000, this.passUpdates);
    this.running = false;
    // A held bare commit goes out (or is dropped) at the very next pass.
    if ((this.ready.size > 0 || this.bare.size > 0) && !this.closed) this.schedule();
    else this.notifyIdle();
  }

  /** The body of a pass; returns the write to wait for before the next pass (a snapshot's), else null. */
  private runPass(): Promise<void> | null {
    const work: Work[] = [];
    for (const r of this.ready) {
      if (r.stopped || r.failure !== null) continue;
      r.handleEvents();
      if (r.peer.hasUpdate()) work.push({ r, u: r.peer.getUpdate() });
    }
    this.ready.clear();
    // Last pass's bare commit indexes: dropped if this pass's Replicate carries them, else sent first.
    const bareSent = this.bare.size > 0 && this.releaseBare(work);
    if (work.length === 0) {
      // They leave now, in the loop iteration they would have left in had they not been held.
      if (bareSent) this.transport.flushPending?.();
      return null;
    }
    this.stats.updates += work.length;
    this.passUpdates = work.length;
    const writes: ReplicaUpdate[] = [];
    let snapshot = false;
    let entriesSent = false;
    for (const { r, u } of work) {
      let local: boolean | undefined;
      for (const m of u.messages) {
        if (!sentBeforeWrite(m)) continue;
        // A bare commit index of entries whose clients are here waits for the Replicate their
        // next proposals make; forwarded ones' proposers wait on their own replica: it goes now.
        if (isBareCommit(m) && (local ??= r.committedLocalProposal(u))) {
          this.bare.hold(r, m);
          continue;
        }
        this.send(r, m);
        if (m.type !== MessageType.Replicate || m.entries.length > 0) entriesSent = true;
      }
      r.applyBeforePersist(u);
      if (u.snapshot !== null) snapshot = true;
      if (u.hardState !== null || u.entriesToSave.length > 0 || u.snapshot !== null) {
        writes.push({
          shardId: u.shardId, replicaId: u.replicaId, hardState: u.hardState ?? undefined,
          entries: u.entriesToSave, snapshot: u.snapshot ?? undefined,
        });
      }
    }
    // Entries and forwarded requests leave now, before this pass's own write; a bare commit
    // index (an empty Replicate) may wait for the end of the turn, after the replies to clients.
    // Held bare commits sent above leave with them, in the same frame per host.
    if (entriesSent || bareSent) this.transport.flushPending?.();
    const written = writes.length > 0 ? this.write(writes) : null;
    // Completions run in the order the passes ran: a pass's messages and acknowledgements
    // wait for its own write and for every earlier one. A failure fails the host (and the
    // chain goes on resolved: later completions see the engine closed).
    const done = written === null
      ? this.inFlight.then(() => this.complete(work))
      : this.inFlight.then(() => written).then(() => this.complete(work));
    this.inFlight = done.catch((e: unknown) => this.fail(e));
    // An installed snapshot is recovered before anything after it is taken.
    return snapshot ? this.inFlight : null;
  }

  /** Sends or drops the bare commits held from the last pass, against this pass's messages; true if any was sent. */
  private releaseBare(work: readonly Work[]): boolean {
    const byReplica = new Map<Replica, readonly Message[]>();
    for (const { r, u } of work) byReplica.set(r, u.messages);
    const before = this.bare.dropped;
    let sent = false;
    // A replica that failed since still sends: its followers must learn the commit index (to
    // apply, and fail, the same entry).
    this.bare.release((r) => byReplica.get(r), (r) => !r.stopped, (r, m) => {
      this.send(r, m);
      sent = true;
    });
    this.stats.bareCommitsDropped += this.bare.dropped - before;
    return sent;
  }

  /** One LogDB batch for the pass, timed for the observer (without one, the LogDB's own promise). */
  private write(writes: ReplicaUpdate[]): Promise<void> {
    this.stats.logdbBatches++;
    const obs = this.observer;
    return obs?.logdbBatch === undefined ? this.logdb.saveUpdates(writes) : this.writeObserved(writes, obs);
  }

  private async writeObserved(writes: ReplicaUpdate[], obs: HostObserver): Promise<void> {
    const t0 = this.clock.now();
    await this.logdb.saveUpdates(writes);
    if (obs.logdbBatch !== undefined) {
      let entries = 0;
      for (const w of writes) entries += w.entries.length;
      obs.logdbBatch(writes.length, entries, (this.clock.now() - t0) / 1000);
    }
  }

  /** A pass's write is durable: send what had to wait for it, and acknowledge the updates. */
  private complete(work: readonly Work[]): void {
    if (this.closed) return;
    // The next pass is queued before these answers reach the transport, so it runs first in
    // the coming check phase: when it sends entries, its flush carries these answers in the
    // same frame per host, instead of the transport's own flush sending them alone just before.
    if (work.some(({ u }) => u.messages.some((m) => !sentBeforeWrite(m)))) this.schedule();
    for (const { r, u } of work) {
      if (r.stopped) continue;
      for (const m of u.messages) if (!sentBeforeWrite(m)) this.send(r, m);
      r.afterPersist(u);
    }
  }

  private fail(e: unknown): void {
    if (this.closed) return;
    const err = e instanceof Error ? e : new Error(String(e));
    // The host logs the one line (fail-stop.ts).
    this.closed = true;
    this.onFatal(err);
  }

  private notifyIdle(): void {
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }

  /** Resolves once no pass is running and every write taken has completed (used when closing). */
  async drain(): Promise<void> {
    if (this.running || this.scheduled) await new Promise<void>((res) => this.idle.push(res));
    await this.inFlight;
  }

  /** Stops scheduling passes. */
  close(): void {
    this.closed = true;
    this.bare.clear();
    this.loop.release();
  }
}
