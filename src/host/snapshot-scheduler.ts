/**
 * The engine's snapshot workers (dragonboat's `workerPool`): every snapshot save, recovery and
 * stream image of the host runs here, beside stepping and applying, with two guarantees:
 * - at most `limit` pieces of work run at once on the host (default 2);
 * - for one shard at most one runs at a time (a save, a recovery or a stream image never
 *   overlaps another of the same shard), so a shard's queued work waits for its current work
 *   while other shards' work goes ahead.
 * Queued work starts in arrival order, skipping work of a busy shard (dragonboat's
 * `scheduleWorker`): a shard's own work therefore starts in the order it was queued.
 * Dragonboat lets one shard stream to several followers at once; here a stream image is
 * exclusive like the rest (it is a full image of the live state, as heavy as a save).
 */
import { ClosedError, InvalidOptionError } from '../errors.js';

/** The kinds of snapshot work: save (local or export), recovery, an image for a stream. */
export type SnapshotWorkKind = 'save' | 'recover' | 'stream';

/** How many pieces of snapshot work a host runs at once unless told otherwise. */
export const DEFAULT_SNAPSHOT_WORKERS = 2;

/** One piece of work waiting for a worker. */
interface Job {
  readonly shardId: number;
  readonly kind: SnapshotWorkKind;
  readonly work: () => Promise<unknown>;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** Bounded, per-shard exclusive snapshot workers. */
export class SnapshotScheduler {
  private readonly queue: Job[] = [];
  /** What runs now, by shard (the busy set). */
  private readonly busy = new Map<number, SnapshotWorkKind>();

  /** @throws InvalidOptionError when `limit` is not a positive integer. */
  constructor(readonly limit: number = DEFAULT_SNAPSHOT_WORKERS) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidOptionError(`snapshot workers must be a positive integer, not ${limit}`);
  }

  /** Pieces of work running now (never more than `limit`). */
  get running(): number { return this.busy.size; }

  /** Pieces of work waiting for a worker or for their shard. */
  get queued(): number { return this.queue.length; }

  /** The kind of work running for `shardId`, or null. */
  runningFor(shardId: number): SnapshotWorkKind | null {
    return this.busy.get(shardId) ?? null;
  }

  /**
   * Runs `work` for `shardId` once a worker is free and no other work of the shard runs;
   * settles as `work` does. With `signal`, work that has not started when it aborts leaves the
   * queue and rejects with ClosedError (work that started is told through its own means).
   */
  run<T>(shardId: number, kind: SnapshotWorkKind, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(closed(shardId, kind));
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        shardId, kind, work, resolve: resolve as (v: unknown) => void, reject, signal,
        onAbort: () => {
          const i = this.queue.indexOf(job);
          if (i < 0) return;
          this.queue.splice(i, 1);
          reject(closed(shardId, kind));
        },
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.schedule();
    });
  }

  /** Starts queued work while a worker is free. */
  private schedule(): void {
    for (let i = 0; i < this.queue.length && this.busy.size < this.limit;) {
      const job = this.queue[i] as Job;
      if (this.busy.has(job.shardId)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.start(job);
    }
  }

  private start(job: Job): void {
    job.signal?.removeEventListener('abort', job.onAbort);
    this.busy.set(job.shardId, job.kind);
    let p: Promise<unknown>;
    try {
      p = job.work();
    } catch (e) {
      p = Promise.reject(e);
    }
    // The worker is free (and the next work started) before the caller hears of the outcome.
    void p.then((v) => {
      this.finished(job);
      job.resolve(v);
    }, (e: unknown) => {
      this.finished(job);
      job.reject(e);
    });
  }

  private finished(job: Job): void {
    this.busy.delete(job.shardId);
    this.schedule();
  }
}

function closed(shardId: number, kind: SnapshotWorkKind): ClosedError {
  return new ClosedError(`snapshot ${kind} of shard ${shardId} not started: the replica stopped`);
}
