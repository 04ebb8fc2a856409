/**
 * sampan: multi-group Raft for Node.js. This module names every public export; the protocol
 * core is also available on its own as `sampan/core`.
 * @packageDocumentation
 * @module sampan
 */
export { NodeHost } from './host/nodehost.js';
export { ShardHandle } from './host/shard-handle.js';
export type { StartOptions, HandleOf, QueryOf, ResultOf } from './host/start-options.js';
export { shardId, replicaId } from './contracts/ids.js';
export type { ShardId, ReplicaId } from './contracts/ids.js';
export type { DrainResult } from './host/leadership.js';
export type { HostFailure } from './host/fail-stop.js';
export type { MoveTarget, MoveReplicaOptions, MoveResult, MoveStep } from './host/move-replica.js';
export type { MemberOp, JointChangeOptions } from './host/membership-calls.js';
export type {
  ProposeOptions, MembershipChangeOptions, SnapshotOptions, LeaderInfo, ReplicaInfo, NodeHostInfo, FollowerProgress,
} from './host/nodehost.js';
export type { RaftLogEntry, RaftLogQueryResult } from './host/log-query.js';
export type { StateHash } from './host/state-hash.js';
export type { Tracked, CommittedNotice } from './host/tracked-proposal.js';
export type { NodeHostConfig, ShardConfig } from './host/config.js';
export type { NodeHostStats, ShardStats } from './host/stats.js';
export type { EventLoopStats, GcStats, GcKindStats } from './host/loop-monitor.js';
export type { PlacementStats } from './host/leader-balancer.js';
export type { HostObserver } from './host/observer.js';
export type { EngineStats } from './host/engine.js';
export type { ReplicaCounters } from './host/replica-counters.js';
export type { QuorumHealth } from './core/quorum-health.js';
export type { WalStats } from './logdb/wal-log-db.js';

export type { RequestOptions } from './host/request.js';
export { ClientSession } from './host/session.js';
export type { NodeHostEvents, NodeHostEventName } from './host/events.js';
export { deriveClusterId, formatClusterId, parseClusterId, MAX_CLUSTER_ID } from './host/cluster-identity.js';
export { importSnapshot, importedMembership } from './host/import-snapshot.js';
export type { ImportSnapshotOptions } from './host/import-snapshot.js';
export type {
  StateMachine, ConcurrentStateMachine, OnDiskStateMachine, AnyStateMachine, StateMachineFactory, StateMachineContext,
  SMEntry, SMResult, SnapshotWriter, SnapshotReader, SnapshotFileInfo, SnapshotFileCollection,
} from './contracts/state-machine.js';
export type { Membership, SnapshotMeta } from './core/types.js';
// What the contracts (LogDB, Transport, MessageBatch) name, for their implementers: also in sampan/core.
export type { Entry, HardState, SnapshotFile, Message } from './core/types.js';
export { EntryType, MessageType, StateMachineType } from './core/types.js';
export type { RandomSource } from './core/random.js';
export { SeededRandom } from './core/random.js';
// The injectable runtime (NodeHostConfig.runtime): Node itself by default.
export type { Runtime, Clock, Timers, TimerHandle, ProcessInfo } from './runtime/index.js';
export type { RandomSource as RuntimeRandomSource } from './runtime/index.js';
export type { FileSystem, FileSystemPromises, FileHandle, FileStats, DirEntry, FsCallbackError, ReadResult, WriteResult } from './runtime/index.js';
export { realRuntime, realFileSystem } from './runtime/index.js';
export type { Logger, LogFields } from './logger.js';
export { noopLogger, consoleLogger } from './logger.js';
export type { LogDB, ReplicaUpdate, Bootstrap, EntryRange, ReplicaKey } from './contracts/log-db.js';
export { WalLogDB } from './logdb/wal-log-db.js';
export type { WalLogDBOptions } from './logdb/wal-log-db.js';
export { MemoryLogDB } from './logdb/memory-log-db.js';
export type {
  Transport, TransportHandler, TransportStats, RemoteStats, SnapshotReceiver, StreamedFileCheck, StreamVerification, AddressResolver,
} from './contracts/transport.js';
export type { MessageBatch } from './contracts/message-batch.js';
export { TcpTransport } from './transport/tcp-transport.js';
export type { TcpTransportOptions, TlsFiles } from './transport/tcp-options.js';
export { HostRegistry, isHostIdAddress, HOST_ID_ADDRESS_PREFIX } from './transport/host-registry.js';
export type { HostRegistryOptions, RegistryListener } from './transport/host-registry.js';
export type { HostEntry } from './transport/handshake.js';
export { MemoryNetwork } from './transport/memory-network.js';
export type { Faults, MemoryTransportOptions } from './transport/memory-network.js';
export type { MemoryTransport } from './transport/memory-transport.js';
export {
  SampanError, CallerError, RuntimeConditionError, InvalidOptionError, InvalidOperationError,
  PayloadTooBigError, CorruptionError, CodecError, ClosedError, EntriesCompactedError, LogUnavailableError, StorageError,
  ShardNotFoundError, ShardAlreadyExistsError, ShardNotReadyError, TimeoutError, SystemBusyError,
  RejectedError, NotEnoughLiveVotersError, DroppedError, DirNotExistError, ReplicaRemovedError, StateMachineError, ClusterIdentityMismatchError, SnapshotNotFoundError,
  ImportRollbackError, NotLeaderError,
  ReplicaNotFoundError, MissingDependencyError,
} from './errors.js';
export { exportDirName } from './snapshot/snapshot-names.js';
