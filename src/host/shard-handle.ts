/**
 * A handle on one shard of a NodeHost: `nh.shard(id)`, or what the options form of
 * `startReplica` resolves with. Each call is the NodeHost call of the same name with the shard
 * id filled in (dragonboat's calls, one to one), plus `leader()` and `stop()`; `read` is typed.
 *
 * A handle holds only the host and the id: the shard is looked up on every call, so it never
 * keeps a stopped replica alive, a handle made before a start works after it, and a handle to
 * a shard that is not running throws {@link ShardNotFoundError} on use (ClosedError once the
 * host is closed), exactly as the NodeHost call would.
 */
import type { Membership } from '../core/types.js';
import { InvalidOptionError } from '../errors.js';
import type { ClosedError, ShardNotFoundError } from '../errors.js';
import type { ReplicaId, ShardId } from '../contracts/ids.js';
import type { SMResult } from '../contracts/state-machine.js';
import type { LeaderInfo } from './nodehost-info.js';
import type { RaftLogQueryResult } from './log-query.js';
import type { StateHash } from './state-hash.js';
import type { Tracked } from './tracked-proposal.js';
import type { NodeHost } from './nodehost.js';
import type { MembershipChangeOptions, ProposeOptions } from './call-options.js';
import type { RequestOptions } from './request.js';
import type { ClientSession } from './session.js';
import type { SnapshotOptions } from './snapshot-options.js';

// Referenced from doc comments only.
export type { ClosedError, ShardNotFoundError };

/**
 * One shard of a NodeHost, with `read` typed: queries are `Q`, results `R` (both `unknown`
 * unless given, or inferred from the state machine by the options form of `startReplica`).
 * Every method throws (or rejects with) what the NodeHost call of the same name does.
 */
export class ShardHandle<Q = unknown, R = unknown> {
  /** Handles come from {@link NodeHost.shard} and the options form of `startReplica`. */
  constructor(
    private readonly nh: NodeHost,
    /** The shard this handle names. */
    readonly shardId: ShardId,
  ) {}

  /**
   * Proposes `cmd`; resolves with the state machine's result once applied here. See
   * {@link NodeHost.propose}, whose promise this is (refusals are rejections, never throws).
   */
  propose(cmd: Uint8Array, opts?: ProposeOptions): Promise<SMResult> {
    return this.nh.propose(this.shardId, cmd, opts);
  }

  /** A linearizable read: ReadIndex, then the state machine's `lookup`. See {@link NodeHost.read}. */
  async read(query: Q, opts?: RequestOptions): Promise<R> {
    return await this.nh.read<Q, R>(this.shardId, query, opts);
  }

  /** Waits until a linearizable read may be served locally. See {@link NodeHost.readIndex}. */
  async readIndex(opts?: RequestOptions): Promise<void> {
    await this.nh.readIndex(this.shardId, opts);
  }

  /** A local lookup, linearizable only after {@link readIndex}. See {@link NodeHost.readLocal}. */
  async readLocal(query: Q): Promise<R> {
    return await this.nh.readLocal<Q, R>(this.shardId, query);
  }

  /** A local read that may be stale (no round trip). See {@link NodeHost.staleRead}. */
  async staleRead(query: Q): Promise<R> {
    return await this.nh.staleRead<Q, R>(this.shardId, query);
  }

  /** Registers a client session on this shard. See {@link NodeHost.getNewSession}. */
  async getNewSession(opts?: RequestOptions): Promise<ClientSession> {
    return await this.nh.getNewSession(this.shardId, opts);
  }

  /**
   * Unregisters a client session of this shard. See {@link NodeHost.closeSession}.
   * @throws InvalidOptionError for a session of another shard.
   */
  async closeSession(session: ClientSession, opts?: RequestOptions): Promise<void> {
    if (session.shardId !== this.shardId) throw new InvalidOptionError(`session belongs to shard ${session.shardId}`);
    await this.nh.closeSession(session, opts);
  }

  /** Adds a voting replica (or promotes a non-voting one). See {@link NodeHost.requestAddReplica}. */
  async requestAddReplica(replicaId: ReplicaId, address: string, opts?: MembershipChangeOptions): Promise<void> {
    await this.nh.requestAddReplica(this.shardId, replicaId, address, opts);
  }

  /** Adds a non-voting replica. See {@link NodeHost.requestAddNonVoting}. */
  async requestAddNonVoting(replicaId: ReplicaId, address: string, opts?: MembershipChangeOptions): Promise<void> {
    await this.nh.requestAddNonVoting(this.shardId, replicaId, address, opts);
  }

  /** Adds a witness. See {@link NodeHost.requestAddWitness}. */
  async requestAddWitness(replicaId: ReplicaId, address: string, opts?: MembershipChangeOptions): Promise<void> {
    await this.nh.requestAddWitness(this.shardId, replicaId, address, opts);
  }

  /** Removes a replica; its id can never return. See {@link NodeHost.requestDeleteReplica}. */
  async requestDeleteReplica(replicaId: ReplicaId, opts?: MembershipChangeOptions): Promise<void> {
    await this.nh.requestDeleteReplica(this.shardId, replicaId, opts);
  }

  /** The shard's membership, linearizably. See {@link NodeHost.getShardMembership}. */
  async getShardMembership(opts?: RequestOptions): Promise<Membership> {
    return await this.nh.getShardMembership(this.shardId, opts);
  }

  /** Takes (or exports) a snapshot; resolves with its index. See {@link NodeHost.requestSnapshot}. */
  async requestSnapshot(opts?: SnapshotOptions): Promise<number> {
    return await this.nh.requestSnapshot(this.shardId, opts);
  }

  /** Compacts the log below the snapshot. See {@link NodeHost.requestCompaction}. */
  async requestCompaction(opts?: { compactionIndex?: number }): Promise<number> {
    return await this.nh.requestCompaction(this.shardId, opts);
  }

  /**
   * Moves leadership to `target` (0: the leader's best voter) and resolves once it moved.
   * See {@link NodeHost.requestLeaderTransfer}.
   */
  async requestLeaderTransfer(target: ReplicaId = 0, opts?: RequestOptions): Promise<void> {
    await this.nh.requestLeaderTransfer(this.shardId, target, opts);
  }

  /** Proposes `cmd` with both notifications: committed, then applied. See {@link NodeHost.proposeTracked}. */
  proposeTracked(cmd: Uint8Array, opts?: ProposeOptions): Tracked<SMResult> {
    return this.nh.proposeTracked(this.shardId, cmd, opts);
  }

  /** The committed log in `[from, to)`. See {@link NodeHost.queryRaftLog}. */
  queryRaftLog(from: number, to: number, maxBytes?: number): RaftLogQueryResult {
    return this.nh.queryRaftLog(this.shardId, from, to, maxBytes);
  }

  /** Hashes every replica's state at one index; resolves with this replica's. See {@link NodeHost.verifyShard}. */
  async verifyShard(opts?: RequestOptions): Promise<StateHash> {
    return await this.nh.verifyShard(this.shardId, opts);
  }

  /** A follower forgets its leader (etcd's ForgetLeader). See {@link NodeHost.forgetLeader}. */
  forgetLeader(): boolean {
    return this.nh.forgetLeader(this.shardId);
  }

  /** Who this host believes leads the shard. See {@link NodeHost.getLeaderId}. */
  leader(): LeaderInfo {
    return this.nh.getLeaderId(this.shardId);
  }

  /** Stops this host's replica of the shard; its data stays. See {@link NodeHost.stopShard}. */
  async stop(): Promise<void> {
    await this.nh.stopShard(this.shardId);
  }
}
