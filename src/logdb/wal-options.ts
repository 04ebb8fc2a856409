/** The options of `WalLogDB.open`, their defaults and their validation. */
import { InvalidOptionError } from '../errors.js';
import { realRuntime, type FileSystem, type Runtime } from '../runtime/index.js';

const MiB = 1 << 20;

/** Options of `WalLogDB.open`. */
export interface WalLogDBOptions {
  /** The LogDB's directory; created if missing. */
  readonly dir: string;
  /** Where segment files go (e.g. a faster device), as dragonboat's WALDir. Default: `dir`. */
  readonly walDir?: string;
  /** A segment is sealed once it reaches this size. Default 64 MiB; 4 KiB to 1 GiB. */
  readonly segmentBytes?: number;
  /**
   * Sync writes and directories (default true). Off, a write survives a process crash but
   * not an OS crash or power loss; for tests and benchmarks only.
   */
  readonly fsync?: boolean;
  /**
   * Most bytes (by `entrySize`) of recent entries kept in memory for reads. Default 64 MiB. The
   * host releases each replica's applied entries at once (`releaseEntries`), so the budget is
   * reached only while a replica applies or a follower catches up slowly.
   */
  readonly cacheBytes?: number;
  /** Most live bytes compaction copies forward in one group commit. Default 4 MiB. */
  readonly compactionCopyBytes?: number;
  /**
   * Where the WAL takes its file system and clock (the sync observer's timings) from. Default
   * {@link realRuntime}. Its group commit hands off through a microtask, which is deterministic.
   */
  readonly runtime?: Runtime;
  /** The file system alone, overriding `runtime.fs` (a fault-injecting disk under a real clock). */
  readonly fs?: FileSystem;
}

/** {@link WalLogDBOptions} with every default filled in. */
export type ResolvedWalOptions = Required<Omit<WalLogDBOptions, 'walDir'>> & { readonly walDir: string };

/**
 * Fills defaults and validates.
 * @throws InvalidOptionError naming the bad option.
 */
export function resolveWalOptions(options: WalLogDBOptions): ResolvedWalOptions {
  const runtime = options.runtime ?? realRuntime;
  const opts = {
    dir: options.dir, walDir: options.walDir ?? options.dir, segmentBytes: options.segmentBytes ?? 64 * MiB, fsync: options.fsync ?? true,
    cacheBytes: options.cacheBytes ?? 64 * MiB, compactionCopyBytes: options.compactionCopyBytes ?? 4 * MiB,
    runtime, fs: options.fs ?? runtime.fs,
  };
  if (!Number.isInteger(opts.segmentBytes) || opts.segmentBytes < 4096 || opts.segmentBytes > 1024 * MiB) {
    throw new InvalidOptionError(`segmentBytes ${opts.segmentBytes} is not an integer in [4096, 1 GiB]`);
  }
  if (!(opts.cacheBytes >= 0) || !(opts.compactionCopyBytes >= 4096)) {
    throw new InvalidOptionError('cacheBytes must be >= 0 and compactionCopyBytes >= 4096');
  }
  return opts;
}
