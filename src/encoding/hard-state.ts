/**
 * The schema of a hard state (term, vote, commit). Only the WAL stores it, in the fixed
 * layout: three little-endian u64.
 */
import type { HardState } from '../core/types.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/** Appends a hard state (fixed layout). */
export function writeHardStateFixed(w: Writer, hs: HardState): void { w.u64le(hs.term); w.u64le(hs.vote); w.u64le(hs.commit); }

/** Reads a fixed-layout hard state. @throws CodecError */
export function readHardStateFixed(r: Reader): HardState {
  return { term: r.u64le(), vote: r.u64le(), commit: r.u64le() };
}
