/**
 * The user's snapshot and compaction requests on one replica (`NodeHost.requestSnapshot`,
 * `requestCompaction`): options resolved (snapshot-options.ts), then handed to the replica's
 * one pending slot or its snapshot worker.
 */
import type { Logger } from '../logger.js';
import type { FileSystem } from '../runtime/index.js';
import type { Replica } from './replica.js';
import { Pending } from './request.js';
import { resolveSnapshotOptions, type SnapshotOptions } from './snapshot-options.js';

/** Takes (or exports) a snapshot of `r` (an export path checked through `fs`); resolves with its index. @throws as `NodeHost.requestSnapshot`. */
export async function requestSnapshot(r: Replica, opts: SnapshotOptions, logger: Logger, fs: FileSystem): Promise<number> {
  const warn = (msg: string): void => logger.warn(msg, { shardId: r.shardId, replicaId: r.replicaId });
  const { target, compactTo } = await resolveSnapshotOptions(opts, (i) => r.defaultCompactTo(i), warn, fs);
  return await r.requestSnapshot((cleanup) => ({ req: new Pending<number>(r.deadlines, opts, cleanup), target, compactTo }));
}

/** Compacts `r`'s log below its snapshot less the overhead (or to `compactionIndex`); resolves with the index (0: none). */
export async function requestCompaction(r: Replica, opts: { compactionIndex?: number }): Promise<number> {
  const snap = r.reader.snapshot().index;
  const target = opts.compactionIndex ?? (snap > r.cfg.compactionOverhead ? snap - r.cfg.compactionOverhead : 0);
  if (target <= 0 || r.worker === null) return 0;
  return await r.worker.compact(target);
}
