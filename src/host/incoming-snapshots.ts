/**
 * Snapshots streamed to this host's replicas by their leaders: the transport writes each into
 * a `.receiving` directory the replica's snapshotter prepares; once complete it is verified
 * and committed, and only then handed to the replica as its InstallSnapshot message. A stream
 * that breaks leaves nothing behind.
 *
 * The data file is checked as it streams in ({@link SnapshotStreamCheck}: its format, block
 * CRCs and the checksum the leader recorded) and every file's CRC is compared with the
 * sender's, so a snapshot from a sender of this release is committed and installed without
 * reading it back; one from an older sender (no CRCs) is read back in full before the commit.
 */
import type { Message } from '../core/types.js';
import { ShardNotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SnapshotEnv } from '../snapshot/snapshotter.js';
import { SnapshotStreamCheck } from '../snapshot/stream-check.js';
import type { SnapshotReceiver, StreamedFileCheck, StreamVerification } from '../contracts/transport.js';
import type { Replica } from './replica.js';

/** What the receiver needs from its host. */
export interface IncomingSnapshotsHost {
  readonly logger: Logger;
  replica(shardId: number): Replica | undefined;
  /** A committed snapshot: hand the message to its replica. */
  deliver(m: Message): void;
  received(r: Replica, index: number, from: number): void;
}

/** The host's {@link SnapshotReceiver}. */
export class IncomingSnapshots implements SnapshotReceiver {
  /** Streams in progress, by `shard:index:from`. */
  private readonly streams = new Map<string, { r: Replica; env: SnapshotEnv }>();

  constructor(private readonly host: IncomingSnapshotsHost) {}

  private take(m: Message): { r: Replica; env: SnapshotEnv } | undefined {
    const ss = m.snapshot;
    if (ss === null) return undefined;
    const k = `${ss.shardId}:${ss.index}:${m.from}`;
    const rec = this.streams.get(k);
    this.streams.delete(k);
    return rec;
  }

  /** @throws ShardNotFoundError when no running replica of the shard is here. */
  tempDir(meta: Parameters<SnapshotReceiver['tempDir']>[0], from: number): string {
    const r = this.host.replica(meta.shardId);
    if (r === undefined || r.snapshotter === null || r.stopped) throw new ShardNotFoundError(meta.shardId);
    const env = r.snapshotter.prepareReceive(meta);
    this.streams.set(`${meta.shardId}:${meta.index}:${from}`, { r, env });
    return env.tempDir;
  }

  /** The data file (stream file 0 when the snapshot has one) is checked as it arrives. @throws CorruptionError if too short to be one. */
  checkFile(meta: Parameters<SnapshotReceiver['tempDir']>[0], fileIndex: number, size: number): StreamedFileCheck | null {
    if (fileIndex !== 0 || meta.filepath === '') return null;
    return new SnapshotStreamCheck(meta.filepath, size, meta.checksum);
  }

  /**
   * Commits the received snapshot and hands it to its replica (whose Raft state takes it at
   * once); resolves then, so the transport acknowledges the stream only when the follower holds
   * the snapshot. Rejects (after logging it) when the snapshot was not committed: no replica
   * for it any more, out of date, damaged, or a storage error.
   */
  complete(m: Message, verified?: StreamVerification): Promise<void> {
    const rec = this.take(m);
    const ss = m.snapshot;
    const snapshotter = rec?.r.snapshotter;
    if (rec === undefined || ss === null || snapshotter === null || snapshotter === undefined) {
      return Promise.reject(new ShardNotFoundError(ss?.shardId ?? m.shardId));
    }
    const { r, env } = rec;
    return snapshotter.commitReceived(ss, env, verified?.crcs).then((committed) => {
      this.host.received(r, committed.index, m.from);
      this.host.deliver({ ...m, snapshot: committed });
    }, (e: unknown) => {
      this.host.logger.warn('received snapshot not committed', { shardId: r.shardId, replicaId: r.replicaId, from: m.from, error: (e as Error).message });
      throw e;
    });
  }

  failed(m: Message, err: Error): void {
    const rec = this.take(m);
    const ss = m.snapshot;
    if (ss === null) return;
    this.host.logger.warn('snapshot stream failed', { shardId: ss.shardId, replicaId: m.to, from: m.from, index: ss.index, error: err.message });
    if (rec?.r.snapshotter) void rec.r.snapshotter.removeTemp(rec.env).catch(() => {});
  }
}
