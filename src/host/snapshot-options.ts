/**
 * The options of `NodeHost.requestSnapshot`, checked and resolved the way dragonboat checks its
 * `SnapshotOption` (`SnapshotOption.Validate` and `node.getCompactionIndex`), since users port
 * code from it:
 *
 * - `compactionOverhead` and `compactionIndex` count only with `overrideCompactionOverhead:
 *   true`; without it they are ignored (with a warning) and the shard's configured overhead
 *   applies.
 * - With the override, setting both (each > 0) is InvalidOptionError.
 * - With the override and `compactionIndex` > 0, the log is compacted up to `compactionIndex`
 *   when the snapshot's index is above it, and not at all otherwise; with `compactionOverhead`
 *   (0 by default) up to `index − compactionOverhead`.
 * - Exports never compact the log.
 */
import { DirNotExistError, InvalidOptionError } from '../errors.js';
import type { FileSystem } from '../runtime/index.js';
import type { RequestOptions } from './request.js';
import type { SaveTarget } from './snapshot-worker.js';

/** Options of `NodeHost.requestSnapshot` (dragonboat's SnapshotOption). */
export interface SnapshotOptions extends RequestOptions {
  /** Write the snapshot to `exportPath` instead of the replica's own set; the log is untouched. */
  readonly exported?: boolean;
  /**
   * An existing directory for an exported snapshot, written as
   * `shard-<s>-replica-<r>-snapshot-<index, 16 hex digits>`. Ignored (with a warning) unless exporting.
   */
  readonly exportPath?: string;
  /**
   * With `overrideCompactionOverhead`: entries kept below the snapshot by this compaction.
   * Ignored (with a warning) without it.
   */
  readonly compactionOverhead?: number;
  /** Use `compactionOverhead` or `compactionIndex` instead of the shard's configured overhead. */
  readonly overrideCompactionOverhead?: boolean;
  /**
   * With `overrideCompactionOverhead` (and no `compactionOverhead`): compact the log up to this
   * index, if the snapshot's index is above it. Ignored (with a warning) without the override.
   */
  readonly compactionIndex?: number;
}

/** A request's destination and its compaction rule, once its options are checked. */
export interface ResolvedSnapshotOptions {
  readonly target: SaveTarget;
  /** The index to compact the log to after a local snapshot at `index`, or null for none. */
  readonly compactTo: (index: number) => number | null;
}

function checkCount(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidOptionError(`${name} ${v} is invalid`);
  return v;
}

/**
 * Checks `opts` (dragonboat's rules, in the module comment) and the export directory, and
 * resolves them. `defaultCompactTo` is the shard's own rule; `warn` logs an ignored option.
 * @throws InvalidOptionError for bad numbers, both compaction options with the override, or an
 *   export without a path; DirNotExistError when the export directory is missing or is not a
 *   directory (other stat errors as they are).
 */
export async function resolveSnapshotOptions(
  opts: SnapshotOptions, defaultCompactTo: (index: number) => number | null, warn: (msg: string) => void, fs: FileSystem,
): Promise<ResolvedSnapshotOptions> {
  const overhead = checkCount('compactionOverhead', opts.compactionOverhead);
  const compactionIndex = checkCount('compactionIndex', opts.compactionIndex);
  const override = opts.overrideCompactionOverhead === true;
  if (override && overhead > 0 && compactionIndex > 0) {
    throw new InvalidOptionError('compactionOverhead and compactionIndex cannot both be set');
  }
  if (!override && (overhead > 0 || compactionIndex > 0)) {
    warn('compactionOverhead and compactionIndex are ignored without overrideCompactionOverhead');
  }
  let target: SaveTarget = { kind: 'local' };
  if (opts.exported === true) {
    if (opts.exportPath === undefined || opts.exportPath === '') throw new InvalidOptionError('an exported snapshot needs exportPath');
    let st;
    try {
      st = await fs.promises.stat(opts.exportPath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new DirNotExistError(opts.exportPath);
      throw e;
    }
    if (!st.isDirectory()) throw new DirNotExistError(opts.exportPath);
    target = { kind: 'export', path: opts.exportPath };
  } else if (opts.exportPath !== undefined && opts.exportPath !== '') {
    warn('exportPath set when not exporting a snapshot; ignored');
  }
  const compactTo = (index: number): number | null => {
    if (!override) return defaultCompactTo(index);
    if (compactionIndex > 0) return index > compactionIndex ? compactionIndex : null;
    return index > overhead ? index - overhead : null;
  };
  return { target, compactTo };
}
