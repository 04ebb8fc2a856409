/**
 * The snapshot streams a replica is sending to followers, at most one per follower, and what
 * each holds until it ends: the replica's snapshot at its index (kept from removal), or a
 * private full image written for it (on-disk state machines), removed afterwards.
 */
import type { Logger } from '../logger.js';
import type { Snapshotter } from '../snapshot/snapshotter.js';
import { realFileSystem, type FileSystem } from '../runtime/index.js';

/** What one stream holds. */
interface Held {
  readonly index: number;
  /** Whether the snapshot at `index` was acquired (released when the stream ends). */
  readonly acquired: boolean;
  /** The private image's directory, once written. */
  image?: string;
}

/** The outgoing snapshot streams of one replica, by follower. */
export class OutgoingStreams {
  private readonly streams = new Map<number, Held>();

  /**
   * @param files the replica's snapshotter (null until attached): holds and releases snapshots.
   * @param logger told of a release that failed (a deferred removal; never thrown at the caller).
   * @param fs the file system images are removed through (the host's runtime's).
   */
  constructor(private readonly files: () => Snapshotter | null, private readonly logger: Logger, private readonly fs: FileSystem = realFileSystem) {}

  /** Streams in progress. */
  get size(): number { return this.streams.size; }

  /**
   * Records a stream to `to` of the snapshot at `index`; with `hold`, the snapshot's files are
   * acquired (kept from removal) until {@link done}. False when a stream to `to` is already
   * under way or there is no snapshotter: nothing was recorded.
   * @throws SnapshotNotFoundError (from the snapshotter) when the snapshot to hold is gone.
   */
  start(to: number, index: number, hold: boolean): boolean {
    const files = this.files();
    if (files === null || this.streams.has(to)) return false;
    if (hold) files.acquire(index);
    this.streams.set(to, { index, acquired: hold, image: undefined });
    return true;
  }

  /** Whether the stream to `to` is still under way. */
  has(to: number): boolean {
    return this.streams.has(to);
  }

  /**
   * The private image written for the stream to `to` (removed when it ends). False when the
   * stream ended meanwhile: the image is removed at once.
   */
  setImage(to: number, dir: string): boolean {
    const s = this.streams.get(to);
    if (s === undefined) {
      this.removeImage(dir);
      return false;
    }
    s.image = dir;
    return true;
  }

  /** Removes a stream image (a failure leaves it for the next cleanup at start). */
  private removeImage(dir: string): void {
    void this.fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }

  /** The stream to `to` ended (either way): releases what it held. Idempotent. */
  done(to: number): void {
    const s = this.streams.get(to);
    if (s === undefined) return;
    this.streams.delete(to);
    if (s.image !== undefined) this.removeImage(s.image);
    if (!s.acquired) return;
    this.files()?.release(s.index).catch((e: unknown) => {
      this.logger.warn('releasing a streamed snapshot failed', { index: s.index, error: (e as Error).message });
    });
  }
}
