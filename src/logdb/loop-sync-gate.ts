/**
 * Whether a WAL commit may fdatasync on the event loop. A small commit that finds the log idle
 * syncs on the loop (no thread-pool hand-off: at one request in flight the loop has nothing
 * else to do meanwhile), but a sync on the loop holds every shard, timer and socket of the
 * process for as long as the disk takes: on a busy disk that was 50–100 ms turns (issue 19,
 * `tools/turns/long-turns.ts`). So the loop syncs only while the disk has been fast: the
 * estimate jumps to any slow sync at once and decays by a tenth per sync after it, and while it
 * is above {@link LOOP_SYNC_MAX_MS} every sync goes to the thread pool. (dragonboat and etcd
 * sync on a goroutine of their own, which never holds the other shards.)
 */

/** A sync may run on the event loop only while recent syncs took at most this long (ms). */
export const LOOP_SYNC_MAX_MS = 2;

/** The rule above, with its estimate of the disk's recent sync latency. */
export class LoopSyncGate {
  /** Recent sync latency in ms: the latest slow one, decaying by 10% per sync since. */
  private recentMs = 0;

  /** Whether a commit (first after an idle spell: `idleStart`) of `bytes` (at most `maxBytes`) may sync on the loop. */
  allow(idleStart: boolean, bytes: number, maxBytes: number): boolean {
    return idleStart && bytes <= maxBytes && this.recentMs <= LOOP_SYNC_MAX_MS;
  }

  /** Records how long a sync took (either way), in ms; returns `ms`. */
  record(ms: number): number {
    this.recentMs = Math.max(ms, this.recentMs * 0.9);
    return ms;
  }

  /** The current estimate (ms), for tests. */
  get estimateMs(): number { return this.recentMs; }
}
