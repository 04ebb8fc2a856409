/**
 * The KV service's commands and their results, in a compact binary form: the bytes a
 * proposal carries through Raft and the SMResult a state machine returns. The layout is part
 * of the replicated log, so it is versioned by its first byte and never changes in place.
 *
 * Command: `op:u8 | keyLen:u32be | key | …`
 *   put    (1): `… | value`                          (value: the rest)
 *   delete (2): nothing more
 *   cas    (3): `… | hasExpected:u8 | expLen:u32be | expected | value`
 *
 * Result: `value` is the entry's log index for put and delete; for cas it is 1 when the swap
 * happened and 0 when not, and `data` then carries the current value (see encodeOptional).
 */
import { CodecError } from '../index.js';

/** Operation tags: the first byte of an encoded command. */
export const KvOp = { Put: 1, Delete: 2, Cas: 3 } as const;
/** One of {@link KvOp}. */
export type KvOp = (typeof KvOp)[keyof typeof KvOp];

/** A decoded command. Keys and values are raw bytes. */
export type KvCommand =
  | { readonly op: typeof KvOp.Put; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly op: typeof KvOp.Delete; readonly key: Uint8Array }
  | { readonly op: typeof KvOp.Cas; readonly key: Uint8Array; readonly expected: Uint8Array | null; readonly value: Uint8Array };

function header(op: KvOp, key: Uint8Array, extra: number): { buf: Buffer; at: number } {
  const buf = Buffer.allocUnsafe(5 + key.length + extra);
  buf[0] = op;
  buf.writeUInt32BE(key.length, 1);
  buf.set(key, 5);
  return { buf, at: 5 + key.length };
}

/** Encodes a command for `propose`. */
export function encodeCommand(c: KvCommand): Uint8Array {
  switch (c.op) {
    case KvOp.Put: {
      const { buf, at } = header(c.op, c.key, c.value.length);
      buf.set(c.value, at);
      return buf;
    }
    case KvOp.Delete:
      return header(c.op, c.key, 0).buf;
    case KvOp.Cas: {
      const exp = c.expected ?? new Uint8Array(0);
      const { buf, at } = header(c.op, c.key, 5 + exp.length + c.value.length);
      buf[at] = c.expected === null ? 0 : 1;
      buf.writeUInt32BE(exp.length, at + 1);
      buf.set(exp, at + 5);
      buf.set(c.value, at + 5 + exp.length);
      return buf;
    }
  }
}

/**
 * Decodes a command from the log.
 * @throws CodecError for bytes that are not a command (a bug or a corrupt entry).
 */
export function decodeCommand(bytes: Uint8Array): KvCommand {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 5) throw new CodecError(`KV command of ${b.length} bytes is too short`);
  const op = b[0];
  const keyLen = b.readUInt32BE(1);
  if (5 + keyLen > b.length) throw new CodecError('KV command key overruns the entry');
  const key = b.subarray(5, 5 + keyLen);
  const rest = b.subarray(5 + keyLen);
  if (op === KvOp.Put) return { op, key, value: rest };
  if (op === KvOp.Delete) {
    if (rest.length !== 0) throw new CodecError('KV delete carries trailing bytes');
    return { op, key };
  }
  if (op === KvOp.Cas) {
    if (rest.length < 5) throw new CodecError('KV cas is truncated');
    const has = rest[0];
    const expLen = rest.readUInt32BE(1);
    if (5 + expLen > rest.length || (has !== 0 && has !== 1)) throw new CodecError('KV cas expected value is malformed');
    return { op, key, expected: has === 1 ? rest.subarray(5, 5 + expLen) : null, value: rest.subarray(5 + expLen) };
  }
  throw new CodecError(`unknown KV operation ${String(op)}`);
}

/** Encodes a value that may be absent: `0` alone, or `1` followed by the bytes. */
export function encodeOptional(v: Uint8Array | null): Uint8Array {
  if (v === null) return Uint8Array.of(0);
  const out = new Uint8Array(1 + v.length);
  out[0] = 1;
  out.set(v, 1);
  return out;
}

/**
 * Decodes {@link encodeOptional}.
 * @throws CodecError for malformed bytes.
 */
export function decodeOptional(b: Uint8Array | undefined): Uint8Array | null {
  if (b === undefined || b.length === 0 || b[0] === 0) {
    if (b !== undefined && b.length > 1) throw new CodecError('absent value carries bytes');
    return null;
  }
  if (b[0] !== 1) throw new CodecError('malformed optional value');
  return b.subarray(1);
}
