/**
 * NodeHost: the public facade. One per process; it hosts many shards' replicas, which share
 * its LogDB, transport, engine and tick clock. Every operation is one async method taking
 * `{ signal?, timeoutMs? }`; failures are typed errors (see `errors.ts`).
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { ConfigChangeType, SeriesId, emptyMembership, type Membership, type Message } from '../core/types.js';
import { membershipOf } from '../core/membership.js';
import {
  ClosedError, InvalidOperationError, StateMachineError, InvalidOptionError, ShardAlreadyExistsError, ShardNotFoundError,
  RejectedError,
} from '../errors.js';
import { Snapshotter } from '../snapshot/snapshotter.js';
import { SnapshotWorker } from './snapshot-worker.js';
import { Pending } from './request.js';
import type { LogDB } from '../logdb/log-db.js';
import { WalLogDB } from '../logdb/wal-log-db.js';
import { smTypeOf, lookup } from '../rsm/managed.js';
import type {
  AnyStateMachine, ConcurrentStateMachine, OnDiskStateMachine, SMResult, StateMachine, StateMachineFactory,
} from '../statemachine.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import type { Transport, TransportHandler } from '../transport/transport.js';
import {
  resolveHostConfig, resolveShardConfig, isAddress,
  type NodeHostConfig, type ResolvedHostConfig, type ResolvedShardConfig, type ShardConfig,
} from './config.js';
import { lockHostDir } from './dir-lock.js';
import { ClusterIdentityGuard } from './cluster-identity.js';
import { startIdentity, startMembers } from './start-identity.js';
import { Engine } from './engine.js';
import { TypedEmitter, type NodeHostEventName, type NodeHostEvents } from './events.js';
import { LogReader } from './log-reader.js';
import { Replica, type ReplicaHost } from './replica.js';
import { replicaHostOf } from './replica-host.js';
import { throwIfAborted, type RequestOptions } from './request.js';
import { resolveSnapshotOptions, type SnapshotOptions } from './snapshot-options.js';
import { ClientSession } from './session.js';
import { FirstStartLock, ReplicaStarts } from './start-cleanup.js';
import { assertRemovable } from './removal-check.js';
import { wireObservers, type HostObserver } from './observer.js';
import { inboundHandler } from './inbound.js';
import { WorkLimiter } from './work-limiter.js';
import { LeaderTransfers, drainLeadership, type DrainResult } from './leadership.js';
import { replicaInfo, type LeaderInfo, type NodeHostInfo } from './nodehost-info.js';
import type { NodeHostStats } from './stats.js';

/** Options of a proposal. */
export interface ProposeOptions extends RequestOptions {
  /** A client session for exactly-once application (see {@link NodeHost.getNewSession}). */
  readonly session?: ClientSession;
}

/** Options of a membership change. */
export interface MembershipChangeOptions extends RequestOptions {
  /** With ordered config changes: the membership version the change expects. */
  readonly configChangeId?: number;
}

export type { SnapshotOptions } from './snapshot-options.js';
export type { LeaderInfo, ReplicaInfo, NodeHostInfo } from './nodehost-info.js';

/** A process's Raft host. Create with {@link NodeHost.create}. */
export class NodeHost {
  private readonly replicas = new Map<number, Replica>();
  private readonly events: TypedEmitter;
  private readonly engine: Engine;
  private readonly ticker: ReturnType<typeof setInterval>;
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Snapshot work beside stepping and applying: at most two saves, recoveries or streams at once. */
  private readonly snapshotWork = new WorkLimiter(2);
  /** Leader transfers callers wait for. */
  private readonly transfers = new LeaderTransfers();
  /** Addresses given to the transport, by `shard:replica`. */
  private readonly addresses = new Map<string, string>();
  /** Observers of measurements (metrics); none by default. */
  private readonly observers = new Set<HostObserver>();
  /** Refuses traffic from other clusters claiming a hosted shard (see cluster-identity.ts). */
  private readonly identity: ClusterIdentityGuard<Replica>;

  private constructor(
    private readonly cfg: ResolvedHostConfig,
    private readonly lock: FirstStartLock,
    private readonly logdb: LogDB,
    private readonly transportFactory: (h: TransportHandler) => Transport,
  ) {
    this.events = new TypedEmitter(cfg.logger);
    this.identity = new ClusterIdentityGuard({
      logger: cfg.logger, logdb, emit: (p) => this.events.emit('cluster:identity-mismatch', p), notify: (m) => { this.transport.send(m); },
    });
    this.transport = transportFactory(this.transportHandler());
    this.engine = new Engine(logdb, this.transport, cfg.logger, (err) => this.fatal(err), (r, m) => this.sendSnapshot(r, m));
    this.ticker = setInterval(() => this.tick(), cfg.rttMillisecond);
    this.ticker.unref?.();
    this.starts = new ReplicaStarts(logdb, (s, r) => this.replicas.get(s)?.replicaId === r, (s, r) => this.snapshotDir(s, r), cfg.logger);
  }

  private readonly starts: ReplicaStarts;
  private readonly transport: Transport;

  /**
   * Validates `config`, locks the host directory, opens the LogDB and starts the transport.
   * A failure after the lock, in directories that were empty or absent, removes what it created
   * there (see `start-cleanup.ts`): the retry finds them as they were.
   * @throws InvalidOptionError for a bad config, or a directory of another address/deployment.
   * @throws InvalidOperationError when another live host holds the directory.
   */
  static async create(config: NodeHostConfig): Promise<NodeHost> {
    const cfg = resolveHostConfig(config);
    const lock = FirstStartLock.before(cfg.nodeHostDir, cfg.walDir,
      () => lockHostDir(cfg.nodeHostDir, { raftAddress: cfg.raftAddress, deploymentId: cfg.deploymentId }));
    let logdb: LogDB | undefined;
    try {
      logdb = cfg.logDBFactory !== undefined
        ? await cfg.logDBFactory(cfg.nodeHostDir, cfg.walDir)
        : await WalLogDB.open({ dir: cfg.walDir ?? join(cfg.nodeHostDir, 'wal'), fsync: !cfg.unsafeNoFsync });
      const factory = cfg.transportFactory ?? ((handler: TransportHandler) => new TcpTransport({
        listenAddress: cfg.listenAddress, advertiseAddress: cfg.raftAddress, dialFromHost: cfg.dialFromHost,
        deploymentId: cfg.deploymentId, handler, tls: cfg.tls, logger: cfg.logger, stallTimeoutMs: cfg.transportStallTimeoutMs,
      }));
      const nh = new NodeHost(cfg, lock, logdb, factory);
      try {
        await nh.transport.start();
      } catch (e) {
        await nh.close();
        throw e;
      }
      lock.started();
      return nh;
    } catch (e) {
      if (logdb !== undefined && cfg.logDBFactory === undefined) await logdb.close().catch(() => {});
      lock.release();
      throw e;
    }
  }

  /** The address other hosts reach this one at. */
  get raftAddress(): string { return this.cfg.raftAddress; }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends NodeHostEventName>(name: K, fn: (payload: NodeHostEvents[K]) => void): () => void {
    return this.events.on(name, fn);
  }

  // ---- starting replicas --------------------------------------------------------------------

  /**
   * Starts a replica with a regular state machine: with `initialMembers` for a new shard,
   * `join` to join an existing one, or neither to restart from this host's data.
   * @throws InvalidOptionError, ShardAlreadyExistsError, ClosedError
   */
  async startReplica(initialMembers: ReadonlyMap<number, string>, join: boolean,
    create: StateMachineFactory<StateMachine>, config: ShardConfig): Promise<void> {
    await this.start(initialMembers, join, config, (s, r) => ({ kind: 'regular', sm: create(s, r) }));
  }

  /** As {@link startReplica}, with a concurrent state machine. */
  async startConcurrentReplica(initialMembers: ReadonlyMap<number, string>, join: boolean,
    create: StateMachineFactory<ConcurrentStateMachine>, config: ShardConfig): Promise<void> {
    await this.start(initialMembers, join, config, (s, r) => ({ kind: 'concurrent', sm: create(s, r) }));
  }

  /** As {@link startReplica}, with an on-disk state machine. */
  async startOnDiskReplica(initialMembers: ReadonlyMap<number, string>, join: boolean,
    create: StateMachineFactory<OnDiskStateMachine>, config: ShardConfig): Promise<void> {
    await this.start(initialMembers, join, config, (s, r) => ({ kind: 'on-disk', sm: create(s, r) }));
  }

  /** Starts a replica; a failed start of a replica with no data is undone (see `start-cleanup.ts`). */
  private async start(initialMembers: ReadonlyMap<number, string>, join: boolean, config: ShardConfig,
    create: (shardId: number, replicaId: number) => AnyStateMachine): Promise<void> {
    this.checkOpen();
    const cfg = resolveShardConfig(config);
    await this.starts.run(cfg.shardId, cfg.replicaId, () => this.startOnce(initialMembers, join, cfg, create));
  }

  private async startOnce(initialMembers: ReadonlyMap<number, string>, join: boolean, cfg: ResolvedShardConfig,
    create: (shardId: number, replicaId: number) => AnyStateMachine): Promise<void> {
    this.checkOpen();
    if (this.replicas.has(cfg.shardId)) throw new ShardAlreadyExistsError(cfg.shardId);
    const stored = this.logdb.getBootstrap(cfg.shardId, cfg.replicaId);
    const members = startMembers({ cfg, initialMembers, join, stored, raftAddress: this.cfg.raftAddress, logdb: this.logdb, logger: this.cfg.logger });
    const sm = create(cfg.shardId, cfg.replicaId);
    const smType = smTypeOf(sm);
    if (stored !== null && stored.smType !== smType) {
      throw new InvalidOptionError(`shard ${cfg.shardId} replica ${cfg.replicaId} was started with another state machine kind`);
    }
    const reader = new LogReader(this.logdb, cfg.shardId, cfg.replicaId);
    const ss = reader.snapshot();
    const ident = startIdentity({ cfg, stored, initialMembers, join, smType, snapshot: ss, logger: this.cfg.logger });
    const snapshotter = new Snapshotter({ dir: this.snapshotDir(cfg.shardId, cfg.replicaId), shardId: cfg.shardId, replicaId: cfg.replicaId, logger: this.cfg.logger });
    await snapshotter.cleanupAtStart();
    let onDiskIndex = 0;
    if (sm.kind === 'on-disk') onDiskIndex = await sm.sm.open(new AbortController().signal);
    this.checkOpen(); // a host closing meanwhile must not get a bootstrap record it will not start
    if (ident.save !== null) await this.logdb.saveBootstrap(cfg.shardId, cfg.replicaId, ident.save);
    this.checkOpen();
    if (this.replicas.has(cfg.shardId)) throw new ShardAlreadyExistsError(cfg.shardId);
    const hardState = this.logdb.readHardState(cfg.shardId, cfg.replicaId);
    const r = new Replica(cfg, reader, sm, this.replicaHost(), {
      initialMembers: members.size > 0 ? members : undefined,
      hardState, membership: members.size > 0 ? membershipOf(members) : ss.index > 0 ? ss.membership : emptyMembership(), applied: ss.index,
    });
    r.rsm.onDiskIndex = onDiskIndex;
    r.clusterId = ident.clusterId;
    r.worker = new SnapshotWorker({
      cfg, sm, rsm: r.rsm, reader, logdb: this.logdb, snapshotter, logger: this.cfg.logger, signal: r.abort.signal,
      logCompacted: (index) => this.events.emit('log:compacted', { shardId: cfg.shardId, replicaId: cfg.replicaId, index }),
      snapshotsCompacted: (index) => this.events.emit('snapshot:compacted', { shardId: cfg.shardId, replicaId: cfg.replicaId, index }),
    });
    r.snapshotter = snapshotter;
    if (ss.index > 0) {
      // §6: a replica restarted from disk recovers from its newest snapshot, then replays the tail.
      try {
        await r.worker.recover(ss, onDiskIndex);
      } catch (e) {
        await sm.sm.close();
        throw e;
      }
      r.counters.snapshotsRecovered++;
      this.events.emit('snapshot:recovered', { shardId: cfg.shardId, replicaId: cfg.replicaId, index: ss.index });
      this.checkOpen();
      if (this.replicas.has(cfg.shardId)) throw new ShardAlreadyExistsError(cfg.shardId);
    }
    if (members.size > 0) for (const [id, addr] of members) this.setAddress(cfg.shardId, id, addr);
    else for (const [id, addr] of stored?.members ?? []) this.setAddress(cfg.shardId, id, addr);
    for (const [id, addr] of [...r.rsm.membership.voters, ...r.rsm.membership.nonVoting, ...r.rsm.membership.witnesses]) {
      this.setAddress(cfg.shardId, id, addr);
    }
    this.replicas.set(cfg.shardId, r);
    this.events.emit('replica:ready', { shardId: cfg.shardId, replicaId: cfg.replicaId });
    this.engine.setReady(r);
  }

  private replicaHost(): ReplicaHost {
    return replicaHostOf({
      cfg: this.cfg, events: this.events, transfers: this.transfers, setReady: (r) => this.engine.setReady(r),
      setAddress: (s, id, a) => this.setAddress(s, id, a), removeAddress: (s, id) => this.removeAddress(s, id),
      runSnapshotWork: (work) => { void this.snapshotWork.run(work); },
    });
  }

  private snapshotDir(shardId: number, replicaId: number): string {
    return join(this.cfg.nodeHostDir, 'snapshots', `shard-${shardId}-replica-${replicaId}`);
  }

  // ---- requests -----------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new ClosedError('the NodeHost is closed');
  }

  private replica(shardId: number): Replica {
    this.checkOpen();
    const r = this.replicas.get(shardId);
    if (r === undefined) throw new ShardNotFoundError(shardId);
    return r;
  }

  /**
   * Proposes `cmd` to the shard and resolves with the state machine's result once applied on
   * this host; without a leader it waits for one, and after a leader change it is re-forwarded
   * only once it provably cannot commit (docs/operations.md). Retrying with the same session
   * and series id applies it at most once.
   * @throws ShardNotFoundError, SystemBusyError, DroppedError, RejectedError, TimeoutError (outcome unknown), ClosedError;
   *   InvalidOptionError for a session of another shard; InvalidOperationError for a session on an on-disk state machine
   */
  async propose(shardId: number, cmd: Uint8Array, opts?: ProposeOptions): Promise<SMResult> {
    throwIfAborted(opts?.signal);
    const r = this.replica(shardId);
    const s = opts?.session;
    if (s !== undefined && s.shardId !== shardId) throw new InvalidOptionError(`session belongs to shard ${s.shardId}`);
    if (s !== undefined && r.sm.kind === 'on-disk') throw new InvalidOperationError('on-disk state machines do not support client sessions');
    return await r.propose(cmd, s === undefined ? undefined : { clientId: s.clientId, seriesId: s.seriesId, respondedTo: s.respondedTo }, opts);
  }

  /**
   * Registers a new client session on the shard (a proposal).
   * @throws InvalidOperationError for an on-disk state machine (no sessions); RejectedError when
   *   the registration was refused; as {@link propose} otherwise.
   */
  async getNewSession(shardId: number, opts?: RequestOptions): Promise<ClientSession> {
    throwIfAborted(opts?.signal);
    const r = this.replica(shardId);
    if (r.sm.kind === 'on-disk') throw new InvalidOperationError('on-disk state machines do not support client sessions');
    const clientId = randomInt(1, 2 ** 47);
    const res = await r.propose(new Uint8Array(0), { clientId, seriesId: SeriesId.Register, respondedTo: 0 }, opts);
    if (res.value !== clientId) throw new RejectedError(`session ${clientId} could not be registered`);
    return new ClientSession(shardId, clientId);
  }

  /** Unregisters a client session (a proposal). @throws as {@link propose}. */
  async closeSession(session: ClientSession, opts?: RequestOptions): Promise<void> {
    throwIfAborted(opts?.signal);
    const r = this.replica(session.shardId);
    await r.propose(new Uint8Array(0), { clientId: session.clientId, seriesId: SeriesId.Unregister, respondedTo: 0 }, opts);
  }

  /**
   * Waits until a linearizable read may be served locally (ReadIndex, thesis §6.4), waiting for a leader if none.
   * @throws ShardNotFoundError; ClosedError (host closed, replica stopped); SystemBusyError (too
   *   many pending requests, rate limited); ClusterIdentityMismatchError; StateMachineError (the
   *   state machine failed); DroppedError when no leader appeared before the deadline;
   *   TimeoutError at the deadline or on abort.
   */
  async readIndex(shardId: number, opts?: RequestOptions): Promise<void> {
    throwIfAborted(opts?.signal);
    await this.replica(shardId).readIndex(opts);
  }

  /**
   * Queries the local state machine; linearizable only after {@link readIndex}.
   * @throws ShardNotFoundError; ClosedError when the host is closed; ClusterIdentityMismatchError;
   *   StateMachineError when the state machine failed; whatever its `lookup` throws.
   */
  async readLocal(shardId: number, query: unknown): Promise<unknown> {
    const r = this.replica(shardId);
    if (r.identityConflict !== null) throw r.identityConflict;
    if (r.failure !== null) throw new StateMachineError(`the state machine of shard ${shardId} failed`, { cause: r.failure });
    return await lookup(r.sm, query);
  }

  /** A linearizable read: ReadIndex, then a local lookup. @throws as {@link readIndex} and {@link readLocal}. */
  async read(shardId: number, query: unknown, opts?: RequestOptions): Promise<unknown> {
    await this.readIndex(shardId, opts);
    return await this.readLocal(shardId, query);
  }

  /** A local read that may be stale (no round trip). @throws as {@link readLocal}. */
  async staleRead(shardId: number, query: unknown): Promise<unknown> {
    return await this.readLocal(shardId, query);
  }

  private async changeMembership(shardId: number, type: ConfigChangeType, replicaId: number, address: string,
    opts?: MembershipChangeOptions): Promise<void> {
    throwIfAborted(opts?.signal);
    if (!Number.isSafeInteger(replicaId) || replicaId <= 0) throw new InvalidOptionError(`replica id ${replicaId} is invalid`);
    if (type !== ConfigChangeType.RemoveReplica && !isAddress(address)) throw new InvalidOptionError(`address '${address}' is not host:port`);
    const r = this.replica(shardId);
    await r.proposeConfigChange({
      type, replicaId, address, configChangeId: opts?.configChangeId ?? 0, initialize: false, ordered: r.cfg.orderedConfigChange,
    }, opts);
  }

  /**
   * Adds a voting replica (or promotes a non-voting one). Membership changes wait for a leader.
   * @throws InvalidOptionError for an invalid replica id or address; RejectedError when the
   *   shard refuses the change (e.g. a stale `configChangeId`, a removed id, a clashing address);
   *   DroppedError when no leader took it before the deadline; as {@link propose} otherwise.
   */
  async requestAddReplica(shardId: number, replicaId: number, address: string, opts?: MembershipChangeOptions): Promise<void> {
    await this.changeMembership(shardId, ConfigChangeType.AddVoter, replicaId, address, opts);
  }

  /** Adds a non-voting replica. @throws as {@link requestAddReplica}. */
  async requestAddNonVoting(shardId: number, replicaId: number, address: string, opts?: MembershipChangeOptions): Promise<void> {
    await this.changeMembership(shardId, ConfigChangeType.AddNonVoting, replicaId, address, opts);
  }

  /** Adds a witness. @throws as {@link requestAddReplica}. */
  async requestAddWitness(shardId: number, replicaId: number, address: string, opts?: MembershipChangeOptions): Promise<void> {
    await this.changeMembership(shardId, ConfigChangeType.AddWitness, replicaId, address, opts);
  }

  /**
   * Removes a replica; its id can never return.
   * @throws ReplicaNotFoundError when the id is not a member (checked linearizably; nothing is recorded)
   */
  async requestDeleteReplica(shardId: number, replicaId: number, opts?: MembershipChangeOptions): Promise<void> {
    if (Number.isSafeInteger(replicaId) && replicaId > 0) assertRemovable(await this.getShardMembership(shardId, opts), shardId, replicaId);
    await this.changeMembership(shardId, ConfigChangeType.RemoveReplica, replicaId, '', opts);
  }

  /** The shard's membership, linearizably (ReadIndex first). @throws as {@link readIndex}. */
  async getShardMembership(shardId: number, opts?: RequestOptions): Promise<Membership> {
    await this.readIndex(shardId, opts);
    return this.replica(shardId).rsm.membership;
  }

  /** Who this host believes leads the shard. @throws ShardNotFoundError; ClosedError when the host is closed. */
  getLeaderId(shardId: number): LeaderInfo {
    const p = this.replica(shardId).peer;
    return { leaderId: p.leaderId, term: p.term, valid: p.leaderId !== 0 };
  }

  /**
   * Moves leadership of the shard to voter `target` — or, with 0 (the default) on the leader's
   * host, to its most up-to-date active voter — and resolves once this host sees `target` lead.
   * @throws InvalidOptionError (a bad target; 0 where this replica does not lead or has no
   *   follower to pick); ShardNotFoundError; ClosedError; RejectedError when the transfer was abandoned (the target did not
   *   catch up within an election timeout) or leadership went elsewhere; TimeoutError.
   */
  async requestLeaderTransfer(shardId: number, target = 0, opts?: RequestOptions): Promise<void> {
    throwIfAborted(opts?.signal);
    await this.transfers.request(this.replica(shardId), target, opts, (r) => this.engine.setReady(r));
  }

  /**
   * Hands leadership of every shard this host leads to its best follower and waits for the new
   * leaders (bounded by `opts`), stopping nothing: before a restart. Never rejects for a shard.
   */
  async drain(opts?: RequestOptions): Promise<DrainResult> {
    this.checkOpen();
    return await drainLeadership(this.replicas.values(), this.transfers, opts, (r) => this.engine.setReady(r));
  }

  /**
   * Stops this host's replica of `shardId`; its data stays for a restart. Its pending requests
   * fail with ClosedError.
   * @throws ShardNotFoundError; ClosedError when the host is closed.
   */
  async stopShard(shardId: number): Promise<void> {
    const r = this.replica(shardId);
    this.replicas.delete(shardId);
    this.transfers.drop(r, new ClosedError(`replica ${r.replicaId} of shard ${shardId} stopped`));
    await r.stop();
    this.events.emit('replica:unloaded', { shardId, replicaId: r.replicaId });
  }

  /**
   * As {@link stopShard}, checking the replica id.
   * @throws ShardNotFoundError also when this host's replica of the shard has another id.
   */
  async stopReplica(shardId: number, replicaId: number): Promise<void> {
    const r = this.replica(shardId);
    if (r.replicaId !== replicaId) throw new ShardNotFoundError(shardId);
    await this.stopShard(shardId);
  }

  /** Removes a stopped replica's data from this host. @throws InvalidOperationError while it runs. */
  async removeData(shardId: number, replicaId: number): Promise<void> {
    this.checkOpen();
    if (this.replicas.get(shardId)?.replicaId === replicaId) {
      throw new InvalidOperationError(`replica ${replicaId} of shard ${shardId} is running; stop it first`);
    }
    await this.logdb.removeReplicaData(shardId, replicaId);
    await rm(this.snapshotDir(shardId, replicaId), { recursive: true, force: true });
  }

  /**
   * Takes a snapshot of the shard's replica on this host (SNAPSHOTS.md): resolves with its
   * index. Exported snapshots go to `exportPath` and never touch the log; they are taken even
   * when nothing was applied since the last snapshot. Compaction options follow dragonboat
   * (see snapshot-options.ts).
   * @throws ShardNotFoundError; DirNotExistError for a missing export directory (other stat
   *   errors as they are); InvalidOptionError; SystemBusyError when a request is pending;
   *   RejectedError when there is nothing new (local snapshots) or a snapshot is being taken;
   *   TimeoutError.
   */
  async requestSnapshot(shardId: number, opts: SnapshotOptions = {}): Promise<number> {
    throwIfAborted(opts.signal);
    const r = this.replica(shardId);
    const warn = (msg: string): void => this.cfg.logger.warn(msg, { shardId, replicaId: r.replicaId });
    const { target, compactTo } = await resolveSnapshotOptions(opts, (i) => r.defaultCompactTo(i), warn);
    return await r.requestSnapshot((cleanup) => ({ req: new Pending<number>(opts, cleanup), target, compactTo }));
  }

  /**
   * Compacts the log of the shard's replica up to its snapshot index less the configured
   * overhead (or `compactionIndex`), for replicas with automatic compaction disabled.
   * Resolves with the index compacted to (0 when nothing was compacted).
   */
  async requestCompaction(shardId: number, opts: { compactionIndex?: number } = {}): Promise<number> {
    const r = this.replica(shardId);
    const snap = r.reader.snapshot().index;
    const target = opts.compactionIndex ?? (snap > r.cfg.compactionOverhead ? snap - r.cfg.compactionOverhead : 0);
    if (target <= 0 || r.worker === null) return 0;
    return await r.worker.compact(target);
  }

  /** The replicas on this host and their state. */
  getNodeHostInfo(): NodeHostInfo {
    return { raftAddress: this.cfg.raftAddress, shards: [...this.replicas.values()].map(replicaInfo) };
  }

  /** The host's counters (engine, LogDB, transport, per replica), for metrics. Cheap: no I/O. */
  getStats(): NodeHostStats {
    return {
      engine: { ...this.engine.stats },
      logdb: this.logdb instanceof WalLogDB ? this.logdb.stats() : null,
      transport: this.transport.stats(),
      remotes: this.transport.remoteStats?.() ?? [],
      shards: [...this.replicas.values()].map((r) => ({
        shardId: r.shardId, replicaId: r.replicaId, campaigns: r.peer.status().campaigns, ...r.counters,
      })),
    };
  }

  /**
   * Adds an observer of measurements taken as they happen (engine pass and LogDB batch
   * timings, WAL fsync latency); returns the function that removes it. With no observer the
   * host reads no clock. A throwing observer is ignored.
   */
  observe(o: HostObserver): () => void {
    this.observers.add(o);
    this.wireObservers();
    return () => {
      this.observers.delete(o);
      this.wireObservers();
    };
  }

  private wireObservers(): void {
    wireObservers([...this.observers], this.engine, this.logdb, this.cfg.logger);
  }

  // ---- plumbing -----------------------------------------------------------------------------

  private tick(): void {
    this.transfers.tick();
    for (const r of this.replicas.values()) {
      // A quiesced replica has nothing to time (ticksDue is 0); any message or request wakes it.
      if (r.identityConflict !== null) continue;
      for (let n = r.ticksDue(); n > 0; n--) r.peer.tick();
      if (r.peer.hasUpdate()) this.engine.setReady(r);
    }
  }

  private transportHandler(): TransportHandler {
    return inboundHandler({
      logger: this.cfg.logger, replicas: this.replicas, identity: this.identity, events: this.events,
      // Lazily: the transport (and so this handler) is made before the engine.
      engine: { setReady: (r) => this.engine.setReady(r) },
      knowsAddress: (shardId, replicaId) => this.addresses.has(`${shardId}:${replicaId}`),
      setAddress: (shardId, replicaId, address) => this.setAddress(shardId, replicaId, address),
      deliver: (m) => this.deliver(m),
    });
  }

  private setAddress(shardId: number, replicaId: number, address: string): void {
    const key = `${shardId}:${replicaId}`;
    if (this.addresses.get(key) === address) return;
    this.addresses.set(key, address);
    this.transport.setAddress(shardId, replicaId, address);
  }

  private removeAddress(shardId: number, replicaId: number): void {
    this.addresses.delete(`${shardId}:${replicaId}`);
    this.transport.removeAddress(shardId, replicaId);
  }

  /** Streams a snapshot to a follower, holding the snapshot's files until the stream ends. */
  private sendSnapshot(r: Replica, m: Message): boolean {
    if (m.snapshot === null) return false;
    return r.streamSnapshot(m, (msg) => this.transport.sendSnapshot(msg));
  }

  private deliver(m: Message): void {
    const r = this.replicas.get(m.shardId);
    if (r === undefined || r.replicaId !== m.to || r.stopped || r.identityConflict !== null) return;
    r.stepInbound(m);
    this.engine.setReady(r);
  }

  private fatal(err: Error): void {
    this.events.emit('host:failed', { error: err });
    for (const r of this.replicas.values()) r.rejectAll(err);
    void this.close({ drainTimeoutMs: 0 });
  }

  /**
   * Hands over leadership of the shards it leads ({@link drain}; `drainTimeoutMs`, default two
   * election timeouts, 0 to skip), then stops every replica (pending requests fail with
   * ClosedError), the transport and the LogDB, and releases the directory. Idempotent.
   */
  async close(opts: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.closing !== null) return this.closing;
    const drainMs = opts.drainTimeoutMs ?? 2 * Math.max(0, ...[...this.replicas.values()].map((r) => r.cfg.electionRTT * this.cfg.rttMillisecond));
    this.closing = (async () => {
      if (drainMs > 0 && !this.closed) await this.drain({ timeoutMs: drainMs });
      this.closed = true;
      clearInterval(this.ticker);
      for (const r of this.replicas.values()) await r.stop();
      this.replicas.clear();
      this.engine.close();
      await this.engine.drain();
      await this.transport.close();
      await this.logdb.close();
      this.lock.release();
    })();
    return this.closing;
  }

  /**
   * Closes the host after the application's own first start failed; if `create` found the
   * host (and WAL) directory empty or absent, everything in it is removed before the lock is
   * released, so a corrected retry starts from nothing. Resolves with whether it removed.
   */
  async abandonFirstStart(): Promise<boolean> {
    const undo = this.closing === null && this.lock.abandon();
    await this.close({ drainTimeoutMs: 0 });
    return undo;
  }
}
