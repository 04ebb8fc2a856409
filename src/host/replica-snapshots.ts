/**
 * The snapshot side of one replica (SNAPSHOTS.md §2–§6): the user's pending request, automatic
 * snapshots, saves, full images for streams to followers, and recoveries from a snapshot
 * received. The apply loop meets save and stream tasks in log order and calls in here; every
 * save, recovery and image runs on the engine's snapshot workers (`ReplicaHost.snapshotWork`),
 * which bound them per host and never run two of one shard at once.
 */
import type { Membership, Message, SnapshotMeta } from '../core/types.js';
import { ClosedError, RejectedError, SnapshotNotFoundError, StateMachineError, StorageError } from '../errors.js';
import { OutgoingStreams } from './outgoing-streams.js';
import { PendingSnapshot, type SnapshotRequest } from './pending-snapshot.js';
import type { Replica } from './replica.js';
import type { ReplicaHost } from './replica-host.js';
import { sleep } from '../runtime/index.js';
import { SnapshotState } from './snapshot-state.js';
import { snapshotPhase } from './snapshot-stagger.js';
import type { CapturedState, SaveTarget } from './snapshot-worker.js';

/** Snapshot work for the apply loop, queued in log order with the entries. */
export type SnapshotTask =
  | { readonly kind: 'snapshot'; readonly request: SnapshotRequest | null }
  | { readonly kind: 'stream'; readonly m: Message; readonly send: (m: Message) => boolean };

/** The snapshot requests, flags and streams of one replica. */
export class ReplicaSnapshots {
  /** Which snapshot work the replica has requested or running. */
  readonly state = new SnapshotState();
  private readonly pending: PendingSnapshot;
  private readonly streams: OutgoingStreams;
  /** The index of the last snapshot found missing for a stream (logged once). */
  private missingLogged = -1;
  /** The membership {@link phaseValue} was computed for. */
  private phaseOf: Membership | null = null;
  private phaseValue = 0;

  /** @param enqueue puts a task in the replica's apply queue (and wakes the apply loop). */
  constructor(private readonly r: Replica, private readonly host: ReplicaHost, private readonly enqueue: (t: SnapshotTask) => void) {
    this.pending = new PendingSnapshot(r.shardId);
    this.streams = new OutgoingStreams(() => r.snapshotter, host.logger, host.runtime.fs);
  }

  /**
   * Puts a user snapshot request in the replica's one pending slot.
   * @throws SystemBusyError when a request is already pending; ClosedError once stopped.
   */
  request(make: (cleanup: () => void) => SnapshotRequest): Promise<number> {
    const p = this.pending.request(make);
    this.host.setReady(this.r);
    return p;
  }

  /**
   * Engine pass, §2: hands the pending request to the apply loop once — or rejects it when
   * there is nothing new to snapshot (an export is always taken).
   */
  admit(): void {
    const request = this.pending.take();
    if (request === null) return;
    if (!this.state.admit(this.r.rsm.lastApplied, request.target.kind === 'export')) {
      request.req.reject(new RejectedError(`nothing new to snapshot in shard ${this.r.shardId} since index ${this.state.requestedIndex}`));
      return;
    }
    this.enqueue({ kind: 'snapshot', request });
  }

  /**
   * After entries were applied: queues an automatic snapshot every `snapshotEntries` entries,
   * at this replica's points of the log (`snapshot-stagger.ts`).
   */
  maybeAuto(): void {
    const every = this.r.cfg.snapshotEntries;
    if (every === 0 || this.r.worker === null) return;
    if (this.state.autoDue(this.r.rsm.lastApplied, this.r.reader.snapshot().index, every, this.phase(every))) {
      this.enqueue({ kind: 'snapshot', request: null });
    }
  }

  /** The phase of this replica's automatic snapshots, computed again only when the membership changes. */
  private phase(every: number): number {
    const m = this.r.rsm.membership;
    if (m !== this.phaseOf) {
      this.phaseOf = m;
      this.phaseValue = snapshotPhase(m, this.r.shardId, this.r.replicaId, every);
    }
    return this.phaseValue;
  }

  /**
   * §3: a save task met in log order (`request` null: an automatic snapshot). The state is
   * captured here; the save runs on a snapshot worker — awaited for a regular state machine,
   * which cannot change while it is written, in the background for the other kinds.
   * A second save while one runs is refused (RejectedError to its caller).
   */
  async save(request: SnapshotRequest | null): Promise<void> {
    const worker = this.r.worker;
    if (worker === null || !this.state.startSave(request === null)) {
      request?.req.reject(new RejectedError(`a snapshot of shard ${this.r.shardId} is already being taken`));
      return;
    }
    const target: SaveTarget = request?.target ?? { kind: 'local' };
    const compactTo = request?.compactTo ?? ((i: number) => this.defaultCompactTo(i));
    let captured: CapturedState;
    try {
      captured = await worker.capture(target);
    } catch (e) {
      this.state.done('save');
      throw e;
    }
    const save = async (): Promise<void> => {
      try {
        const index = await this.host.snapshotWork(this.r, 'save',
          () => worker.save(captured, target, target.kind === 'local' ? compactTo(captured.index) : null));
        if (index === 0) {
          request?.req.reject(new RejectedError(`nothing new to snapshot in shard ${this.r.shardId}`));
          return;
        }
        request?.req.resolve(index);
        this.r.counters.snapshotsTaken++;
        this.host.snapshotCreated(this.r, index, target.kind === 'export');
      } catch (e) {
        // Not started because the replica stopped: its request already failed with ClosedError.
        // A local save the disk refused stops the replica (or the host: fail-stop.ts), one line.
        if (e instanceof StorageError && target.kind === 'local') this.host.storageFailed(this.r, e);
        else if (!(e instanceof ClosedError && this.r.abort.signal.aborted)) {
          this.host.logger.error('snapshot failed', { shardId: this.r.shardId, replicaId: this.r.replicaId, error: (e as Error).message });
        }
        request?.req.reject(e);
      } finally {
        this.state.done('save');
      }
    };
    if (this.r.sm.kind === 'regular') await save();
    else void save();
  }

  /**
   * Starts streaming the snapshot of an InstallSnapshot message to a follower. The snapshot's
   * files are held until the stream ends; an on-disk state machine's metadata-only snapshot is
   * replaced by a full image of its live state, written first (a stream task). False when
   * refused at once (a stream to that follower is under way, no snapshotter, the send failed).
   * @throws SnapshotNotFoundError when the snapshot to hold was removed meanwhile.
   */
  stream(m: Message, send: (m: Message) => boolean): boolean {
    const ss = m.snapshot;
    if (ss === null) return false;
    const image = ss.dummy && this.r.sm.kind === 'on-disk';
    let started: boolean;
    try {
      started = this.streams.start(m.to, ss.index, !image);
    } catch (e) {
      // The snapshot's files are gone (removed by hand, a damaged disk): this stream fails,
      // the core tries again later; the host must not stop over it.
      if (!(e instanceof SnapshotNotFoundError)) throw e;
      this.r.counters.snapshotSendFailures++;
      if (this.missingLogged === ss.index) return false;
      this.missingLogged = ss.index;
      this.host.logger.error('snapshot for a follower is missing on disk (logged once per snapshot)', {
        shardId: this.r.shardId, replicaId: this.r.replicaId, to: m.to, index: ss.index, error: e.message,
      });
      return false;
    }
    if (!started) return false;
    if (image) {
      this.enqueue({ kind: 'stream', m, send });
      return true;
    }
    const ok = send(m);
    if (!ok) this.streams.done(m.to);
    return ok;
  }

  /** A stream to `to` ended (either way): release what it held. */
  streamDone(to: number): void {
    this.streams.done(to);
  }

  /** A stream task: writes a full image of an on-disk state machine's live state and streams it. */
  async writeImage(m: Message, send: (m: Message) => boolean): Promise<void> {
    const worker = this.r.worker;
    if (worker === null || !this.streams.has(m.to)) return;
    this.state.start('stream');
    try {
      const { meta, dir } = await this.host.snapshotWork(this.r, 'stream', () => worker.writeStreamImage());
      if (this.streams.setImage(m.to, dir) && !send({ ...m, snapshot: meta })) this.streamFailed(m.to);
    } catch (e) {
      this.host.logger.warn('snapshot image for a follower failed', { shardId: this.r.shardId, replicaId: this.r.replicaId, error: (e as Error).message });
      this.streamFailed(m.to);
    } finally {
      this.state.done('stream');
    }
  }

  private streamFailed(to: number): void {
    this.streams.done(to);
    this.r.peer.reportSnapshotStatus(to, true);
  }

  /**
   * Recovers the state machine from a snapshot received from the leader, on a snapshot worker.
   * Returns false when the state machine is already at or past it (nothing done).
   * @throws StateMachineError when no snapshot machinery is attached; whatever the recovery throws.
   */
  async recover(ss: SnapshotMeta): Promise<boolean> {
    const worker = this.r.worker;
    if (worker === null) throw new StateMachineError('a snapshot arrived but snapshots are not attached');
    if (ss.index <= this.r.rsm.lastApplied) return false;
    const onDiskIndex = this.r.rsm.onDiskIndex;
    this.state.start('recover');
    try {
      await this.host.snapshotWork(this.r, 'recover', () => worker.recover(ss, onDiskIndex));
    } finally {
      this.state.done('recover');
    }
    this.r.counters.snapshotsRecovered++;
    return true;
  }

  /** The default compaction point after a snapshot at `index`, or null. */
  defaultCompactTo(index: number): number | null {
    const cfg = this.r.cfg;
    if (cfg.disableAutoCompaction || index <= cfg.compactionOverhead) return null;
    return index - cfg.compactionOverhead;
  }

  /** The replica stops: the pending request fails with ClosedError; resolves once no snapshot work of it runs. */
  async stop(message: string): Promise<void> {
    this.pending.close(message);
    while (this.state.busy) await sleep(this.host.runtime.timers, 1);
  }
}
