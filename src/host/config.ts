/**
 * Configuration of a NodeHost and of each shard's replica on it, with validation that names
 * the offending field. Times are in milliseconds; the Raft core counts in ticks of
 * `rttMillisecond` (dragonboat's RTTMillisecond, electionRTT and heartbeatRTT).
 */
import { isIP } from 'node:net';
import { InvalidOptionError } from '../errors.js';
import { noopLogger, type Logger } from '../logger.js';
import { DEFAULT_MAX_SESSIONS as MAX_SESSIONS } from '../rsm/sessions.js';
import { parseClusterId } from './cluster-identity.js';
import type { LogDB } from '../contracts/log-db.js';
import type { ReplicaId, ShardId } from '../contracts/ids.js';
import type { Transport, TransportHandler } from '../contracts/transport.js';
import { isHostIdAddress } from '../transport/host-registry.js';
import { realRuntime, type Runtime } from '../runtime/index.js';
import { checkRuntime } from './runtime-check.js';

/** Settings of one NodeHost. */
export interface NodeHostConfig {
  /** Directory of the host's data: lock, identity, snapshots (and the WAL unless `walDir`). */
  readonly nodeHostDir: string;
  /** A separate directory for the write-ahead log (e.g. a faster disk). */
  readonly walDir?: string;
  /** Milliseconds per tick: roughly the round-trip time between hosts. Default 100. */
  readonly rttMillisecond?: number;
  /** The address other hosts use to reach this one (`host:port`). */
  readonly raftAddress: string;
  /** The address to bind when it differs from `raftAddress`. */
  readonly listenAddress?: string;
  /**
   * The local IP address the transport's outgoing connections are bound to (default: the
   * operating system's choice); see `TcpTransportOptions.dialFromHost`. Ignored with a
   * `transportFactory`.
   */
  readonly dialFromHost?: string;
  /**
   * How long a Raft message connection may go without progress before the transport closes
   * and redials it (`TcpTransportOptions.stallTimeoutMs`): what bounds the time a silent
   * partition (dropped packets, the TCP connection still open) keeps a healed peer waiting.
   * Default max(2000, 20 × rttMillisecond), two election timeouts at the default electionRTT.
   * Ignored with a `transportFactory`.
   */
  readonly transportStallTimeoutMs?: number;
  /**
   * Snapshot bytes this host sends per second, all streams together (dragonboat's
   * `MaxSnapshotSendBytesPerSecond`): a token bucket paid before each chunk is written. Keeps
   * a large snapshot to a catching-up follower from taking the disk and the network from
   * client traffic. 0 (the default): unlimited. Ignored with a `transportFactory`.
   */
  readonly maxSnapshotSendBytesPerSecond?: number;
  /**
   * Snapshot bytes this host receives per second, all streams together (dragonboat's
   * `MaxSnapshotRecvBytesPerSecond`), applied by pausing the streams' sockets. Keep it at
   * least a chunk (2 MiB) per 10 s, the stream's progress timeout. 0 (the default):
   * unlimited. Ignored with a `transportFactory`.
   */
  readonly maxSnapshotRecvBytesPerSecond?: number;
  /**
   * Bytes of messages queued for one remote host before new ones are dropped (and counted;
   * dragonboat's `MaxSendQueueSize`); the queue is also bounded at 8192 messages. 0 (the
   * default): no byte bound. Ignored with a `transportFactory`.
   */
  readonly maxSendQueueBytes?: number;
  /**
   * Bytes of an incoming snapshot stream read and not yet written to disk before its socket
   * is paused until the disk catches up (dragonboat's `MaxReceiveQueueSize` bounds its receive
   * queue in bytes; sampan's message connections queue nothing after decoding). 0: no bound.
   * Default 64 MiB. Ignored with a `transportFactory`.
   */
  readonly maxReceiveQueueBytes?: number;
  /** Hosts of different deployments refuse each other's messages. Default 0. */
  readonly deploymentId?: number;
  /** Mutual TLS files; all three or none. */
  readonly tls?: {
    /** PEM file of the certificate authority that signs every host's certificate. */
    readonly caFile: string;
    /** PEM file of this host's certificate. */
    readonly certFile: string;
    /** PEM file of this host's private key. */
    readonly keyFile: string;
  };
  /** Proposals and reads waiting per shard before new ones are refused as busy. Default 8192. */
  readonly maxPendingPerShard?: number;
  /**
   * Resolve `propose` once committed, with `{ value: 0 }`, rather than with the result once
   * applied (kept for compatibility: `proposeTracked` gives both, and ignores this).
   */
  readonly notifyCommit?: boolean;
  /** Disable fsync (tests only: a crash then loses acknowledged writes). */
  readonly unsafeNoFsync?: boolean;
  /** Where the host logs; default: no logging ({@link noopLogger}). */
  readonly logger?: Logger;
  /**
   * Move leadership between hosts until each leads ⌊shards / hosts⌋ or ⌈shards / hosts⌉ of the
   * shards it hosts (by leader transfers, never elections; see leader-balancer.ts). Default true.
   * Leader priorities (`ShardConfig.priorities`) apply either way.
   */
  readonly leaderBalancing?: boolean;
  /** Replace the LogDB (tests: a memory LogDB). The host closes it. */
  readonly logDBFactory?: (dir: string, walDir: string | undefined) => Promise<LogDB>;
  /** Replace the transport (tests: the in-memory network). The host closes it. */
  readonly transportFactory?: (handler: TransportHandler) => Transport;
  /**
   * Where the host takes its clocks, timers, randomness, file system and process identity from
   * (src/runtime; docs/operations.md, "Runtime"): the WAL, the snapshots, the directory lock,
   * the host registry, the ticker and every deadline use it. Default {@link realRuntime}
   * (Node itself). A deterministic simulator or a fault-injecting test supplies another. A
   * `logDBFactory` or `transportFactory` brings its own and is given none.
   */
  readonly runtime?: Runtime;
}

/** Settings of one replica of a shard. */
export interface ShardConfig {
  /** The shard to run a replica of (non-zero). */
  readonly shardId: ShardId;
  /** This replica's id within the shard (non-zero, unique in the shard). */
  readonly replicaId: ReplicaId;
  /** Ticks without a leader before an election. Default 10. */
  readonly electionRTT?: number;
  /** Ticks between heartbeats. Default 1. Must be less than electionRTT / 2. */
  readonly heartbeatRTT?: number;
  /** Default true. */
  readonly checkQuorum?: boolean;
  /** Default true. */
  readonly preVote?: boolean;
  /**
   * Take a snapshot every this many applied entries; 0 disables automatic snapshots. The
   * replicas of a shard take theirs at different points of the log, spread over the interval
   * by their rank among the members (and the shards of a host by shard id), so they do not all
   * spend a save's CPU at once; after a start, a requested snapshot or a membership change the
   * next automatic one comes between half and one and a half intervals past the newest
   * snapshot.
   */
  readonly snapshotEntries?: number;
  /** Entries kept in the log below a snapshot, for slow followers. Default 5000. */
  readonly compactionOverhead?: number;
  /** Leave compaction to `requestCompaction`. */
  readonly disableAutoCompaction?: boolean;
  /** Membership changes name the version they expect. */
  readonly orderedConfigChange?: boolean;
  /** Bytes of unapplied log beyond which proposals are refused as busy; 0 = no limit. */
  readonly maxInMemLogSize?: number;
  /**
   * Compress snapshot files: 'snappy' or 'none' (default). Any other value, 'lz4' included,
   * is refused with InvalidOptionError (as dragonboat refuses a compression it does not have).
   */
  readonly snapshotCompression?: 'none' | 'snappy';
  /**
   * Compress proposals: 'snappy' or 'none' (default). With 'snappy' each command proposed
   * through this replica is Snappy-compressed when that makes it smaller, so the log on disk,
   * in memory and on the wire holds fewer bytes; state machines and `queryRaftLog` still see
   * the command as given. Replicas of a shard may differ (every replica reads compressed
   * entries whatever its own setting), but hosts of releases before it refuse such entries:
   * upgrade every host first. Any other value, 'lz4' included, is refused with
   * InvalidOptionError.
   */
  readonly entryCompression?: 'none' | 'snappy';
  /** Run as a non-voting member (a learner): receives the log, never votes nor leads. Default false. */
  readonly isNonVoting?: boolean;
  /**
   * Run as a witness: votes and receives entries without their payload (metadata only), never
   * leads. Default false.
   */
  readonly isWitness?: boolean;
  /** Stop heartbeats on an idle shard. */
  readonly quiesce?: boolean;
  /**
   * etcd's DisableProposalForwarding: while this replica is not the leader, proposals and
   * membership changes made here fail at once with NotLeaderError (code NOT_LEADER, naming
   * the known leader) instead of being forwarded to the leader; while no leader is known they
   * wait for one as usual. For applications that route writes to the leader themselves.
   * Reads are still forwarded. Default false.
   */
  readonly disableProposalForwarding?: boolean;
  /**
   * While this replica leads, refuse a membership change that adds a voting member, or takes a
   * live one away, when the configuration it produces would not have a quorum of live voting
   * members (NotEnoughLiveVotersError; etcd's `--strict-reconfig-check`). A voter counts as
   * live when the leader heard from it within an election timeout; a replica not yet a member
   * never does, so a one-voter shard grows only with `catchUpFirst` (or `force`). The per-call
   * `force` option skips the check for one change. Default true.
   */
  readonly strictMembershipCheck?: boolean;
  /**
   * Leader priority of the shard's replicas by replica id (absent ids: 1), as a Map or a
   * plain object; give every replica of the shard the same list. A leader hands leadership to
   * a caught-up, active voter of higher priority (by transfer); leader balancing moves it only
   * between replicas of equal priority; a replica of priority 0 never campaigns (it still
   * votes and counts in quorums), so it never leads: give a shard enough voters above 0 to
   * elect one whatever fails. Default: every replica 1.
   */
  readonly priorities?: ReadonlyMap<number, number> | Readonly<Record<number, number>>;
  /**
   * How the leader confirms a linearizable read (`readIndex`, `syncRead`): `'read-index'`
   * (default) runs a heartbeat round per batch of reads; `'lease'` answers at once while the
   * leader's lease is valid and falls back to ReadIndex otherwise. The lease assumes bounded
   * clock drift between hosts (`leaseDriftTicks`; docs/operations.md, "Lease reads").
   * Requires `checkQuorum`; give every replica of the shard the same mode.
   */
  readonly readMode?: 'read-index' | 'lease';
  /**
   * Lease mode: ticks (of `rttMillisecond`) by which another host's clock may run ahead of
   * the leader's over one election timeout. The lease lasts `electionRTT − 1 −
   * leaseDriftTicks` ticks from the newest heartbeat a quorum acknowledged. Default 1.
   */
  readonly leaseDriftTicks?: number;
  /**
   * Read only when the replica bootstraps a new shard (initial members given, no data here):
   * mixed into the shard's cluster identity, like etcd's `--initial-cluster-token`, so that two
   * clusters bootstrapped with the same shard id and members (say, a test cluster and its
   * rebuild) still refuse each other's traffic. Every initial member must be given the same
   * token. Default ''.
   */
  readonly clusterToken?: string;
  /**
   * The cluster identity this replica must belong to (12 hex digits, as `getNodeHostInfo`
   * and the KV service's `/status` show it). Optional. When joining, traffic from another
   * identity is refused from the first contact on (without it, a joining replica adopts the
   * identity of the first member that contacts it). When bootstrapping or restarting, a
   * different identity is refused at start.
   */
  readonly clusterId?: string;
}

/** A host config with every default filled in. */
export type ResolvedHostConfig = Required<Omit<NodeHostConfig, 'walDir' | 'tls' | 'logger' | 'logDBFactory' | 'transportFactory' | 'listenAddress' | 'dialFromHost'>>
  & Pick<NodeHostConfig, 'walDir' | 'tls' | 'logDBFactory' | 'transportFactory' | 'dialFromHost'> & { readonly listenAddress: string; readonly logger: Logger };

/** A shard config with every default filled in; `clusterId` parsed (0 when not given). */
export type ResolvedShardConfig = Required<Omit<ShardConfig, 'clusterId' | 'priorities'>> & {
  readonly clusterId: number;
  readonly priorities: ReadonlyMap<number, number>;
};

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Whether `a` looks like `host:port` with a port in 1..65535. */
export function isAddress(a: string): boolean {
  const m = ADDRESS.exec(a);
  if (m === null) return false;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535;
}

/**
 * Whether `a` may stand as a replica's address in membership: `host:port`, or a host named by
 * its id, `nhid-<16 hex digits>` (resolved through the host registry; TCP transport only).
 */
export function isMemberAddress(a: string): boolean {
  return isAddress(a) || isHostIdAddress(a);
}

function int(name: string, v: number, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) throw new InvalidOptionError(`${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

/**
 * Fills defaults and validates a host config.
 * @throws InvalidOptionError naming the first invalid field.
 */
export function resolveHostConfig(c: NodeHostConfig): ResolvedHostConfig {
  if (typeof c.nodeHostDir !== 'string' || c.nodeHostDir === '') throw new InvalidOptionError('nodeHostDir is required');
  if (!isAddress(c.raftAddress)) throw new InvalidOptionError(`raftAddress '${String(c.raftAddress)}' is not host:port`);
  if (c.listenAddress !== undefined && !isAddress(c.listenAddress)) throw new InvalidOptionError(`listenAddress '${c.listenAddress}' is not host:port`);
  if (c.dialFromHost !== undefined && isIP(c.dialFromHost) === 0) throw new InvalidOptionError(`dialFromHost '${c.dialFromHost}' is not an IP address`);
  if (c.tls !== undefined && !(c.tls.caFile && c.tls.certFile && c.tls.keyFile)) {
    throw new InvalidOptionError('tls needs caFile, certFile and keyFile');
  }
  const rttMillisecond = int('rttMillisecond', c.rttMillisecond ?? 100, 1);
  return {
    nodeHostDir: c.nodeHostDir,
    walDir: c.walDir,
    rttMillisecond,
    transportStallTimeoutMs: int('transportStallTimeoutMs', c.transportStallTimeoutMs ?? Math.max(2000, 20 * rttMillisecond), 1),
    maxSnapshotSendBytesPerSecond: int('maxSnapshotSendBytesPerSecond', c.maxSnapshotSendBytesPerSecond ?? 0, 0),
    maxSnapshotRecvBytesPerSecond: int('maxSnapshotRecvBytesPerSecond', c.maxSnapshotRecvBytesPerSecond ?? 0, 0),
    maxSendQueueBytes: int('maxSendQueueBytes', c.maxSendQueueBytes ?? 0, 0),
    maxReceiveQueueBytes: int('maxReceiveQueueBytes', c.maxReceiveQueueBytes ?? 64 * 1024 * 1024, 0),
    raftAddress: c.raftAddress,
    listenAddress: c.listenAddress ?? c.raftAddress,
    dialFromHost: c.dialFromHost,
    deploymentId: int('deploymentId', c.deploymentId ?? 0, 0),
    tls: c.tls,
    maxPendingPerShard: int('maxPendingPerShard', c.maxPendingPerShard ?? 8192, 1),
    notifyCommit: c.notifyCommit ?? false,
    leaderBalancing: c.leaderBalancing ?? true,
    unsafeNoFsync: c.unsafeNoFsync ?? false,
    logger: c.logger ?? noopLogger,
    logDBFactory: c.logDBFactory,
    transportFactory: c.transportFactory,
    runtime: c.runtime === undefined ? realRuntime : checkRuntime(c.runtime),
  };
}

/** `priorities` as a Map, validated: replica ids positive integers, priorities integers >= 0. */
function resolvePriorities(p: ShardConfig['priorities']): ReadonlyMap<number, number> {
  if (p === undefined) return new Map();
  if (typeof p !== 'object' || p === null) throw new InvalidOptionError('priorities must be a Map or an object of replica id to priority');
  const pairs: Array<[unknown, unknown]> = p instanceof Map ? [...(p as Map<unknown, unknown>)] : Object.entries(p);
  const out = new Map<number, number>();
  for (const [k, v] of pairs) {
    const id = typeof k === 'string' ? Number(k) : k;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) throw new InvalidOptionError(`priorities: replica id '${String(k)}' is invalid`);
    out.set(id, int(`priorities[${id}]`, v as number, 0));
  }
  return out;
}

/**
 * Fills defaults and validates a shard config.
 * @throws InvalidOptionError naming the first invalid field.
 */
export function resolveShardConfig(c: ShardConfig): ResolvedShardConfig {
  const r: ResolvedShardConfig = {
    shardId: int('shardId', c.shardId, 1),
    replicaId: int('replicaId', c.replicaId, 1),
    electionRTT: int('electionRTT', c.electionRTT ?? 10, 1),
    heartbeatRTT: int('heartbeatRTT', c.heartbeatRTT ?? 1, 1),
    checkQuorum: c.checkQuorum ?? true,
    preVote: c.preVote ?? true,
    snapshotEntries: int('snapshotEntries', c.snapshotEntries ?? 0, 0),
    compactionOverhead: int('compactionOverhead', c.compactionOverhead ?? 5000, 0),
    disableAutoCompaction: c.disableAutoCompaction ?? false,
    orderedConfigChange: c.orderedConfigChange ?? false,
    maxInMemLogSize: int('maxInMemLogSize', c.maxInMemLogSize ?? 0, 0),
    snapshotCompression: c.snapshotCompression ?? 'none',
    entryCompression: c.entryCompression ?? 'none',
    isNonVoting: c.isNonVoting ?? false,
    isWitness: c.isWitness ?? false,
    quiesce: c.quiesce ?? false,
    readMode: c.readMode ?? 'read-index',
    leaseDriftTicks: int('leaseDriftTicks', c.leaseDriftTicks ?? 1, 0),
    disableProposalForwarding: c.disableProposalForwarding ?? false,
    strictMembershipCheck: c.strictMembershipCheck ?? true,
    clusterToken: c.clusterToken ?? '',
    clusterId: c.clusterId === undefined ? 0 : parseClusterId(c.clusterId),
    priorities: resolvePriorities(c.priorities),
  };
  if ('maxSessions' in c) {
    // Session eviction is replicated state: replicas with different limits would diverge.
    throw new InvalidOptionError(`maxSessions is not a per-replica setting: every replica of a shard keeps at most ${MAX_SESSIONS} client sessions (as dragonboat does), so that they evict alike`);
  }
  if (typeof r.clusterToken !== 'string') throw new InvalidOptionError('clusterToken must be a string');
  if (r.electionRTT <= 2 * r.heartbeatRTT) {
    throw new InvalidOptionError(`electionRTT (${r.electionRTT}) must be greater than 2 × heartbeatRTT (${r.heartbeatRTT})`);
  }
  if (r.isNonVoting && r.isWitness) throw new InvalidOptionError('a replica cannot be both non-voting and a witness');
  validateReadMode(r);
  if (!['none', 'snappy'].includes(r.snapshotCompression)) {
    throw new InvalidOptionError(`snapshotCompression '${String(r.snapshotCompression)}' is not supported: use 'snappy' or 'none'`);
  }
  if (!['none', 'snappy'].includes(r.entryCompression)) {
    throw new InvalidOptionError(`entryCompression '${String(r.entryCompression)}' is not supported: use 'snappy' or 'none'`);
  }
  if (r.isWitness && r.snapshotEntries > 0) throw new InvalidOptionError('a witness takes no snapshots; snapshotEntries must be 0');
  return r;
}

function validateReadMode(r: ResolvedShardConfig): void {
  if (r.readMode !== 'read-index' && r.readMode !== 'lease') {
    throw new InvalidOptionError(`readMode must be 'read-index' or 'lease', got '${String(r.readMode)}'`);
  }
  if (r.readMode !== 'lease') return;
  if (!r.checkQuorum) throw new InvalidOptionError("readMode 'lease' requires checkQuorum");
  if (r.electionRTT - 1 - r.leaseDriftTicks < 1) {
    throw new InvalidOptionError(`leaseDriftTicks (${r.leaseDriftTicks}) leaves no lease: it must be less than electionRTT − 1 (${r.electionRTT - 1})`);
  }
}
