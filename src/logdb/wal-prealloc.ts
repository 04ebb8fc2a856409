/**
 * Preallocation of the WAL's current segment: it is zero-filled (and synced) ahead of the
 * data, so a batch's fdatasync overwrites allocated blocks and commits no new file size to
 * the file system's journal (three writers × 2 KiB here: fdatasync p50 0.60–0.69 → 0.46–0.53
 * ms, `bench/fsync-modes.ts`), as etcd preallocates its segments. Recovery reads a zero tail
 * as the end. Only used with fsync on.
 */
import { fdatasyncFd, writeFd, type FileSystem } from '../runtime/index.js';

/** Bytes a WAL segment is zero-filled ahead of its data at a time. */
const PREALLOC_STEP = 1 << 20;

let zeroBuf = Buffer.alloc(0);
/** A shared buffer of at least `n` zero bytes (never written to). */
function zeroes(n: number): Buffer {
  if (zeroBuf.length < n) zeroBuf = Buffer.alloc(n);
  return zeroBuf;
}

/** The zero-filled extent of one segment at a time (reset at rotation). */
export class SegmentPreallocator {
  /** Bytes of the current segment zero-filled and synced. */
  allocEnd = 0;
  private extending: Promise<void> | null = null;

  /**
   * @param segmentBytes the segment size (a step never passes it)
   * @param fd the current segment's file descriptor
   * @param fail called when a background extension fails (the WAL fails its writes)
   * @param fs the file system the zeroes are written and synced through
   */
  constructor(private readonly segmentBytes: number, private readonly fd: () => number, private readonly fail: (err: unknown) => void,
    private readonly fs: FileSystem) {}

  private step(): number {
    return Math.min(PREALLOC_STEP, this.segmentBytes);
  }

  /** fdatasyncs of extensions begun so far, and whether one runs now (see {@link overlapped}). */
  private syncsBegun = 0;
  private syncing = false;

  /** A mark to pass to {@link overlapped} once a sync of the same file made after it returns. */
  syncMark(): number {
    return this.syncsBegun;
  }

  /**
   * Whether an extension's fdatasync ran at some time since `mark` was taken. A write-back
   * error is reported once per open file: that sync may have taken the error of a batch whose
   * own sync then returned success, so the batch waits for it ({@link settle}) and its outcome.
   */
  overlapped(mark: number): boolean {
    return this.syncing || this.syncsBegun !== mark;
  }

  /** Waits for a background extension, if one runs. */
  async settle(): Promise<void> {
    if (this.extending !== null) await this.extending;
  }

  /** A new segment starts with nothing allocated. */
  reset(): void {
    this.allocEnd = 0;
  }

  /** Makes sure bytes up to `end` are allocated before a write that reaches them. */
  async ensure(end: number): Promise<void> {
    if (end <= this.allocEnd) return;
    await this.settle();
    if (end > this.allocEnd) await this.extend(end);
  }

  /** Starts zero-filling the next step in the background once the data at `dataEnd` is half-way into the last one. */
  ahead(dataEnd: number): void {
    const step = this.step();
    if (this.extending !== null || dataEnd + step / 2 <= this.allocEnd || dataEnd >= this.segmentBytes) return;
    this.extending = this.extend(this.allocEnd + step).catch((err: unknown) => this.fail(err)).finally(() => { this.extending = null; });
  }

  /** Zero-fills from `allocEnd` up to `end` (rounded up to a step) and syncs it. */
  private async extend(end: number): Promise<void> {
    const step = this.step();
    const target = Math.ceil(end / step) * step;
    const fd = this.fd();
    const zero = zeroes(step);
    for (let at = this.allocEnd; at < target;) {
      at += await writeFd(this.fs, fd, zero, 0, Math.min(step, target - at), at);
    }
    this.syncsBegun++;
    this.syncing = true;
    try {
      await fdatasyncFd(this.fs, fd);
    } finally {
      this.syncing = false;
    }
    this.allocEnd = Math.max(this.allocEnd, target);
  }
}
