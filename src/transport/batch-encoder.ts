/** Turns a queue of messages into batch frames ready for a socket. */
import type { Message } from '../core/types.js';
import { Writer } from '../encoding/writer.js';
import { writeBatchHeader, writeMessage } from './codec.js';
import type { EntryRunCache } from './entry-run-cache.js';
import { FRAME_HEADER_SIZE, FrameKind, writeFrameHeader } from './frame.js';

/**
 * Encodes messages for one remote host. The scratch writer is reused across flushes, so a
 * flush costs one allocation per frame (the copy handed to the socket, which keeps it until
 * written). Frames close once their payload passes `batchBytes`; no frame exceeds `maxPayload`.
 */
export class BatchFrameEncoder {
  private w = new Writer(64 * 1024);
  private countAt = 0;
  private count = 0;

  constructor(
    private readonly deploymentId: number,
    private readonly sourceAddress: string,
    private readonly batchBytes: number,
    private readonly maxPayload: number,
    /** The cluster identity written after each message (0: unknown). */
    private readonly clusterIdOf: (shardId: number) => number = () => 0,
    /** The transport's last encoded run of entries, shared by its remotes (`entry-run-cache.ts`); optional. */
    private readonly runs?: EntryRunCache,
  ) {}

  /**
   * Encodes `msgs` in order into frames. A message that cannot be encoded, or is alone larger
   * than `maxPayload`, is skipped and passed to `onDrop`; the rest still go out.
   */
  encode(msgs: readonly Message[], onDrop: (m: Message, reason: unknown) => void): Buffer[] {
    const frames: Buffer[] = [];
    this.open();
    for (const m of msgs) {
      let mark = this.w.pos;
      if (!this.tryWrite(m, onDrop)) continue;
      if (this.w.pos - FRAME_HEADER_SIZE > this.maxPayload) {
        this.w.truncate(mark);
        if (this.count === 0) {
          onDrop(m, new Error(`message larger than the maximum frame size ${this.maxPayload}`));
          continue;
        }
        frames.push(this.close());
        this.open();
        mark = this.w.pos;
        if (!this.tryWrite(m, onDrop)) continue;
        if (this.w.pos - FRAME_HEADER_SIZE > this.maxPayload) {
          this.w.truncate(mark);
          onDrop(m, new Error(`message larger than the maximum frame size ${this.maxPayload}`));
          continue;
        }
      }
      this.count++;
      if (this.w.pos - FRAME_HEADER_SIZE >= this.batchBytes) {
        frames.push(this.close());
        this.open();
      }
    }
    if (this.count > 0) frames.push(this.close());
    // A huge batch should not keep a huge scratch buffer alive forever.
    if (this.w.capacity > 8 * 1024 * 1024) this.w = new Writer(64 * 1024);
    return frames;
  }

  private tryWrite(m: Message, onDrop: (m: Message, reason: unknown) => void): boolean {
    const mark = this.w.pos;
    try {
      writeMessage(this.w, m, this.runs);
      this.w.varint(this.clusterIdOf(m.shardId));
      return true;
    } catch (err) {
      this.w.truncate(mark);
      onDrop(m, err);
      return false;
    }
  }

  private open(): void {
    this.w.reset();
    this.w.skip(FRAME_HEADER_SIZE);
    this.countAt = writeBatchHeader(this.w, this.deploymentId, this.sourceAddress);
    this.count = 0;
  }

  private close(): Buffer {
    this.w.patchU32be(this.countAt, this.count);
    const out = this.w.copyOut();
    writeFrameHeader(out, 0, FrameKind.Batch, out.subarray(FRAME_HEADER_SIZE));
    return out;
  }
}
