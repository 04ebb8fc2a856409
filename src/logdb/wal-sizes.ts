/** Size helpers of the WAL's group commit (pure). */
import { entrySize, type HardState } from '../core/types.js';
import type { ReplicaUpdate } from '../contracts/log-db.js';
import { ENTRY_FIXED_HEADER_BYTES } from '../encoding/entry.js';

/** The part of a queued WAL call the size guess reads. */
export interface SizedOp { readonly kind: string; readonly updates?: readonly ReplicaUpdate[] }

/** True when `next` only moves the commit index on from `prev` (term and vote unchanged). */
export function commitOnly(prev: HardState, next: HardState): boolean {
  return prev.term === next.term && prev.vote === next.vote;
}

/** Size `entrySize` charges for a stored entry of `len` encoded bytes, without decoding it. */
export const storedEntrySize = (len: number): number => entrySize({ term: 0, index: 0, type: 0, key: 0, clientId: 0, seriesId: 0, respondedTo: 0, cmd: new Uint8Array(0) }) + len - ENTRY_FIXED_HEADER_BYTES;

/** A size guess for a commit's buffer, so laying it out rarely grows the buffer. */
export function estimateBytes(ops: readonly SizedOp[]): number {
  let n = 64 * 1024;
  for (const op of ops) {
    if (op.kind !== 'save' || op.updates === undefined) continue;
    for (const u of op.updates) {
      n += 128;
      for (const e of u.entries) n += e.cmd.length + ENTRY_FIXED_HEADER_BYTES;
    }
  }
  return n;
}
