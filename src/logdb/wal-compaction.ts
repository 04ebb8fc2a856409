/**
 * Space reclamation for the WAL. A segment is deleted once no live entry is located in it.
 * Idle replicas would pin old segments forever, so when the log holds more than twice its
 * live bytes (plus a few segments of slack) the segment with the smallest live fraction is
 * evacuated: its live entries are copied, byte for byte, into the current write as Copy
 * records, and it is deleted once that write is durable. A victim always has a live fraction
 * below one half, so each evacuation frees more than it writes. See README "Log storage".
 */
import { CorruptionError } from '../errors.js';
import type { Writer } from '../encoding/writer.js';
import type { SegmentFiles } from './segment-files.js';
import type { WalIndex } from './wal-index.js';
import { fixedEntryIndexAt } from '../encoding/entry.js';
import { beginRecord, endRecord, RecordType } from './wal-records.js';
import { replicaKey } from './log-db.js';

/** One entry moved by compaction: where it was and where the current write puts it. */
export interface CopiedEntry {
  readonly key: string;
  readonly index: number;
  readonly fromSeg: number;
  readonly fromOff: number;
  /** Position of the copy in the write buffer (made absolute on completion). */
  readonly bufPos: number;
}

/** True when the log holds more than the space bound allows. */
export function overBound(totalBytes: number, liveBytes: number, segmentBytes: number): boolean {
  return totalBytes > 2 * liveBytes + 2 * segmentBytes;
}

/** The sealed segment with the smallest live fraction below one half, or null. */
export function chooseVictim(segments: SegmentFiles, index: WalIndex, current: number): number | null {
  let best: number | null = null;
  let bestRatio = 0.5;
  for (const id of segments.ids()) {
    if (id === current) continue;
    const size = segments.size(id);
    const ratio = size === 0 ? 0 : (index.live.get(id) ?? 0) / size;
    if (ratio < bestRatio) { best = id; bestRatio = ratio; }
  }
  return best;
}

/**
 * Appends Copy records for up to about `budget` bytes of the victim's live entries.
 * @throws CorruptionError when the bytes read back are not the entry the index expects.
 */
export function copyLiveEntries(
  w: Writer, segments: SegmentFiles, index: WalIndex, victim: number, budget: number,
): CopiedEntry[] {
  const out: CopiedEntry[] = [];
  let copied = 0;
  for (const r of index.replicas.values()) {
    const { locs } = r;
    const key = replicaKey(r.shardId, r.replicaId);
    let i = locs.first;
    while (locs.count > 0 && i <= locs.last && copied < budget) {
      if (locs.segAt(i) !== victim) { i++; continue; }
      // A run of entries stored back to back in the victim: one read, one record.
      const off0 = locs.offAt(i);
      let j = i, end = off0;
      while (j <= locs.last && locs.segAt(j) === victim && locs.offAt(j) === end && copied + (end - off0) < budget) {
        end += locs.lenAt(j);
        j++;
      }
      const bytes = segments.read(victim, off0, end - off0);
      const at = beginRecord(w, RecordType.Copy, r.shardId, r.replicaId);
      w.u32le(j - i);
      const base = w.pos;
      w.ensure(bytes.length);
      w.buf.set(bytes, base);
      w.pos += bytes.length;
      endRecord(w, at);
      for (let k = i, p = 0; k < j; p += locs.lenAt(k), k++) {
        if (fixedEntryIndexAt(bytes, p) !== k) {
          throw new CorruptionError(`segment holds entry ${fixedEntryIndexAt(bytes, p)} where the index expects ${k}`,
            { file: segments.file(victim), offset: off0 + p });
        }
        out.push({ key, index: k, fromSeg: victim, fromOff: locs.offAt(k), bufPos: base + p });
      }
      copied += end - off0;
      i = j;
    }
    if (copied >= budget) break;
  }
  return out;
}
