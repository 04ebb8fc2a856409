/**
 * The wire bytes of the last run of entries a transport encoded, for the next message that
 * carries the very same entries. A leader's pass sends one Replicate per follower, and when
 * the followers are in step their entries are the same objects of the leader's log; encoding
 * them once and copying the bytes for the other followers halves the leader's encoding work
 * with two followers (issue 19: "one encoding of a Replicate for all followers").
 *
 * The run is recognised by the identity of its entry objects, element by element, never by
 * their indexes or terms: equal objects encode to equal bytes, so a hit can never put another
 * entry's bytes on the wire. Short runs are not kept (the copy would cost more than it saves).
 */
import type { Entry } from '../core/types.js';

/** Runs shorter than this are encoded every time. */
export const MIN_CACHED_RUN = 16;

/** One transport's last encoded run of entries (one slot). */
export class EntryRunCache {
  private entries: readonly Entry[] | null = null;
  private bytes: Buffer | null = null;
  /** Runs served from the cache (what the tests check). */
  hits = 0;

  /** The bytes of `entries` if they are the run last stored, element for element; else null. */
  lookup(entries: readonly Entry[]): Buffer | null {
    const last = this.entries;
    if (last === null || this.bytes === null || entries.length < MIN_CACHED_RUN || last.length !== entries.length) return null;
    for (let i = 0; i < entries.length; i++) if (last[i] !== entries[i]) return null;
    this.hits++;
    return this.bytes;
  }

  /** Keeps a copy of `bytes` as the encoding of `entries` (runs of at least {@link MIN_CACHED_RUN}). */
  store(entries: readonly Entry[], bytes: Uint8Array): void {
    if (entries.length < MIN_CACHED_RUN) return;
    // A copy of the references: an array changed in place after it was sent cannot match.
    this.entries = entries.slice();
    this.bytes = Buffer.from(bytes);
  }
}
