/**
 * Planted bugs, to show that the simulator catches them: each is a monkeypatch applied from
 * here (never a hook in production code), named on the command line with `--plant NAME`.
 *
 * - `fsync-lies`: the disk acknowledges fdatasync (the WAL's data sync) without making the data
 *   durable, so the host acknowledges writes before they are on disk.
 * - `snapshot-skips-sessions`: snapshots carry an empty client-session table (the session
 *   manager's encoder writes no sessions), so a replica recovered from one applies a retried
 *   session proposal again.
 * - `compaction-drops-needed`: after a snapshot, the log is compacted `compactionOverhead`
 *   entries past the snapshot index (the snapshot worker's clamp bypassed), dropping entries
 *   no snapshot holds that a restarted replica or a lagging follower still needs.
 * - `votes-ignore-log`: a voter grants its vote (and pre-vote) without the §5.4.1 check that
 *   the candidate's log is at least as up to date as its own (`RaftLog.isUpToDate` always
 *   true), so a candidate missing committed entries can win: leader completeness breaks.
 * - `lease-too-long`: a lease-mode leader's read lease runs 20 ticks past its bound (as if
 *   `leaseDriftTicks` were −20: far too small a bound for any drift), so a leader cut off from
 *   the others answers reads by lease after a new leader committed writes. Run it with
 *   `--read-mode lease`.
 */
import { SessionManager } from '../../src/rsm/sessions.js';
import { SnapshotWorker } from '../../src/host/snapshot-worker.js';
import { SimFs } from './sim-fs.js';
import { RaftLog } from '../../src/core/raft-log.js';
import { LeaderLease } from '../../src/core/lease.js';

/** The known plants. */
export const PLANTS: Record<string, () => void> = {
  'fsync-lies': () => {
    const proto = SimFs.prototype as unknown as { fdatasyncSync(fd: number): void };
    proto.fdatasyncSync = function fdatasyncLies(): void { /* acknowledged, not durable */ };
  },
  'snapshot-skips-sessions': () => {
    const encode = SessionManager.prototype.encode;
    SessionManager.prototype.encode = function encodeNoSessions(): Uint8Array {
      return encode.call(new SessionManager());
    };
  },
  'votes-ignore-log': () => {
    RaftLog.prototype.isUpToDate = function anyLogIsUpToDate(): boolean { return true; };
  },
  'lease-too-long': () => {
    const valid = LeaderLease.prototype.valid;
    LeaderLease.prototype.valid = function validTooLong(this: LeaderLease, incoming, outgoing, self, now, length): boolean {
      return valid.call(this, incoming, outgoing, self, now, length + 20);
    };
  },
  'compaction-drops-needed': () => {
    // The worker's own guard clamps compaction to the snapshot index (the first version of this
    // plant, which only moved the host's compaction point, was stopped by it): bypass it too.
    type Worker = { d: { cfg: { shardId: number; replicaId: number; compactionOverhead: number }; reader: { snapshot(): { index: number }; firstIndex(): number; lastIndex(): number; compact(i: number): void }; logdb: { compactEntriesTo(s: number, r: number, i: number): Promise<void> }; logCompacted(i: number): void } };
    const proto = SnapshotWorker.prototype as unknown as { compact(this: Worker, index: number): Promise<number> };
    proto.compact = async function compactPastSnapshot(this: Worker): Promise<number> {
      const { cfg, reader, logdb } = this.d;
      const upTo = Math.min(reader.lastIndex(), reader.snapshot().index + cfg.compactionOverhead);
      if (upTo < reader.firstIndex()) return 0;
      reader.compact(upTo);
      await logdb.compactEntriesTo(cfg.shardId, cfg.replicaId, upTo);
      this.d.logCompacted(upTo);
      return upTo;
    };
  },
};

/**
 * Applies the plant `name`.
 * @throws Error for an unknown name.
 */
export function applyPlant(name: string): void {
  const p = PLANTS[name];
  if (p === undefined) throw new Error(`unknown plant ${name}; known: ${Object.keys(PLANTS).join(', ')}`);
  p();
}
