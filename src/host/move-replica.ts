/**
 * Moving a replica to another host without a window of reduced fault tolerance: the new
 * replica joins as non-voting, catches up (by snapshot and log), is promoted, and only then is
 * the old one removed — each step waiting until the previous one is applied.
 *
 * The move keeps no state of its own: every call reads the shard's membership and resumes at
 * the first step not yet applied, so a call interrupted by a crash, a timeout or a leadership
 * change is finished by calling it again with the same arguments (as Kubernetes controllers
 * reconcile, rather than as a saved plan that could go stale).
 */
import type { Membership } from '../core/types.js';
import { isMember } from '../core/membership.js';
import { InvalidOptionError, NotLeaderError, ReplicaNotFoundError, TimeoutError } from '../errors.js';
import type { ReplicaInfo } from './nodehost-info.js';
import type { RequestOptions } from './request.js';
import { realRuntime, sleep, type Runtime } from '../runtime/index.js';

/** Where a replica moves to. */
export interface MoveTarget {
  /** The new replica's id: started (joining, with no initial members) on the target host. */
  readonly replicaId: number;
  /** The target host's raft address. */
  readonly address: string;
}

/** Options of a move; `timeoutMs` bounds the whole move (default 60,000 ms). */
export interface MoveReplicaOptions extends RequestOptions {
  /** How often the catch-up is checked, in ms (default 50). */
  readonly pollMs?: number;
}

/** One step a move took: `added` (as non-voting), `promoted` (to voter), `transferred` (leadership, away from the replica leaving), `removed`. */
export type MoveStep = 'added' | 'promoted' | 'transferred' | 'removed';

/** What a move did; `steps` is empty when an earlier call had finished it. */
export interface MoveResult {
  /** The steps this call took, in order. */
  readonly steps: readonly MoveStep[];
}

/** The NodeHost calls a move is made of (the public API, so any caller could do the same). */
export interface MoveHost {
  /** The shard's membership, linearizable. */
  getShardMembership(shardId: number, opts?: RequestOptions): Promise<Membership>;
  /** Adds a non-voting member, resolved once applied. */
  requestAddNonVoting(shardId: number, replicaId: number, address: string, opts?: RequestOptions): Promise<void>;
  /** Adds (or promotes to) a voter, resolved once applied. */
  requestAddReplica(shardId: number, replicaId: number, address: string, opts?: RequestOptions): Promise<void>;
  /** Removes a member, resolved once applied. */
  requestDeleteReplica(shardId: number, replicaId: number, opts?: RequestOptions): Promise<void>;
  /** Moves leadership away (to `target`, or the best follower for 0), resolved when done. */
  requestLeaderTransfer(shardId: number, target?: number, opts?: RequestOptions): Promise<void>;
  /** This host and its replicas. */
  getNodeHostInfo(): { readonly shards: readonly ReplicaInfo[] };
}

/**
 * Moves replica `from` of `shardId` to `to`, resuming a move an earlier call began.
 *
 * The catch-up wait reads the leader's replication progress, so a step that needs it throws
 * NotLeaderError on another host (run the call again on the leader's host: it resumes). A
 * voter stays a voter, a non-voting member stays non-voting; witnesses cannot be moved (add
 * a witness on the new host and remove the old one).
 * @throws InvalidOptionError for an invalid target, a witness, or a target id used by another
 *   member or removed before; ReplicaNotFoundError when `from` is not a member (and the move
 *   was not finished earlier); NotLeaderError; TimeoutError when the whole move exceeds its
 *   deadline or the new replica does not catch up; whatever the membership calls throw.
 * The deadline is counted, and the catch-up polled, on `runtime` (the host's; default Node's).
 */
export async function moveReplica(host: MoveHost, shardId: number, from: number, to: MoveTarget,
  opts: MoveReplicaOptions = {}, runtime: Pick<Runtime, 'clock' | 'timers'> = realRuntime): Promise<MoveResult> {
  const { clock } = runtime;
  const deadline = clock.now() + (opts.timeoutMs ?? 60_000);
  const step = (): RequestOptions => ({ signal: opts.signal, timeoutMs: Math.max(1, deadline - clock.now()) });
  const m = await host.getShardMembership(shardId, step());
  const fromRole = roleOf(m, from);
  const toRole = roleOf(m, to.replicaId);
  checkTarget(m, shardId, from, to, fromRole);
  const steps: MoveStep[] = [];
  if (fromRole === null) return { steps }; // checkTarget proved the move finished earlier
  if (toRole === null) {
    await host.requestAddNonVoting(shardId, to.replicaId, to.address, step());
    steps.push('added');
  }
  if (toRole !== 'voter') {
    await waitCaughtUp(host, shardId, to.replicaId, deadline, opts, runtime);
    if (fromRole === 'voter') {
      await host.requestAddReplica(shardId, to.replicaId, to.address, step());
      steps.push('promoted');
    }
  }
  if (replicaOf(host, shardId)?.leaderId === from) {
    // Removing the leader would leave the shard leaderless for an election timeout: hand over first.
    await host.requestLeaderTransfer(shardId, to.replicaId, step());
    steps.push('transferred');
  }
  await host.requestDeleteReplica(shardId, from, step());
  steps.push('removed');
  return { steps };
}

type Role = 'voter' | 'non-voting' | 'witness';

function roleOf(m: Membership, id: number): Role | null {
  if (m.voters.has(id)) return 'voter';
  if (m.nonVoting.has(id)) return 'non-voting';
  if (m.witnesses.has(id)) return 'witness';
  return null;
}

function addressOf(m: Membership, id: number): string | undefined {
  return m.voters.get(id) ?? m.nonVoting.get(id) ?? m.witnesses.get(id);
}

/** Refuses a move that cannot be right; returns normally also when it finished earlier. */
function checkTarget(m: Membership, shardId: number, from: number, to: MoveTarget, fromRole: Role | null): void {
  if (!Number.isSafeInteger(to.replicaId) || to.replicaId <= 0) throw new InvalidOptionError(`replica id ${to.replicaId} is invalid`);
  if (to.replicaId === from) throw new InvalidOptionError(`replica ${from} cannot move onto itself: give the new replica another id`);
  if (fromRole === 'witness') throw new InvalidOptionError(`replica ${from} is a witness: add a witness on the new host and remove this one`);
  const toAddr = addressOf(m, to.replicaId);
  if (toAddr !== undefined && toAddr !== to.address) {
    throw new InvalidOptionError(`replica ${to.replicaId} is already a member at ${toAddr}, not ${to.address}`);
  }
  if (m.witnesses.has(to.replicaId)) throw new InvalidOptionError(`replica ${to.replicaId} is a witness`);
  if (fromRole === null) {
    if (isMember(m, to.replicaId) && m.removed.has(from)) return; // finished earlier
    throw new ReplicaNotFoundError(shardId, from);
  }
  if (m.removed.has(to.replicaId)) throw new InvalidOptionError(`replica id ${to.replicaId} was removed from shard ${shardId} and cannot return`);
  if (addressOf(m, from) === to.address) throw new InvalidOptionError(`replica ${from} is already at ${to.address}`);
}

/**
 * Waits until the leader (this host) has replicated to `id` everything committed when the wait
 * began, in the streaming state (etcd asks the same of a learner before promoting it);
 * `deadline` is on `runtime`'s monotonic clock.
 */
export async function waitCaughtUp(host: MoveHost, shardId: number, id: number, deadline: number, opts: MoveReplicaOptions,
  runtime: Pick<Runtime, 'clock' | 'timers'>): Promise<void> {
  let target = -1;
  for (;;) {
    const info = replicaOf(host, shardId);
    if (info === undefined || !info.isLeader) throw new NotLeaderError(shardId, info?.leaderId ?? 0, 'the catch-up of a moved replica');
    if (target < 0) target = info.commitIndex;
    const f = info.followers.find((p) => p.replicaId === id);
    if (f !== undefined && f.state === 'replicate' && f.match >= target) return;
    if (runtime.clock.now() >= deadline || opts.signal?.aborted === true) {
      throw new TimeoutError(`replica ${id} of shard ${shardId} did not catch up (it has ${f?.match ?? 0} of ${target} entries): is it started on its host?`);
    }
    await sleep(runtime.timers, opts.pollMs ?? 50);
  }
}

function replicaOf(host: MoveHost, shardId: number): ReplicaInfo | undefined {
  return host.getNodeHostInfo().shards.find((s) => s.shardId === shardId);
}
