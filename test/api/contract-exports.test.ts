/**
 * The contracts a user implements or receives (dragonboat's raftio, `src/contracts/`) and
 * every type they name are exported from the package entry: this file imports each by name
 * from `src/index.ts` (the entry `sampan` resolves to), so a type that is not exported fails
 * the build rather than a user's. The runtime part checks the value exports among them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as sampan from '../../src/index.js';
import type {
  // NodeHostConfig and ShardConfig, and what their fields name.
  NodeHostConfig, ShardConfig, Logger, LogFields,
  // LogDB (NodeHostConfig.logDBFactory) and its records.
  LogDB, ReplicaUpdate, Bootstrap, EntryRange, ReplicaKey, Entry, HardState, SnapshotMeta, SnapshotFile, Membership,
  // Transport (NodeHostConfig.transportFactory) and its upcalls.
  Transport, TransportHandler, SnapshotReceiver, AddressResolver, TransportStats, RemoteStats, MessageBatch, Message,
  RandomSource, TcpTransportOptions, MemoryTransportOptions,
  // The state machines (startReplica and friends).
  StateMachine, ConcurrentStateMachine, OnDiskStateMachine, AnyStateMachine, StateMachineFactory, SMEntry, SMResult,
  SnapshotWriter, SnapshotReader, SnapshotFileInfo, SnapshotFileCollection,
} from '../../src/index.js';

/** Every contract type above, so that an unused import cannot hide a missing one. */
export type PublicContracts = [
  NodeHostConfig, ShardConfig, Logger, LogFields,
  LogDB, ReplicaUpdate, Bootstrap, EntryRange, ReplicaKey, Entry, HardState, SnapshotMeta, SnapshotFile, Membership,
  Transport, TransportHandler, SnapshotReceiver, AddressResolver, TransportStats, RemoteStats, MessageBatch, Message,
  RandomSource, TcpTransportOptions, MemoryTransportOptions,
  StateMachine, ConcurrentStateMachine, OnDiskStateMachine, AnyStateMachine, StateMachineFactory<StateMachine>, SMEntry, SMResult,
  SnapshotWriter, SnapshotReader, SnapshotFileInfo, SnapshotFileCollection,
];

test('the constants and classes the contracts name are exported from the package entry', () => {
  // Entry.type, Message.type and SnapshotMeta.type / Bootstrap.smType hold these constants.
  assert.equal(typeof sampan.EntryType.Application, 'number');
  assert.equal(typeof sampan.MessageType.Replicate, 'number');
  assert.equal(typeof sampan.StateMachineType.Regular, 'number');
  // MemoryNetwork.random is one.
  assert.equal(typeof sampan.SeededRandom, 'function');
});
