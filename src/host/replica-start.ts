/**
 * Starting one replica on a host: checks the bootstrap record and the state machine kind,
 * settles the cluster identity, opens the snapshotter (and an on-disk state machine), recovers
 * the newest snapshot, and hands the replica to the engine. Called by `NodeHost` under its
 * first-start lock (`start-cleanup.ts`), which undoes a failed first start.
 */
import { emptyMembership } from '../core/types.js';
import { membershipOf } from '../core/membership.js';
import { InvalidOptionError, ShardAlreadyExistsError } from '../errors.js';
import { Snapshotter } from '../snapshot/snapshotter.js';
import type { LogDB } from '../contracts/log-db.js';
import type { AnyStateMachine, StateMachineContext } from '../contracts/state-machine.js';
import { smTypeOf } from '../rsm/managed.js';
import type { ResolvedHostConfig, ResolvedShardConfig } from './config.js';
import type { TypedEmitter } from './events.js';
import { LogReader } from './log-reader.js';
import { Replica } from './replica.js';
import type { ReplicaHost } from './replica-host.js';
import type { SnapshotScheduler } from './snapshot-scheduler.js';
import { SnapshotWorker } from './snapshot-worker.js';
import { startIdentity, startMembers } from './start-identity.js';

/** What starting a replica needs of its host. */
export interface StartContext {
  /** The host's resolved configuration. */
  readonly hostCfg: ResolvedHostConfig;
  /** The host's LogDB. */
  readonly logdb: LogDB;
  /** The host's running replicas by shard id; the started one is added. */
  readonly replicas: Map<number, Replica>;
  /** The host's events (`snapshot:recovered`, `replica:ready`, compaction events). */
  readonly events: TypedEmitter;
  /** @throws ClosedError once the host is closed. */
  checkOpen(): void;
  /** The snapshot directory of a replica. */
  snapshotDir(shardId: number, replicaId: number): string;
  /** The host side of a replica. */
  replicaHost(): ReplicaHost;
  /** Records where a replica lives. */
  setAddress(shardId: number, replicaId: number, address: string): void;
  /** Schedules a replica for the engine's next pass. */
  setReady(r: Replica): void;
  /** This host's id (`nhid-…` members naming it are this host), if its directory has one. */
  readonly hostId?: string;
  /** The engine's snapshot workers: the recovery at start runs on them like any other. */
  readonly snapshots: SnapshotScheduler;
}

/**
 * Starts the replica `cfg` names with the state machine `create` makes.
 * @throws InvalidOptionError (bad members, another state machine kind than stored),
 *   ShardAlreadyExistsError, ClosedError; whatever recovering the snapshot throws.
 */
export async function startReplicaOnce(host: StartContext, initialMembers: ReadonlyMap<number, string>, join: boolean,
cfg: ResolvedShardConfig, create: (shardId: number, replicaId: number, context: StateMachineContext) => AnyStateMachine): Promise<void> {
  host.checkOpen();
  if (host.replicas.has(cfg.shardId)) throw new ShardAlreadyExistsError(cfg.shardId);
  const stored = host.logdb.getBootstrap(cfg.shardId, cfg.replicaId);
  const members = startMembers({ cfg, initialMembers, join, stored, raftAddress: host.hostCfg.raftAddress, hostId: host.hostId, logdb: host.logdb, logger: host.hostCfg.logger });
  const sm = create(cfg.shardId, cfg.replicaId, { runtime: host.hostCfg.runtime });
  const smType = smTypeOf(sm);
  if (stored !== null && stored.smType !== smType) {
    throw new InvalidOptionError(`shard ${cfg.shardId} replica ${cfg.replicaId} was started with another state machine kind`);
  }
  const reader = new LogReader(host.logdb, cfg.shardId, cfg.replicaId);
  const ss = reader.snapshot();
  const ident = startIdentity({ cfg, stored, initialMembers, join, smType, snapshot: ss, logger: host.hostCfg.logger });
  const snapshotter = new Snapshotter({ dir: host.snapshotDir(cfg.shardId, cfg.replicaId), shardId: cfg.shardId, replicaId: cfg.replicaId, logger: host.hostCfg.logger,
    runtime: host.hostCfg.runtime });
  await snapshotter.cleanupAtStart({ keepIndex: ss.index });
  let onDiskIndex = 0;
  if (sm.kind === 'on-disk') onDiskIndex = await sm.sm.open(new AbortController().signal);
  host.checkOpen(); // a host closing meanwhile must not get a bootstrap record it will not start
  if (ident.save !== null) await host.logdb.saveBootstrap(cfg.shardId, cfg.replicaId, ident.save);
  host.checkOpen();
  if (host.replicas.has(cfg.shardId)) throw new ShardAlreadyExistsError(cfg.shardId);
  const hardState = host.logdb.readHardState(cfg.shardId, cfg.replicaId);
  const r = new Replica(cfg, reader, sm, host.replicaHost(), {
    initialMembers: members.size > 0 ? members : undefined,
    hardState, membership: members.size > 0 ? membershipOf(members) : ss.index > 0 ? ss.membership : emptyMembership(), applied: ss.index,
  });
  r.rsm.onDiskIndex = onDiskIndex;
  r.clusterId = ident.clusterId;
  r.worker = new SnapshotWorker({
    cfg, sm, rsm: r.rsm, reader, logdb: host.logdb, snapshotter, logger: host.hostCfg.logger, signal: r.abort.signal,
    logCompacted: (index) => host.events.emit('log:compacted', { shardId: cfg.shardId, replicaId: cfg.replicaId, index }),
    snapshotsCompacted: (index) => host.events.emit('snapshot:compacted', { shardId: cfg.shardId, replicaId: cfg.replicaId, index }),
  });
  r.snapshotter = snapshotter;
  if (ss.index > 0) {
    // §6: a replica restarted from disk recovers from its newest snapshot, then replays the tail.
    const worker = r.worker;
    try {
      await host.snapshots.run(cfg.shardId, 'recover', () => worker.recover(ss, onDiskIndex));
    } catch (e) {
      await sm.sm.close();
      throw e;
    }
    r.counters.snapshotsRecovered++;
    host.events.emit('snapshot:recovered', { shardId: cfg.shardId, replicaId: cfg.replicaId, index: ss.index });
    host.checkOpen();
    if (host.replicas.has(cfg.shardId)) throw new ShardAlreadyExistsError(cfg.shardId);
  }
  if (members.size > 0) for (const [id, addr] of members) host.setAddress(cfg.shardId, id, addr);
  else for (const [id, addr] of stored?.members ?? []) host.setAddress(cfg.shardId, id, addr);
  for (const [id, addr] of [...r.rsm.membership.voters, ...r.rsm.membership.nonVoting, ...r.rsm.membership.witnesses]) {
    host.setAddress(cfg.shardId, id, addr);
  }
  host.replicas.set(cfg.shardId, r);
  host.events.emit('replica:ready', { shardId: cfg.shardId, replicaId: cfg.replicaId });
  host.setReady(r);
}
