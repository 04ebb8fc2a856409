/**
 * The WAL's commit buffer: one per log, reused by every commit. Commits run one at a time and
 * nothing keeps a view of the buffer once its write returns, so a single buffer serves them
 * all. A fresh buffer of 64 KiB or more per commit was memory outside V8's heap, whose growth
 * V8 answers with full mark-compacts: 52–54 in 10 s at one request in flight
 * (`bench/service-tail.ts`). One that grew past {@link KEEP_BYTES} (a compaction's copies, a
 * huge batch) is let go at the next commit.
 */
import { Writer } from '../encoding/writer.js';

/** The buffer's first size. */
const INITIAL_BYTES = 64 * 1024;

/** A buffer larger than this is not kept for the next commit. */
const KEEP_BYTES = 16 * 1024 * 1024;

/** Hands each commit the log's one writer, emptied and with room for its estimated size. */
export class CommitBuffer {
  private writer: Writer | null = null;

  /** The writer for the next commit: empty, with at least `bytes` of room. */
  take(bytes: number): Writer {
    if (this.writer === null || this.writer.capacity > KEEP_BYTES) this.writer = new Writer(INITIAL_BYTES);
    const w = this.writer;
    w.reset();
    w.ensure(bytes);
    return w;
  }
}
