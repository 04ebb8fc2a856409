/**
 * Cluster identity: what keeps two clusters that claim one shard id from talking to each other.
 *
 * Every replica holds its shard's cluster identity, a 48-bit number fixed when the shard was
 * bootstrapped: derived, as etcd derives its cluster ID, from the shard id, the full initial
 * membership (ids and addresses) and an optional token. Replicas bootstrapped with the same
 * members and token compute the same identity without talking; a replica given other members
 * (a typo, a missing peer) computes another. A joining replica has none until the first
 * member contacts it, and keeps the one it learns. It is persisted in the replica's bootstrap
 * record and sent beside every message (see `MessageBatch.clusterIds`).
 *
 * A message whose identity differs from the receiver's is refused before the protocol sees
 * it (so a foreign log never passes the log-matching check just because every bootstrap
 * entry has term 1). Both sides say so: the receiver logs one line, emits an event, counts it,
 * and sends the sender a `ClusterIdentityMismatch` notice, which the sender logs in turn.
 * Going beyond etcd (which only refuses the cross-talk): a replica that receives a leader's
 * traffic addressed to it from another identity has been listed as a member of another
 * cluster, so it stops serving the shard (fenced) rather than act as a second cluster.
 */
import { createHash } from 'node:crypto';
import { ClusterIdentityMismatchError, InvalidOptionError } from '../errors.js';
import { MessageType, message, type Message } from '../core/types.js';
import type { Logger } from '../logger.js';
import type { NodeHostEvents } from './events.js';
import type { LogDB } from '../contracts/log-db.js';
import { realRuntime } from '../runtime/index.js';
import { outcomeUnknown } from './outcome-unknown.js';

/** The largest cluster identity (identities are 48-bit, so they stay exact JS integers). */
export const MAX_CLUSTER_ID = 2 ** 48 - 1;

/**
 * The identity of a shard bootstrapped with `members` and `token`: the first 48 bits of a
 * SHA-256 over the shard id, the members sorted by id, and the token. Never 0 (0 = unknown).
 */
export function deriveClusterId(shardId: number, members: ReadonlyMap<number, string>, token: string): number {
  const h = createHash('sha256');
  h.update(`sampan cluster identity v1\nshard ${shardId}\n`);
  for (const [id, address] of [...members].sort((a, b) => a[0] - b[0])) h.update(`member ${id} ${address}\n`);
  h.update(`token ${token}`);
  const v = h.digest().readUIntBE(0, 6);
  return v === 0 ? 1 : v;
}

/** An identity as shown to people: 12 hex digits, or `unknown` for 0. */
export function formatClusterId(id: number): string {
  return id === 0 ? 'unknown' : id.toString(16).padStart(12, '0');
}

/**
 * Parses an identity as {@link formatClusterId} shows it.
 * @throws InvalidOptionError unless `s` is 1–12 hex digits and not zero.
 */
export function parseClusterId(s: string): number {
  if (typeof s !== 'string' || !/^[0-9a-fA-F]{1,12}$/.test(s)) {
    throw new InvalidOptionError(`cluster id '${String(s)}' is not 12 hex digits`);
  }
  const v = parseInt(s, 16);
  if (v === 0) throw new InvalidOptionError('cluster id 0 is not an identity');
  return v;
}

/** The part of a replica the identity check reads and updates. */
export interface IdentityReplica {
  readonly shardId: number;
  readonly replicaId: number;
  /** The shard's identity here; 0 while a joining replica has not learned it. */
  clusterId: number;
  /** Set when the replica stopped serving because another cluster lists it as a member. */
  identityConflict: ClusterIdentityMismatchError | null;
  readonly counters: { identityMismatches: number };
  /** Fails every request waiting on the replica with `err`; those already handed to the core with `inFlight`. */
  rejectAll(err: Error, inFlight?: Error): void;
}

/** The host services the identity check uses. */
export interface IdentityHost {
  readonly logger: Logger;
  /** Where a joining replica's learned identity is persisted (in its bootstrap record). */
  readonly logdb: Pick<LogDB, 'getBootstrap' | 'saveBootstrap'>;
  /** Monotonic milliseconds, for rate-limiting log lines and notices (default: the real runtime's clock). */
  now?(): number;
  emit(payload: NodeHostEvents['cluster:identity-mismatch']): void;
  /** Sends a notice to the replica that sent a refused message (its address is known by then). */
  notify(m: Message): void;
}

/** Messages only a leader sends to the members of its cluster. */
function fromLeader(t: MessageType): boolean {
  return t === MessageType.Replicate || t === MessageType.Heartbeat || t === MessageType.InstallSnapshot
    || t === MessageType.TimeoutNow || t === MessageType.Quiesce;
}

/** One line (and one event) per shard, remote replica and identity per this many ms. */
const REPORT_EVERY_MS = 60_000;
/** At most one notice per shard and remote replica per this many ms. */
const NOTICE_EVERY_MS = 1_000;

/** Checks the identity of incoming messages for every replica of a host. */
export class ClusterIdentityGuard<R extends IdentityReplica = IdentityReplica> {
  private readonly reported = new Map<string, number>();
  private readonly noticed = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly host: IdentityHost) {
    this.now = host.now ?? realRuntime.clock.now;
  }

  /** Persists an identity a joining replica learned (a failure is logged: it is learned again on the next contact). */
  private persist(r: R, clusterId: number): void {
    const b = this.host.logdb.getBootstrap(r.shardId, r.replicaId);
    if (b === null) return;
    this.host.logdb.saveBootstrap(r.shardId, r.replicaId, { ...b, clusterId }).catch((e: unknown) => {
      this.host.logger.error('could not persist the learned cluster identity', { shardId: r.shardId, replicaId: r.replicaId, error: String(e) });
    });
  }

  /**
   * Stops the replica serving: pending and later requests fail with `err`, except those already
   * handed to the core, whose entries may still commit: TIMEOUT, outcome unknown (`outcome-unknown.ts`).
   */
  private fence(r: R, err: ClusterIdentityMismatchError): void {
    r.identityConflict = err;
    r.rejectAll(err, outcomeUnknown(err));
  }

  /**
   * Whether `m`, sent with identity `theirs` from `address`, may be stepped into `r`. A
   * refusal has been logged, counted and answered when this returns false.
   */
  admit(r: R, m: Message, theirs: number, address: string): boolean {
    if (m.type === MessageType.ClusterIdentityMismatch) {
      this.reportedByPeer(r, m, theirs, address);
      return false;
    }
    // 0: a peer of an earlier release, or a joining replica that has not learned it yet.
    if (theirs === 0 || theirs === r.clusterId) return true;
    if (r.clusterId === 0) {
      // Learned only from the leader that contacts this replica as a member: a vote request
      // from a stray replica of another cluster must not decide which cluster a joiner is in.
      if (m.to !== r.replicaId || !fromLeader(m.type)) return true;
      r.clusterId = theirs;
      this.host.logger.info('learned the shard\'s cluster identity on first contact', {
        shardId: r.shardId, replicaId: r.replicaId, clusterId: formatClusterId(theirs), from: m.from, address,
      });
      this.persist(r, theirs);
      return true;
    }
    r.counters.identityMismatches++;
    let fenced = false;
    if (m.to === r.replicaId && fromLeader(m.type) && r.identityConflict === null) {
      fenced = true;
      this.fence(r, new ClusterIdentityMismatchError(
        `shard ${r.shardId} replica ${r.replicaId} stopped serving: replica ${m.from} at ${address}, of cluster ` +
        `${formatClusterId(theirs)}, lists it as a member, but it was bootstrapped into cluster ${formatClusterId(r.clusterId)}; ` +
        'fix the initial members or cluster token and restart it, or remove its data and add it as a new replica'));
    }
    this.report(r, m.from, address, theirs, 'received', fenced);
    this.answer(r, m);
    return false;
  }

  private reportedByPeer(r: IdentityReplica, m: Message, theirs: number, address: string): void {
    r.counters.identityMismatches++;
    this.report(r, m.from, address, theirs, 'reported', false);
  }

  private report(r: IdentityReplica, from: number, address: string, theirs: number,
    direction: 'received' | 'reported', fenced: boolean): void {
    const key = `${r.shardId}:${from}:${theirs}:${direction}`;
    const now = this.now();
    const last = this.reported.get(key);
    if (!fenced && last !== undefined && now - last < REPORT_EVERY_MS) return;
    this.reported.set(key, now);
    const local = formatClusterId(r.clusterId), remote = formatClusterId(theirs);
    const line = direction === 'received'
      ? `cluster identity mismatch: shard ${r.shardId}: refused a message from replica ${from} at ${address} ` +
        `(cluster ${remote}) to replica ${r.replicaId} here (cluster ${local})`
      : `cluster identity mismatch: shard ${r.shardId}: replica ${from} at ${address} (cluster ${remote}) ` +
        `refused a message from replica ${r.replicaId} here (cluster ${local})`;
    this.host.logger.error(fenced ? `${line}; replica ${r.replicaId} is listed as a member of the other cluster and stopped serving shard ${r.shardId}` : line, {
      shardId: r.shardId, replicaId: r.replicaId, remoteReplicaId: from, remoteAddress: address,
      localClusterId: local, remoteClusterId: remote,
    });
    this.host.emit({
      shardId: r.shardId, replicaId: r.replicaId, remoteReplicaId: from, remoteAddress: address,
      localClusterId: local, remoteClusterId: remote, direction, fenced,
    });
  }

  private answer(r: IdentityReplica, m: Message): void {
    const key = `${r.shardId}:${m.from}`;
    const now = this.now();
    const last = this.noticed.get(key);
    if (last !== undefined && now - last < NOTICE_EVERY_MS) return;
    this.noticed.set(key, now);
    this.host.notify(message({ type: MessageType.ClusterIdentityMismatch, shardId: r.shardId, from: r.replicaId, to: m.from }));
  }
}
