/**
 * The transport contract (part of sampan's contracts, `src/contracts/`: dragonboat's
 * `raftio`): how a NodeHost hands Raft messages to other hosts and receives theirs.
 * Implementations: `TcpTransport` (TCP, optionally mutual TLS) and `MemoryTransport` (an
 * in-process network with fault injection, for tests).
 *
 * Delivery is best effort, like the network Raft was designed for: messages may be lost,
 * duplicated (by the in-memory network's fault injection) or, across reconnects, reordered;
 * Raft's own retries recover, and a leader appends a forwarded proposal delivered twice once. What a transport does guarantee:
 * - messages that reach the handler are exactly what was sent (checksummed, fully decoded,
 *   from a peer of the same deployment);
 * - messages to one remote host that go out on one connection arrive in the order sent;
 * - `send` never blocks and never throws for network reasons; a dead peer costs O(1) per message;
 * - every accepted `sendSnapshot` ends in exactly one `handleSnapshotStatus` call.
 */
import type { Message, SnapshotMeta } from '../core/types.js';
import type { MessageBatch } from './message-batch.js';

/** Checks one streamed file's bytes, in order, as they arrive (in memory, before the disk). */
export interface StreamedFileCheck {
  /**
   * The next bytes of the file. With `crcs`, the check also reports the CRC-32 of consecutive
   * pieces that cover `bytes` exactly, in order (the checksums it computes for itself), so that
   * a caller who needs the bytes' checksum too combines these instead of reading the bytes again.
   * @throws CorruptionError (or any error) on damage: the stream fails.
   */
  update(bytes: Uint8Array, crcs?: (length: number, crc: number) => void): void;
  /** Every byte arrived. @throws CorruptionError if the file is incomplete or damaged: the stream fails. */
  finish(): void;
}

/** How a completed stream's bytes were checked on the way in. */
export interface StreamVerification {
  /**
   * The CRC-32 of each file as written, in the order of `snapshot.filepath` (when not empty)
   * then `snapshot.files`, equal to the sender's: every byte arrived and was written as sent
   * (and fsynced). Files with a {@link SnapshotReceiver.checkFile} check also passed it.
   */
  readonly crcs: readonly number[];
}

/** Where incoming snapshot streams are written, and who hears about the result. */
export interface SnapshotReceiver {
  /**
   * The directory to write an incoming snapshot's files into (created if absent). Called once
   * per stream, before any file is written. Throwing rejects the stream.
   * @param from the sending replica id
   */
  tempDir(meta: SnapshotMeta, from: number): string;
  /**
   * Optional: a check of the bytes of streamed file `fileIndex` (0 is `meta.filepath` when not
   * empty, then `meta.files`) of `size` bytes, fed as chunks arrive; null for none. Lets the
   * receiver verify a file's own format on the way in instead of reading it back.
   */
  checkFile?(meta: SnapshotMeta, fileIndex: number, size: number): StreamedFileCheck | null;
  /**
   * All files arrived intact. `m` is the InstallSnapshot message with `snapshot.filepath` and
   * each `snapshot.files[i].filepath` rewritten to the local files in `tempDir`. `verified`
   * is set when the sender's CRCs matched what was written (a sender before issue 19 sends
   * none: the receiver must then read the files back to check them).
   *
   * A returned promise settles when the snapshot is committed and handed to its replica
   * (fulfilled) or refused (rejected, with the reason); the transport tells the sender the
   * stream succeeded only once it is fulfilled. Until the replica holds the snapshot, the
   * leader must not be told it does: it would probe the follower, be refused, and stream the
   * snapshot again. etcd's receiver likewise answers only after stepping the snapshot into raft.
   */
  complete(m: Message, verified?: StreamVerification): void | Promise<void>;
  /**
   * The stream broke (bad chunk, timeout, sender gone, disk error). Files already written to
   * `tempDir` are left for the host to remove.
   */
  failed(m: Message, err: Error): void;
}

/** Implemented by the host: the transport's upcalls. They run on the event loop and must not block. */
export interface TransportHandler {
  /** A decoded, checksummed batch from a peer of this deployment, holding network message kinds only. */
  handleMessageBatch(batch: MessageBatch): void;
  /**
   * Messages to `replicaId` of `shardId` could not be delivered (connection failed, circuit
   * open). The host feeds an Unreachable message to that shard so the leader probes instead of
   * streaming into the void. Reported at most once per replica per failure episode, not per message.
   */
  handleUnreachable(shardId: number, replicaId: number): void;
  /**
   * An outgoing connection to `address` was established (the remote answered on it), or failed
   * or stalled (once per outage, not per retry). For observers only; optional.
   */
  handleConnection?(address: string, established: boolean): void;
  /** The outcome of a snapshot stream started by an accepted {@link Transport.sendSnapshot}. */
  handleSnapshotStatus(shardId: number, replicaId: number, failed: boolean): void;
  /** Handles incoming snapshot streams. */
  readonly snapshotReceiver: SnapshotReceiver;
  /**
   * Optional: the cluster identity of this host's replica of `shardId` (0 when unknown), sent
   * with each of that shard's messages so that the receiving host can refuse traffic from
   * another cluster (see {@link MessageBatch.clusterIds}). Called on the send path: keep it O(1).
   */
  clusterIdOf?(shardId: number): number;
}

/**
 * Resolves a replica to the raft address of the host that runs it, as membership names it. The
 * static resolver fills it from initial members and membership changes; the TCP transport then
 * translates that address through its host registry, if it has one (hosts that moved, names
 * of the form `nhid-<host id>`; see `host-registry.ts`).
 */
export interface AddressResolver {
  /** The address of the host of (`shardId`, `replicaId`), or undefined if unknown. */
  resolve(shardId: number, replicaId: number): string | undefined;
  /** Records or replaces the address of a replica. */
  set(shardId: number, replicaId: number, address: string): void;
  /** Forgets a replica's address. */
  remove(shardId: number, replicaId: number): void;
}

/** Monotonic counters describing what a transport did since it was created. */
export interface TransportStats {
  /** Messages handed to the network (written to a socket, or to the in-memory network). */
  messagesSent: number;
  /** Bytes of message frames written (0 for the in-memory transport when it does not encode). */
  bytesSent: number;
  /** Message batches (frames) sent. */
  batchesSent: number;
  /** Messages delivered to the handler. */
  messagesReceived: number;
  /** Bytes of message frames read (0 for the in-memory transport when it does not encode). */
  bytesReceived: number;
  /** Message batches (frames) received and decoded. */
  batchesReceived: number;
  /** Messages not sent: no address, queue full, circuit open, connection lost, too big, closed. */
  messagesDropped: number;
  /** Frames rejected (bad magic/version/checksum/size, wrong deployment, protocol misuse, too slow). */
  badFrames: number;
  /** Outgoing connections that failed to open or broke (stalls included). */
  connectionFailures: number;
  /** Outgoing connections closed because they stopped making progress (a silent partition); see `stallTimeoutMs`. */
  connectionStalls: number;
  /** Incoming connections accepted. */
  connectionsAccepted: number;
  /** Incoming connections refused (over the connection limit, or failed TLS). */
  connectionsRejected: number;
  /** Unreachable upcalls made. */
  unreachableReported: number;
  /** Snapshot streams sent that completed. */
  snapshotsSent: number;
  /** Snapshot streams received that completed. */
  snapshotsReceived: number;
  /** Snapshot streams that failed, either way. */
  snapshotFailures: number;
  /** Bytes of snapshot stream frames written (headers and chunks). */
  snapshotBytesSent: number;
  /** Bytes of snapshot stream frames read. */
  snapshotBytesReceived: number;
}

/** The counters of one remote host a transport sends to (its message connection only). */
export interface RemoteStats {
  /** The remote's raft address. */
  readonly address: string;
  /** Whether the message connection is up now: open, and the remote answered its liveness Ping. */
  readonly connected: boolean;
  /** Messages written to the connection. */
  readonly messagesSent: number;
  /** Bytes of message frames written to the connection. */
  readonly bytesSent: number;
  /** Messages for this remote not sent (queue full, circuit open, connection lost, too big). */
  readonly messagesDropped: number;
  /** Connections to this remote that failed to open or broke (stalls included). */
  readonly connectionFailures: number;
  /** Of those, connections closed for want of progress (a silent partition). */
  readonly connectionStalls: number;
}

/** Moves messages between hosts. See the module comment for the delivery guarantees. */
export interface Transport {
  /** The address peers use to reach this host (valid after `start`). */
  readonly address: string;
  /**
   * Starts listening. Rejects if the address cannot be bound.
   * @throws ClosedError (rejection) if the transport was closed.
   */
  start(): Promise<void>;
  /**
   * Queues `m` for the host of (`m.shardId`, `m.to`). Messages queued for one host in the same
   * event-loop turn leave as one batch. Returns false if the message was dropped (no address,
   * queue full, circuit open, closed); never throws for network conditions.
   * @throws CodecError if `m` holds a field that cannot be encoded (a bug in the caller).
   */
  send(m: Message): boolean;

  /**
   * Optional: writes what is queued now rather than at the end of the event-loop turn. The
   * engine calls it once a pass has queued its Replicate messages, so they leave before the
   * pass's own log write begins.
   */
  flushPending?(): void;
  /**
   * Streams the files of `m.snapshot` (`filepath`, when not empty, then each of `files`) to the
   * host of `m.to` in checksummed chunks on a separate connection, then delivers `m` there
   * through {@link SnapshotReceiver.complete}. Returns false if refused at once (no address,
   * too many streams, closed), in which case no status is reported; otherwise exactly one
   * {@link TransportHandler.handleSnapshotStatus} follows.
   */
  sendSnapshot(m: Message): boolean;
  /** Records where a replica lives (static resolution; see {@link AddressResolver}). */
  setAddress(shardId: number, replicaId: number, address: string): void;
  /** Forgets a replica's address; later sends to it return false. */
  removeAddress(shardId: number, replicaId: number): void;
  /** A snapshot of the counters. */
  stats(): TransportStats;
  /** Optional: the counters of each remote host sent to, for metrics. */
  remoteStats?(): RemoteStats[];
  /** Stops listening, closes every connection and fails open snapshot streams. Idempotent. */
  close(): Promise<void>;
}
