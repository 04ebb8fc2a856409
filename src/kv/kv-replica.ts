/**
 * One replica of the KV service: a NodeHost with a replica of every shard (1..shards) and
 * the HTTP API in front of it. `sampan kv` runs one per process; `sampan demo` runs three in
 * one process.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NodeHost, type Logger, type NodeHostConfig, type ShardConfig } from '../index.js';
import { DiskKvStateMachine } from './disk-state-machine.js';
import { KvHttpServer } from './http-server.js';
import { KvService } from './kv-service.js';
import { DEFAULT_LIMITS, type KvLimits } from './limits.js';
import { MemoryKvStateMachine } from './memory-state-machine.js';
import { checkIdentity } from './replica-identity.js';
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

/** A running KV replica. */
export class KvReplica {
  private constructor(readonly host: NodeHost, readonly http: KvHttpServer, readonly service: KvService) {}

  /**
   * Starts the host, every shard's replica, then the HTTP API.
   * @throws StartError naming the step and the cause (a port in use, a data dir of another
   *   replica or address, a restart without data, …); whatever was started is closed again.
   */
  static async start(o: KvReplicaOptions): Promise<KvReplica> {
    const limits: KvLimits = { ...DEFAULT_LIMITS, ...o.limits };
    try {
      mkdirSync(o.dataDir, { recursive: true });
      checkIdentity(o.dataDir, { replicaId: o.replicaId, shards: o.shards, stateMachine: o.stateMachine });
    } catch (e) {
      const r = reason(e);
      throw new StartError('data-dir', r.includes(o.dataDir) ? r : `data dir ${o.dataDir}: ${r}`, { cause: e });
    }
    let host: NodeHost;
    try {
      host = await NodeHost.create({
        nodeHostDir: o.dataDir, raftAddress: o.raftAddress, listenAddress: o.listenAddress, dialFromHost: o.dialFromHost,
        rttMillisecond: o.rttMs, deploymentId: o.deploymentId, tls: o.tls, logger: o.logger,
      });
    } catch (e) {
      const addr = o.listenAddress ?? o.raftAddress;
      const code = (e as NodeJS.ErrnoException | undefined)?.code;
      const what = code?.startsWith('E') === true ? `raft address ${addr}: ${reason(e)}` : reason(e);
      throw new StartError('raft', what, { cause: e });
    }
    try {
      for (let shardId = 1; shardId <= o.shards; shardId++) {
        const cfg: ShardConfig = {
          shardId, replicaId: o.replicaId, snapshotEntries: o.snapshotEntries, compactionOverhead: o.compactionOverhead,
          clusterToken: o.clusterToken,
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
      const service = new KvService(host, o.shards);
      let http: KvHttpServer;
      try {
        http = await KvHttpServer.listen({ service, replicaId: o.replicaId, limits, logger: o.logger, peers: o.peerHttp, security: o.httpSecurity }, o.httpHost, o.httpPort);
      } catch (e) {
        throw new StartError('http', `HTTP address ${o.httpHost}:${o.httpPort}: ${reason(e)}`, { cause: e });
      }
      return new KvReplica(host, http, service);
    } catch (e) {
      await host.close().catch(() => {});
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
