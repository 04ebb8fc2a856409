/**
 * NodeHost: the public facade. One per process; it hosts many shards' replicas, which share
 * its LogDB, transport, engine and tick clock. Every operation is one async method taking
 * `{ signal?, timeoutMs? }`; failures are typed errors (see `errors.ts`).
 */
import { join } from 'node:path';
import { ConfigChangeType, type Membership, type Message } from '../core/types.js';
import {
  ClosedError, InvalidOperationError, StateMachineError, StorageError, ShardNotFoundError,
  ReplicaRemovedError,
} from '../errors.js';
import type { LogDB, ReplicaKey } from '../contracts/log-db.js';
import { queryRaftLog, type RaftLogQueryResult } from './log-query.js';
import { verifyShard, type StateHash } from './state-hash.js';
import { track, type Tracked } from './tracked-proposal.js';
import { lookup } from '../rsm/managed.js';
import type { AnyStateMachine, ConcurrentStateMachine, OnDiskStateMachine, SMResult, StateMachine, StateMachineFactory } from '../contracts/state-machine.js';
import type { Transport, TransportHandler } from '../contracts/transport.js';
import {
  resolveHostConfig, resolveShardConfig,
  type NodeHostConfig, type ResolvedHostConfig, type ShardConfig,
} from './config.js';
import { lockHostDir } from './dir-lock.js';
import { openLogDB, transportFactoryOf } from './host-parts.js';
import { ClusterIdentityGuard } from './cluster-identity.js';
import { Engine } from './engine.js';
import { TypedEmitter, type NodeHostEventName, type NodeHostEvents } from './events.js';
import type { Replica } from './replica.js';
import { replicaHostOf, type ReplicaHost } from './replica-host.js';
import { throwIfAborted, type RequestOptions } from './request.js';
import type { MembershipChangeOptions, ProposeOptions } from './call-options.js';
import type { SnapshotOptions } from './snapshot-options.js';
import { requestCompaction, requestSnapshot } from './snapshot-requests.js';
import type { ClientSession } from './session.js';
import { proposalSession, registerSession, unregisterSession } from './session-requests.js';
import { AddressBook } from './address-book.js';
import { changeMembership } from './membership-request.js';
import { FirstStartLock, ReplicaStarts } from './start-cleanup.js';
import { assertRemovable } from './removal-check.js';
import { wireObservers, type HostObserver } from './observer.js';
import { inboundHandler } from './inbound.js';
import { LeaderTransfers, drainLeadership, type DrainResult } from './leadership.js';
import { Deadlines } from './deadlines.js';
import { HostTicker } from './host-ticker.js';
import type { Runtime } from '../runtime/index.js';
import { replicaInfo, type LeaderInfo, type NodeHostInfo } from './nodehost-info.js';
import { addAfterCatchUp, requestJointChange, requestLeaveJoint, jointHostOf, type JointChangeOptions, type JointHost, type MemberOp } from './membership-calls.js';
import { moveReplica, type MoveReplicaOptions, type MoveResult, type MoveTarget } from './move-replica.js';
import { hostStats, type NodeHostStats } from './stats.js';
import { LeaderBalancer } from './leader-balancer.js';
import { startReplicaOnce, type StartContext } from './replica-start.js';
import { startArgs, type HandleOf, type StartArgs, type StartOptions } from './start-options.js';
import { ShardHandle } from './shard-handle.js';
import { FailStop } from './fail-stop.js';
import { shardId as toShardId, type ReplicaId, type ShardId } from '../contracts/ids.js';

export type { ProposeOptions, MembershipChangeOptions } from './call-options.js';
export type { SnapshotOptions } from './snapshot-options.js';
export type { LeaderInfo, ReplicaInfo, NodeHostInfo, FollowerProgress } from './nodehost-info.js';

/** A process's Raft host. Create with {@link NodeHost.create}. */
export class NodeHost {
  private readonly replicas = new Map<number, Replica>();
  private readonly events: TypedEmitter;
  private readonly engine: Engine;
  private readonly ticker: HostTicker;
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Leader transfers callers wait for. */
  private readonly transfers: LeaderTransfers;
  /** Every pending request's timeout, on one timer of the runtime. */
  private readonly deadlines: Deadlines;
  /** Addresses given to the transport. */
  private readonly addresses = new AddressBook(() => this.transport);
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
    const rt = cfg.runtime;
    this.deadlines = new Deadlines(10, rt);
    this.transfers = new LeaderTransfers(this.deadlines);
    this.identity = new ClusterIdentityGuard({
      logger: cfg.logger, logdb, now: () => rt.clock.now(), emit: (p) => this.events.emit('cluster:identity-mismatch', p), notify: (m) => { this.transport.send(m); },
    });
    this.transport = transportFactory(this.transportHandler());
    this.failStop = new FailStop({ logger: cfg.logger, events: this.events, logdb, stopHost: (err) => {
      for (const r of this.replicas.values()) r.rejectAll(err);
      this.close({ drainTimeoutMs: 0 }).catch(() => {});
    } });
    this.engine = new Engine(logdb, this.transport, cfg.logger, (err) => this.failStop.host(err), (r, m) => this.sendSnapshot(r, m), rt);
    this.balancer = new LeaderBalancer({ logger: cfg.logger, balance: cfg.leaderBalancing, rttMs: cfg.rttMillisecond, random: () => rt.random.float(),
      replicas: () => this.replicas.values(), moved: (r, m) => this.events.emit('leader:placement', { ...m, replicaId: r.replicaId }),
      transfer: (r, target, timeoutMs) => this.transfers.request(r, target, { timeoutMs }, (x) => this.engine.setReady(x)) });
    this.events.on('leader:updated', () => this.balancer.leaderChanged());
    this.ticker = new HostTicker(rt.timers, cfg.rttMillisecond,
      { transfers: this.transfers, balancer: this.balancer, replicas: () => this.replicas.values(), setReady: (r) => this.engine.setReady(r) });
    this.starts = new ReplicaStarts(logdb, (s, r) => this.replicas.get(s)?.replicaId === r, (s, r) => this.snapshotDir(s, r), cfg.logger, cfg.runtime.fs);
  }

  private readonly starts: ReplicaStarts;
  /** Stops the host when its WAL fails, a replica when its snapshot storage does (fail-stop.ts). */
  private readonly failStop: FailStop;
  /** Leader priority and balancing (leader-balancer.ts). */
  private readonly balancer: LeaderBalancer;
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
      () => lockHostDir(cfg.nodeHostDir, { raftAddress: cfg.raftAddress, deploymentId: cfg.deploymentId }, cfg.logger, cfg.runtime), cfg.runtime.fs);
    let logdb: LogDB | undefined;
    try {
      logdb = await openLogDB(cfg);
      const nh = new NodeHost(cfg, lock, logdb, transportFactoryOf(cfg, lock.identity));
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

  /** The runtime this host runs on (`NodeHostConfig.runtime`; Node's by default). */
  get runtime(): Runtime { return this.cfg.runtime; }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends NodeHostEventName>(name: K, fn: (payload: NodeHostEvents[K]) => void): () => void {
    return this.events.on(name, fn);
  }

  // ---- starting replicas --------------------------------------------------------------------

  /**
   * Starts a replica with a regular state machine: with `initialMembers` for a new shard,
   * `join` to join an existing one, or neither to restart from this host's data. The options
   * form ({@link StartOptions}) takes the same four things by name and resolves with a
   * {@link ShardHandle} typed by the state machine's `lookup`.
   * @throws InvalidOptionError, ShardAlreadyExistsError, ClosedError
   */
  async startReplica<SM extends StateMachine>(options: StartOptions<SM>): Promise<HandleOf<SM>>;
  async startReplica(initialMembers: ReadonlyMap<ReplicaId, string>, join: boolean,
    create: StateMachineFactory<StateMachine>, config: ShardConfig): Promise<void>;
  async startReplica(...args: StartArgs<StateMachine>): Promise<ShardHandle | void> {
    return await this.start(args, (sm) => ({ kind: 'regular', sm }));
  }

  /** As {@link startReplica}, with a concurrent state machine. */
  async startConcurrentReplica<SM extends ConcurrentStateMachine>(options: StartOptions<SM>): Promise<HandleOf<SM>>;
  async startConcurrentReplica(initialMembers: ReadonlyMap<ReplicaId, string>, join: boolean,
    create: StateMachineFactory<ConcurrentStateMachine>, config: ShardConfig): Promise<void>;
  async startConcurrentReplica(...args: StartArgs<ConcurrentStateMachine>): Promise<ShardHandle | void> {
    return await this.start(args, (sm) => ({ kind: 'concurrent', sm }));
  }

  /** As {@link startReplica}, with an on-disk state machine. */
  async startOnDiskReplica<SM extends OnDiskStateMachine>(options: StartOptions<SM>): Promise<HandleOf<SM>>;
  async startOnDiskReplica(initialMembers: ReadonlyMap<ReplicaId, string>, join: boolean,
    create: StateMachineFactory<OnDiskStateMachine>, config: ShardConfig): Promise<void>;
  async startOnDiskReplica(...args: StartArgs<OnDiskStateMachine>): Promise<ShardHandle | void> {
    return await this.start(args, (sm) => ({ kind: 'on-disk', sm }));
  }

  /** Starts a replica; a failed start of a replica with no data is undone (see `start-cleanup.ts`). */
  private async start<SM>(args: StartArgs<SM>, tag: (sm: SM) => AnyStateMachine): Promise<ShardHandle | void> {
    this.checkOpen();
    const { initialMembers, join, create, config, options } = startArgs(args);
    const cfg = resolveShardConfig(config);
    await this.starts.run(cfg.shardId, cfg.replicaId,
      () => startReplicaOnce(this.startContext(), initialMembers, join, cfg, (s, r, ctx) => tag(create(s, r, ctx))));
    return options ? this.shard(cfg.shardId) : undefined;
  }

  private startContext(): StartContext {
    return {
      hostCfg: this.cfg, logdb: this.logdb, replicas: this.replicas, events: this.events, checkOpen: () => this.checkOpen(),
      snapshotDir: (s, r) => this.snapshotDir(s, r), replicaHost: () => this.replicaHost(),
      setAddress: (s, r, a) => this.addresses.set(s, r, a), setReady: (r) => this.engine.setReady(r), snapshots: this.engine.snapshots,
      hostId: this.lock.identity?.hostId,
    };
  }

  /**
   * A handle on this host's replica of `shardId`: the calls below without the shard id, and
   * `read` typed `Q` → `R`. Lazy: the shard is looked up on each call, so a handle made before
   * a start works after it, and a handle to a stopped shard throws ShardNotFoundError on use.
   * @throws InvalidOptionError when `shardId` is not a positive safe integer.
   */
  shard<Q = unknown, R = unknown>(shardId: ShardId): ShardHandle<Q, R> {
    return new ShardHandle<Q, R>(this, toShardId(shardId));
  }

  private replicaHost(): ReplicaHost {
    return replicaHostOf({
      cfg: this.cfg, events: this.events, transfers: this.transfers, setReady: (r) => this.engine.setReady(r),
      setAddress: (s, id, a) => this.addresses.set(s, id, a), removeAddress: (s, id) => this.addresses.remove(s, id),
      snapshots: this.engine.snapshots, applyBudget: this.engine.applyBudget, deadlines: this.deadlines, storageFailed: (r, e) => this.failStop.replica(r, e),
    });
  }

  private snapshotDir(shardId: number, replicaId: number): string {
    return join(this.cfg.nodeHostDir, 'snapshots', `shard-${shardId}-replica-${replicaId}`);
  }

  // ---- requests -----------------------------------------------------------------------------

  private checkOpen(): void {
    this.failStop.throwIfFailed();
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
  propose(shardId: ShardId, cmd: Uint8Array, opts?: ProposeOptions): Promise<SMResult> {
    // Not an async function: the replica's promise goes to the caller as it is (one promise and
    // one microtask hop less per proposal); every refusal still arrives as a rejection.
    try {
      throwIfAborted(opts?.signal);
      const r = this.replica(shardId);
      return r.propose(cmd, proposalSession(r, shardId, opts?.session), opts, opts?.onCommitted);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * As {@link propose}, with both of dragonboat's notifications: `committed` (the index, once
   * committed) and then `applied` (the result). The host's `notifyCommit` does not apply here.
   */
  proposeTracked(shardId: ShardId, cmd: Uint8Array, opts?: ProposeOptions): Tracked<SMResult> {
    return track((onCommitted) => this.propose(shardId, cmd, { ...opts, onCommitted }));
  }

  /**
   * Registers a new client session on the shard (a proposal).
   * @throws InvalidOperationError for an on-disk state machine (no sessions); RejectedError when
   *   the registration was refused; as {@link propose} otherwise.
   */
  async getNewSession(shardId: ShardId, opts?: RequestOptions): Promise<ClientSession> {
    throwIfAborted(opts?.signal);
    return await registerSession(this.replica(shardId), shardId, opts);
  }

  /** Unregisters a client session (a proposal). @throws as {@link propose}. */
  async closeSession(session: ClientSession, opts?: RequestOptions): Promise<void> {
    throwIfAborted(opts?.signal);
    await unregisterSession(this.replica(session.shardId), session, opts);
  }

  /**
   * Waits until a linearizable read may be served locally (ReadIndex, thesis §6.4), waiting for a leader if none.
   * @throws ShardNotFoundError; ClosedError (host closed, replica stopped); SystemBusyError (too
   *   many pending requests, rate limited); ClusterIdentityMismatchError; StateMachineError (the
   *   state machine failed); DroppedError when no leader appeared before the deadline;
   *   TimeoutError at the deadline or on abort.
   */
  async readIndex(shardId: ShardId, opts?: RequestOptions): Promise<void> {
    throwIfAborted(opts?.signal);
    await this.replica(shardId).readIndex(opts);
  }

  /**
   * Queries the local state machine; linearizable only after {@link readIndex}.
   * @throws ShardNotFoundError; ClosedError when the host is closed; ClusterIdentityMismatchError;
   *   ReplicaRemovedError; StateMachineError when the state machine failed; whatever its `lookup` throws.
   */
  async readLocal<Q = unknown, R = unknown>(shardId: ShardId, query: Q): Promise<NoInfer<R>> {
    const r = this.replica(shardId);
    if (r.identityConflict !== null) throw r.identityConflict;
    if (r.removed) throw new ReplicaRemovedError(shardId, r.replicaId);
    if (r.failure !== null) throw r.failure instanceof StorageError ? r.failure : new StateMachineError(`the state machine of shard ${shardId} failed`, { cause: r.failure });
    return await lookup(r.sm, query) as R;
  }

  /** A linearizable read: ReadIndex, then a local lookup. @throws as {@link readIndex} and {@link readLocal}. */
  async read<Q = unknown, R = unknown>(shardId: ShardId, query: Q, opts?: RequestOptions): Promise<NoInfer<R>> {
    await this.readIndex(shardId, opts);
    return await this.readLocal<Q, R>(shardId, query);
  }

  /** A local read that may be stale (no round trip). @throws as {@link readLocal}. */
  async staleRead<Q = unknown, R = unknown>(shardId: ShardId, query: Q): Promise<NoInfer<R>> {
    return await this.readLocal<Q, R>(shardId, query);
  }

  /**
   * Adds a voting replica (or promotes a non-voting one). Membership changes wait for a leader.
   * @throws InvalidOptionError for an invalid replica id or address; RejectedError when the
   *   shard refuses the change (e.g. a stale `configChangeId`, a removed id, a clashing address);
   *   NotEnoughLiveVotersError (a RejectedError) when the leader finds the new configuration
   *   would lack a quorum of live voters (unless `force`; use `catchUpFirst` to grow a shard);
   *   DroppedError when no leader took it before the deadline; as {@link propose} otherwise.
   */
  async requestAddReplica(shardId: ShardId, replicaId: ReplicaId, address: string, opts?: MembershipChangeOptions): Promise<void> {
    if (opts?.catchUpFirst === true) return await addAfterCatchUp(this.jointHost(), shardId, replicaId, address, opts);
    await changeMembership(() => this.replica(shardId), ConfigChangeType.AddVoter, replicaId, address, opts);
  }

  /** Adds a non-voting replica. @throws as {@link requestAddReplica}. */
  async requestAddNonVoting(shardId: ShardId, replicaId: ReplicaId, address: string, opts?: MembershipChangeOptions): Promise<void> {
    await changeMembership(() => this.replica(shardId), ConfigChangeType.AddNonVoting, replicaId, address, opts);
  }

  /** Adds a witness. @throws as {@link requestAddReplica}. */
  async requestAddWitness(shardId: ShardId, replicaId: ReplicaId, address: string, opts?: MembershipChangeOptions): Promise<void> {
    await changeMembership(() => this.replica(shardId), ConfigChangeType.AddWitness, replicaId, address, opts);
  }

  /**
   * Removes a replica; its id can never return.
   * @throws ReplicaNotFoundError when the id is not a member (checked linearizably; nothing is recorded); NotEnoughLiveVotersError as {@link requestAddReplica} (removing a live voter)
   */
  async requestDeleteReplica(shardId: ShardId, replicaId: ReplicaId, opts?: MembershipChangeOptions): Promise<void> {
    if (Number.isSafeInteger(replicaId) && replicaId > 0) assertRemovable(await this.getShardMembership(shardId, opts), shardId, replicaId);
    await changeMembership(() => this.replica(shardId), ConfigChangeType.RemoveReplica, replicaId, '', opts);
  }

  /** Applies `ops` as one joint change (thesis §4.3); resolves once the final configuration applies here. @throws as `requestJointChange` in membership-calls.ts. */
  async requestJointChange(shardId: ShardId, ops: readonly MemberOp[], opts?: JointChangeOptions): Promise<void> {
    await requestJointChange(this.jointHost(), shardId, ops, opts);
  }

  /** Leaves the joint configuration (a change made with `autoLeave: false`). @throws as `requestLeaveJoint` in membership-calls.ts. */
  async requestLeaveJoint(shardId: ShardId, opts?: RequestOptions): Promise<void> {
    await requestLeaveJoint(this.jointHost(), shardId, opts);
  }

  private jointHost(): JointHost {
    return jointHostOf(this, async (id, cc, o) => {
      const r = this.replica(id);
      await r.proposeConfigChange({ ...cc, ordered: r.cfg.orderedConfigChange }, o, undefined, o?.force === true);
    }, (id) => this.replica(id).rsm.membership, (id) => this.replica(id).removed, this.cfg.runtime);
  }

  /** The shard's membership, linearizably (ReadIndex first). @throws as {@link readIndex}. */
  async getShardMembership(shardId: ShardId, opts?: RequestOptions): Promise<Membership> {
    await this.readIndex(shardId, opts);
    return this.replica(shardId).rsm.membership;
  }

  /** Who this host believes leads the shard. @throws ShardNotFoundError; ClosedError when the host is closed. */
  getLeaderId(shardId: ShardId): LeaderInfo {
    const p = this.replica(shardId).peer;
    return { leaderId: p.leaderId, term: p.term, valid: p.leaderId !== 0 };
  }

  /** etcd's ForgetLeader: a follower forgets its leader (see `Peer.forgetLeader`); false when a no-op. @throws as {@link getLeaderId}. */
  forgetLeader(shardId: ShardId): boolean {
    const r = this.replica(shardId);
    const forgot = r.peer.forgetLeader();
    this.engine.setReady(r);
    return forgot;
  }

  /** The committed log in `[from, to)` (dragonboat's QueryRaftLog; log-query.ts). @throws as {@link queryRaftLog} there, and ShardNotFoundError. */
  queryRaftLog(shardId: ShardId, from: number, to: number, maxBytes = Number.MAX_SAFE_INTEGER): RaftLogQueryResult {
    return queryRaftLog(this.replica(shardId), from, to, maxBytes);
  }

  /** Hashes every replica's state at one index (state-hash.ts); resolves with this replica's. @throws as {@link verifyShard} there. */
  async verifyShard(shardId: ShardId, opts?: RequestOptions): Promise<StateHash> {
    throwIfAborted(opts?.signal);
    return await verifyShard(this.replica(shardId), opts);
  }

  /** Whether this host's LogDB holds a started replica (bootstrap record), running or not (dragonboat's HasNodeInfo). */
  hasNodeInfo(shardId: ShardId, replicaId: ReplicaId): boolean {
    this.checkOpen();
    return this.logdb.getBootstrap(shardId, replicaId) !== null;
  }

  /** Every replica with data in this host's LogDB, running or not, by shard then replica id. @throws ClosedError */
  listReplicas(): ReplicaKey[] {
    this.checkOpen();
    return this.logdb.listReplicas().sort((a, b) => a.shardId - b.shardId || a.replicaId - b.replicaId);
  }

  /**
   * Moves leadership of the shard to voter `target` — or, with 0 (the default) on the leader's
   * host, to its most up-to-date active voter — and resolves once this host sees `target` lead.
   * @throws InvalidOptionError (a bad target; 0 where this replica does not lead or has no
   *   follower to pick); ShardNotFoundError; ClosedError; RejectedError when the transfer was abandoned (the target did not
   *   catch up within an election timeout) or leadership went elsewhere; TimeoutError.
   */
  async requestLeaderTransfer(shardId: ShardId, target: ReplicaId = 0, opts?: RequestOptions): Promise<void> {
    throwIfAborted(opts?.signal);
    await this.transfers.request(this.replica(shardId), target, opts, (r) => this.engine.setReady(r));
  }

  /**
   * Moves replica `from` to `to` (a replica started joining on the target host): adds it as
   * non-voting, waits until it caught up, promotes it, removes `from`. Calling it again resumes
   * an interrupted move. See `move-replica.ts`. @throws as {@link moveReplica} there.
   */
  async moveReplica(shardId: number, from: number, to: MoveTarget, opts?: MoveReplicaOptions): Promise<MoveResult> {
    return await moveReplica(this, shardId, from, to, opts, this.cfg.runtime);
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
  async stopShard(shardId: ShardId): Promise<void> {
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
  async stopReplica(shardId: ShardId, replicaId: ReplicaId): Promise<void> {
    const r = this.replica(shardId);
    if (r.replicaId !== replicaId) throw new ShardNotFoundError(shardId);
    await this.stopShard(shardId);
  }

  /** Removes a stopped replica's data from this host. @throws InvalidOperationError while it runs. */
  async removeData(shardId: ShardId, replicaId: ReplicaId): Promise<void> {
    this.checkOpen();
    if (this.replicas.get(shardId)?.replicaId === replicaId) {
      throw new InvalidOperationError(`replica ${replicaId} of shard ${shardId} is running; stop it first`);
    }
    await this.logdb.removeReplicaData(shardId, replicaId);
    await this.cfg.runtime.fs.promises.rm(this.snapshotDir(shardId, replicaId), { recursive: true, force: true });
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
  async requestSnapshot(shardId: ShardId, opts: SnapshotOptions = {}): Promise<number> {
    throwIfAborted(opts.signal);
    return await requestSnapshot(this.replica(shardId), opts, this.cfg.logger, this.cfg.runtime.fs);
  }

  /**
   * Compacts the log of the shard's replica up to its snapshot index less the configured
   * overhead (or `compactionIndex`), for replicas with automatic compaction disabled.
   * Resolves with the index compacted to (0 when nothing was compacted).
   */
  async requestCompaction(shardId: ShardId, opts: { compactionIndex?: number } = {}): Promise<number> {
    return await requestCompaction(this.replica(shardId), opts);
  }

  /** The replicas on this host and their state. */
  getNodeHostInfo(): NodeHostInfo {
    return { raftAddress: this.cfg.raftAddress, nodeHostId: this.lock.identity?.hostId ?? '', shards: [...this.replicas.values()].map(replicaInfo), failure: this.failStop.info };
  }

  /** The host's counters (engine, LogDB, transport, per replica), for metrics. Cheap: no I/O. */
  getStats(): NodeHostStats {
    const { engine, logdb, transport } = this;
    return hostStats({ engine: engine.stats, logdb, transport, replicas: this.replicas.values(), placement: this.balancer.stats, loop: engine.loop, failure: this.failStop.info });
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

  private transportHandler(): TransportHandler {
    return inboundHandler({
      logger: this.cfg.logger, replicas: this.replicas, identity: this.identity, events: this.events,
      // Lazily: the transport (and so this handler) is made before the engine.
      engine: { setReady: (r) => this.engine.setReady(r) },
      knowsAddress: (shardId, replicaId) => this.addresses.knows(shardId, replicaId),
      setAddress: (shardId, replicaId, address) => this.addresses.set(shardId, replicaId, address),
      deliver: (m) => this.deliver(m), notify: (m) => { this.transport.send(m); }, now: () => this.cfg.runtime.clock.now(),
    });
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

  /**
   * Hands over leadership of the shards it leads ({@link drain}; `drainTimeoutMs`, default two
   * election timeouts, 0 to skip), then stops every replica (pending requests fail with
   * ClosedError), the transport and the LogDB, and releases the directory. Idempotent.
   */
  async close(opts: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.closing !== null) return this.closing;
    const drainMs = opts.drainTimeoutMs ?? 2 * Math.max(0, ...[...this.replicas.values()].map((r) => r.cfg.electionRTT * this.cfg.rttMillisecond));
    this.balancer.close();
    this.closing = (async () => {
      if (drainMs > 0 && !this.closed) await this.drain({ timeoutMs: drainMs });
      this.closed = true;
      this.ticker.stop();
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
