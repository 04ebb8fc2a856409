/**
 * The image both KV state machines write into a snapshot, and read back: a magic, then
 * `keyLen:u32be | valueLen:u32be | key | value` per pair, then an end marker (keyLen =
 * 0xffffffff) so a truncated image is an error rather than a smaller state.
 */
import type { SnapshotWriter } from '../index.js';
import { CodecError } from '../index.js';

const MAGIC = Buffer.from('SKV1', 'latin1');
const END = 0xffffffff;
const CHUNK = 64 * 1024;

/**
 * Writes `pairs` as one image, in chunks of about 64 KiB, honouring back-pressure. A key may be
 * given as a latin1 string (one byte per character, as the in-memory map holds them): it is
 * encoded straight into the chunk, with no buffer per key. One chunk buffer is reused (the
 * writer copies what it is given), so a save allocates almost nothing per pair.
 */
export async function writePairs(writer: SnapshotWriter, pairs: Iterable<readonly [Uint8Array | string, Uint8Array]>,
  signal: AbortSignal): Promise<void> {
  let chunk = Buffer.allocUnsafe(CHUNK);
  let size = 0;
  const flush = async (): Promise<void> => {
    signal.throwIfAborted();
    await writer.write(chunk.subarray(0, size));
    size = 0;
  };
  // Makes room for `n` more bytes (a promise only when the chunk must be flushed first).
  const room = async (n: number): Promise<void> => {
    if (size > 0) await flush();
    if (n > chunk.length) chunk = Buffer.allocUnsafe(n);
  };
  size += MAGIC.copy(chunk, size);
  for (const [k, v] of pairs) {
    const n = 8 + k.length + v.length;
    if (size + n > chunk.length) await room(n);
    chunk.writeUInt32BE(k.length, size);
    chunk.writeUInt32BE(v.length, size + 4);
    size += 8;
    if (typeof k === 'string') chunk.write(k, size, 'latin1');
    else chunk.set(k, size);
    size += k.length;
    chunk.set(v, size);
    size += v.length;
    if (size >= CHUNK) await flush();
  }
  if (size + 4 > chunk.length) await room(4);
  chunk.writeUInt32BE(END, size);
  size += 4;
  await flush();
}

/** Parses an image fed in arbitrary chunks. */
export class PairReader {
  private buf: Buffer = Buffer.alloc(0);
  private sawMagic = false;
  private done = false;

  /**
   * Adds a chunk and returns the pairs it completes (copies, safe to keep).
   * @throws CodecError for a malformed image or bytes after its end.
   */
  push(chunk: Uint8Array): Array<[Uint8Array, Uint8Array]> {
    if (this.done && chunk.length > 0) throw new CodecError('KV snapshot has bytes after its end marker');
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: Array<[Uint8Array, Uint8Array]> = [];
    let at = 0;
    if (!this.sawMagic) {
      if (this.buf.length < MAGIC.length) return out;
      if (!this.buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new CodecError('not a KV snapshot image');
      this.sawMagic = true;
      at = MAGIC.length;
    }
    while (!this.done && this.buf.length - at >= 4) {
      const kl = this.buf.readUInt32BE(at);
      if (kl === END) {
        this.done = true;
        at += 4;
        if (at !== this.buf.length) throw new CodecError('KV snapshot has bytes after its end marker');
        break;
      }
      if (this.buf.length - at < 8) break;
      const vl = this.buf.readUInt32BE(at + 4);
      if (this.buf.length - at < 8 + kl + vl) break;
      const k = Uint8Array.from(this.buf.subarray(at + 8, at + 8 + kl));
      const v = Uint8Array.from(this.buf.subarray(at + 8 + kl, at + 8 + kl + vl));
      out.push([k, v]);
      at += 8 + kl + vl;
    }
    this.buf = this.buf.subarray(at);
    return out;
  }

  /** @throws CodecError when the image ended before its end marker. */
  end(): void {
    if (!this.done) throw new CodecError('KV snapshot image is truncated');
  }
}
