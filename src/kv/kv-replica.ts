/**
 * One replica of the KV service: a NodeHost with a replica of every shard (1..shards) and
 * the HTTP API in front of it. `sampan kv` runs one per process; `sampan demo` runs three in
 * one process.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NodeHost, type Logger, type NodeHostConfig, type ShardConfig } from '../index.js';
import { DiskKvStateMachine } from './disk-state-machine.js';
import { KvHttpServer } from './http-server.js';
import { KvService } from './kv-service.js';
import { DEFAULT_LIMITS, type KvLimits } from './limits.js';
import { MemoryKvStateMachine } from './memory-state-machine.js';
import { checkIdentity, verifyIdentity } from './replica-identity.js';
import { HttpListener, checkListenable, hostPort } from './early-bind.js';
import type { HttpSecurity } from './http-security.js';

/** Settings of one KV replica. */
export interface KvReplicaOptions {
  readonly replicaId: number;
  readonly raftAddress: string;
  readonly listenAddress?: string;
  /** The local IP address Raft connections to other replicas are dialled from (default: any). */
  readonly dialFromHost?: string;
  /** Where the HTTP API listens: host and port (0: any free port). */
  readonly httpHost: string;
  readonly httpPort: number;
  readonly dataDir: string;
  /** Members of a new shard; empty to restart from the data dir (or to join). */
  readonly initialMembers: ReadonlyMap<number, string>;
  readonly join: boolean;
  readonly shards: number;
  readonly stateMachine: 'memory' | 'disk';
  /** How every shard confirms linearizable reads (ShardConfig.readMode). Default 'read-index'. */
  readonly readMode?: 'read-index' | 'lease';
  /** Whether every shard's proposals made here are Snappy-compressed (ShardConfig.entryCompression). Default 'none'. */
  readonly entryCompression?: 'none' | 'snappy';
  readonly snapshotEntries?: number;
  readonly compactionOverhead?: number;
  readonly rttMs?: number;
  readonly deploymentId?: number;
  /** Mixed into each new shard's cluster identity (see ShardConfig.clusterToken). */
  readonly clusterToken?: string;
  readonly tls?: NodeHostConfig['tls'];
  readonly limits?: Partial<KvLimits>;
  readonly logger: Logger;
  /** The other replicas' HTTP addresses by id, for `GET /cluster` and the dashboard. */
  readonly peerHttp?: ReadonlyMap<number, string>;
  /** TLS, admin token and export root of the HTTP port (the Raft port's TLS is `tls`). */
  readonly httpSecurity?: HttpSecurity;
  /** Leader priority by replica id, the same for every shard (ShardConfig.priorities). */
  readonly priorities?: ReadonlyMap<number, number>;
  /** NodeHostConfig.leaderBalancing (default true). */
  readonly leaderBalancing?: boolean;
  /** NodeHostConfig.maxSnapshotSendBytesPerSecond (default 0: unlimited). */
  readonly snapshotSendRate?: number;
  /** NodeHostConfig.maxSnapshotRecvBytesPerSecond (default 0: unlimited). */
  readonly snapshotRecvRate?: number;
}

/** Which step of starting failed, for a one-line error. */
export class StartError extends Error {
  constructor(readonly step: 'data-dir' | 'raft' | 'shard' | 'http', message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'StartError';
  }
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return 'address in use';
  if (code === 'EADDRNOTAVAIL') return 'address not available on this machine';
  if (code === 'EACCES') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

function dataDirError(o: KvReplicaOptions, e: unknown): StartError {
  const r = reason(e);
  return new StartError('data-dir', r.includes(o.dataDir) ? r : `data dir ${o.dataDir}: ${r}`, { cause: e });
}

function isEmptyOrAbsent(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * What can be refused before anything is written: the members, a first start without them,
 * a data dir of another replica, shard count or kind.
 * @throws StartError
 */
function checkOptions(o: KvReplicaOptions): void {
  const members = o.initialMembers;
  if (o.join && members.size > 0) {
    throw new StartError('shard', 'a joining replica takes no initial members', { cause: null });
  }
  if (members.size > 0 && !members.has(o.replicaId)) {
    throw new StartError('shard', `initial members ${[...members.keys()].join(',')} do not include replica ${o.replicaId}`, { cause: null });
  }
  if (!o.join && members.size === 0 && isEmptyOrAbsent(o.dataDir)) {
    throw new StartError('data-dir', `data dir ${o.dataDir} holds no data: give the initial members of a new shard, or join an existing one`, { cause: null });
  }
  try {
    verifyIdentity(o.dataDir, { replicaId: o.replicaId, shards: o.shards, stateMachine: o.stateMachine });
  } catch (e) {
    throw dataDirError(o, e);
  }
}

/**
 * Checks that the raft listen address is free (nothing is written yet), then creates the host.
 * @throws StartError('raft') for an address in use or not of this machine, or a host directory
 *   of another address, deployment or live process.
 */
async function createHost(o: KvReplicaOptions): Promise<NodeHost> {
  const addr = o.listenAddress ?? o.raftAddress;
  const hp = hostPort(addr);
  try {
    if (hp !== null) await checkListenable(hp.host, hp.port);
    return await NodeHost.create({
      nodeHostDir: o.dataDir, raftAddress: o.raftAddress, listenAddress: o.listenAddress, dialFromHost: o.dialFromHost,
      rttMillisecond: o.rttMs, deploymentId: o.deploymentId, tls: o.tls, logger: o.logger, leaderBalancing: o.leaderBalancing,
      maxSnapshotSendBytesPerSecond: o.snapshotSendRate, maxSnapshotRecvBytesPerSecond: o.snapshotRecvRate,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    const what = code?.startsWith('E') === true ? `raft address ${addr}: ${reason(e)}` : reason(e);
    throw new StartError('raft', what, { cause: e });
  }
}

/** Starts the replica of every shard. @throws StartError('shard') */
async function startShards(host: NodeHost, o: KvReplicaOptions): Promise<void> {
  for (let shardId = 1; shardId <= o.shards; shardId++) {
    const cfg: ShardConfig = {
      shardId, replicaId: o.replicaId, snapshotEntries: o.snapshotEntries, compactionOverhead: o.compactionOverhead,
      clusterToken: o.clusterToken, priorities: o.priorities, readMode: o.readMode,
      entryCompression: o.entryCompression,
    };
    try {
      if (o.stateMachine === 'disk') {
        await host.startOnDiskReplica(o.initialMembers, o.join,
          (s, r) => new DiskKvStateMachine(join(o.dataDir, 'kv', `shard-${s}-replica-${r}.sqlite`)), cfg);
      } else {
        await host.startConcurrentReplica(o.initialMembers, o.join, () => new MemoryKvStateMachine(), cfg);
      }
    } catch (e) {
      const r = reason(e);
      throw new StartError('shard', r.includes(`shard ${shardId}`) ? r : `shard ${shardId}: ${r}`, { cause: e });
    }
  }
}

/** A running KV replica. */
export class KvReplica {
  private constructor(readonly host: NodeHost, readonly http: KvHttpServer, readonly service: KvService) {}

  /**
   * Checks the options and the data dir, binds the HTTP port and checks the raft port — all
   * before anything is written to the data dir — then starts the host, every shard's replica
   * and the HTTP API. A start that fails after the host was created on an empty or absent data
   * dir removes what it wrote there ({@link NodeHost.abandonFirstStart}): a failed first start
   * leaves the data dir as it found it.
   * @throws StartError naming the step and the cause (a port in use, a data dir of another
   *   replica or address, a first start without members, …); whatever was started is closed again.
   */
  static async start(o: KvReplicaOptions): Promise<KvReplica> {
    const limits: KvLimits = { ...DEFAULT_LIMITS, ...o.limits };
    checkOptions(o);
    let listener: HttpListener;
    try {
      listener = await HttpListener.bind(o.httpHost, o.httpPort, o.httpSecurity?.tls);
    } catch (e) {
      throw new StartError('http', `HTTP address ${o.httpHost}:${o.httpPort}: ${reason(e)}`, { cause: e });
    }
    try {
      const host = await createHost(o);
      try {
        try {
          checkIdentity(o.dataDir, { replicaId: o.replicaId, shards: o.shards, stateMachine: o.stateMachine });
        } catch (e) {
          throw dataDirError(o, e);
        }
        await startShards(host, o);
        const service = new KvService(host, o.shards);
        const http = KvHttpServer.attach(listener, { service, replicaId: o.replicaId, limits, logger: o.logger, peers: o.peerHttp, security: o.httpSecurity });
        return new KvReplica(host, http, service);
      } catch (e) {
        await host.abandonFirstStart().catch(() => false);
        throw e;
      }
    } catch (e) {
      await listener.close().catch(() => {});
      throw e;
    }
  }

  /** The HTTP API's base URL. */
  get url(): string {
    return `${this.http.scheme}://${this.http.address}`;
  }

  /**
   * Stops cleanly: no new requests, up to `graceMs` for those in flight, then the host closes
   * (failing what still waits with 503 CLOSED) and the connections close.
   */
  async close(graceMs = 2000): Promise<void> {
    await this.http.drain(graceMs);
    await this.host.close();
    await this.http.shutdown();
  }
}
