/**
 * The NodeHost's joint membership calls (thesis §4.3, etcd's ConfChangeV2): several replicas
 * added, removed, promoted or demoted in one change, and an add that waits for the new
 * replica to catch up as non-voting before it becomes a voter. NodeHost wires them in.
 */
import { InvalidOptionError, TimeoutError } from '../errors.js';
import { ConfigChangeType, type ConfigChange, type ConfigChangeOp, type Membership } from '../core/types.js';
import type { RequestOptions } from './request.js';
import { waitCaughtUp, type MoveHost } from './move-replica.js';
import { isAddress } from './config.js';
import { sleep, type Runtime } from '../runtime/index.js';

/** One operation of a joint change. */
export interface MemberOp {
  /**
   * `add`: add a voter, or promote a non-voting member; `add-non-voting`: add a non-voting
   * member, or demote a voter; `remove`: remove a member (its id never returns).
   * `promote` and `demote` are names for `add` and `add-non-voting` on an existing member.
   */
  readonly op: 'add' | 'add-non-voting' | 'remove' | 'promote' | 'demote';
  /** The replica. */
  readonly replicaId: number;
  /** Its raft address (`host:port`); needed only to add a new replica. */
  readonly address?: string;
}

/** Options of a joint change. */
export interface JointChangeOptions extends RequestOptions {
  /** With ordered config changes: the membership version the change expects. */
  readonly configChangeId?: number;
  /**
   * Whether the leader leaves the joint configuration by itself once it is applied (default
   * true). With false the call resolves once the joint configuration is entered, and
   * `requestLeaveJoint` ends it.
   */
  readonly autoLeave?: boolean;
  /** How often the wait for the final configuration looks at the membership, in ms (default 20). */
  readonly pollMs?: number;
  /** Skip the leader's live-quorum check for the change (see `MembershipChangeOptions.force`). Default false. */
  readonly force?: boolean;
}

/** What the joint calls need of the NodeHost. */
export interface JointHost extends MoveHost {
  /** The host's runtime: the clock deadlines are counted on and the timer polls wait on. */
  readonly runtime: Runtime;
  /** Proposes `cc` on the shard's local replica (`force`: skipping the leader's live-quorum check); resolves once its entry is applied there. */
  proposeMembershipChange(shardId: number, cc: Omit<ConfigChange, 'ordered'>, opts?: RequestOptions & { readonly force?: boolean }): Promise<void>;
  /** The local replica's applied membership (not linearizable). */
  localMembership(shardId: number): Membership;
  /** Whether the local replica learnt it was removed (it may never apply the leave itself). */
  removedHere(shardId: number): boolean;
}

const OP_TYPES: Readonly<Record<string, ConfigChangeType | undefined>> = {
  'add': ConfigChangeType.AddVoter,
  'promote': ConfigChangeType.AddVoter,
  'add-non-voting': ConfigChangeType.AddNonVoting,
  'demote': ConfigChangeType.AddNonVoting,
  'remove': ConfigChangeType.RemoveReplica,
};

/** A {@link JointHost} from the NodeHost's calls, its local proposal and its local membership. */
export function jointHostOf(nh: MoveHost, propose: JointHost['proposeMembershipChange'], local: (shardId: number) => Membership,
  removedHere: (shardId: number) => boolean, runtime: Runtime): JointHost {
  return {
    runtime,
    getShardMembership: (id, o) => nh.getShardMembership(id, o),
    requestAddNonVoting: (id, r, a, o) => nh.requestAddNonVoting(id, r, a, o),
    requestAddReplica: (id, r, a, o) => nh.requestAddReplica(id, r, a, o),
    requestDeleteReplica: (id, r, o) => nh.requestDeleteReplica(id, r, o),
    requestLeaderTransfer: (id, t, o) => nh.requestLeaderTransfer(id, t, o),
    getNodeHostInfo: () => nh.getNodeHostInfo(),
    proposeMembershipChange: propose,
    localMembership: local,
    removedHere,
  };
}

/**
 * Turns `ops` into the operations of a joint change.
 * @throws InvalidOptionError for an empty list, an unknown op, an invalid id or address.
 */
export function jointOps(ops: readonly MemberOp[]): ConfigChangeOp[] {
  if (!Array.isArray(ops) || ops.length === 0) throw new InvalidOptionError('a joint change needs at least one operation');
  return ops.map((o) => {
    const type = OP_TYPES[String(o.op)];
    if (type === undefined) throw new InvalidOptionError(`unknown membership op '${String(o.op)}'`);
    if (!Number.isSafeInteger(o.replicaId) || o.replicaId <= 0) throw new InvalidOptionError(`replica id ${o.replicaId} is invalid`);
    const address = o.address ?? '';
    if (address !== '' && !isAddress(address)) throw new InvalidOptionError(`address '${address}' is not host:port`);
    return { type, replicaId: o.replicaId, address: type === ConfigChangeType.RemoveReplica ? '' : address };
  });
}

/**
 * Applies `ops` as one joint change: enters the joint configuration and, with auto-leave (the
 * default), resolves once the leave is applied here — the final configuration.
 * @throws InvalidOptionError for bad ops; RejectedError when the shard refuses the change
 *   (already joint, a removed id, a non-member removed, every voter removed, …);
 *   TimeoutError when the final configuration is not applied before the deadline; as a
 *   membership change otherwise.
 */
export async function requestJointChange(host: JointHost, shardId: number, ops: readonly MemberOp[], opts?: JointChangeOptions): Promise<void> {
  const list = jointOps(ops);
  const deadline = host.runtime.clock.now() + (opts?.timeoutMs ?? 30_000);
  const autoLeave = opts?.autoLeave ?? true;
  await host.proposeMembershipChange(shardId, {
    type: ConfigChangeType.EnterJoint, replicaId: 0, address: '', initialize: false, ops: list, autoLeave,
    configChangeId: opts?.configChangeId ?? 0,
  }, opts);
  if (!autoLeave) return;
  await waitNotJoint(host, shardId, deadline, opts);
}

/**
 * Leaves the joint configuration (for a change entered without auto-leave); resolves once the
 * leave is applied here.
 * @throws RejectedError when the configuration is not joint; as a membership change otherwise.
 */
export async function requestLeaveJoint(host: JointHost, shardId: number, opts?: RequestOptions): Promise<void> {
  await host.proposeMembershipChange(shardId, { type: ConfigChangeType.LeaveJoint, replicaId: 0, address: '', initialize: false, configChangeId: 0 }, opts);
}

/**
 * Adds `replicaId` as non-voting, waits until it has caught up with the leader (this host must
 * lead), then promotes it: a new voter never holds back the commit quorum while it catches up.
 * @throws as `moveReplica`'s catch-up (NotLeaderError, TimeoutError) and the membership calls.
 */
export async function addAfterCatchUp(host: JointHost, shardId: number, replicaId: number, address: string,
  opts?: RequestOptions & { readonly configChangeId?: number; readonly pollMs?: number; readonly force?: boolean }): Promise<void> {
  const { clock } = host.runtime;
  const deadline = clock.now() + (opts?.timeoutMs ?? 60_000);
  const step = (): RequestOptions & { force?: boolean } => ({ signal: opts?.signal, timeoutMs: Math.max(1, deadline - clock.now()), force: opts?.force });
  const m = host.localMembership(shardId);
  if (!m.voters.has(replicaId) && !m.nonVoting.has(replicaId)) await host.requestAddNonVoting(shardId, replicaId, address, step());
  await waitCaughtUp(host, shardId, replicaId, deadline, opts ?? {}, host.runtime);
  await host.requestAddReplica(shardId, replicaId, address, step());
}

async function waitNotJoint(host: JointHost, shardId: number, deadline: number, opts?: JointChangeOptions): Promise<void> {
  for (;;) {
    // A replica removed by the change learns of its removal, not necessarily of the leave.
    if (host.localMembership(shardId).joint === undefined || host.removedHere(shardId)) return;
    if (host.runtime.clock.now() >= deadline || opts?.signal?.aborted === true) {
      throw new TimeoutError(`shard ${shardId} did not leave its joint configuration before the deadline (the leave is proposed by the leader; it is retried by every new leader)`);
    }
    await sleep(host.runtime.timers, opts?.pollMs ?? 20);
  }
}
