/**
 * The parts `NodeHost.create` opens before the host exists: the LogDB (a WAL in the host
 * directory unless the config brings its own) and the transport factory (TCP with the host
 * registry unless the config brings its own).
 */
import { join } from 'node:path';
import type { LogDB } from '../contracts/log-db.js';
import type { Transport, TransportHandler } from '../contracts/transport.js';
import { WalLogDB } from '../logdb/wal-log-db.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import type { ResolvedHostConfig } from './config.js';
import type { StoredHostIdentity } from './dir-lock.js';
import { openHostRegistry } from './host-registry-file.js';

/** Opens the host's LogDB: `cfg.logDBFactory`'s, or a WalLogDB in `walDir` (default `<nodeHostDir>/wal`) on the host's runtime. */
export async function openLogDB(cfg: ResolvedHostConfig): Promise<LogDB> {
  return cfg.logDBFactory !== undefined
    ? await cfg.logDBFactory(cfg.nodeHostDir, cfg.walDir)
    : await WalLogDB.open({ dir: cfg.walDir ?? join(cfg.nodeHostDir, 'wal'), fsync: !cfg.unsafeNoFsync, runtime: cfg.runtime });
}

/** The transport factory: `cfg.transportFactory`, or a TcpTransport on the host's runtime routing through the host registry of `identity`. */
export function transportFactoryOf(cfg: ResolvedHostConfig, identity: StoredHostIdentity | undefined): (handler: TransportHandler) => Transport {
  return cfg.transportFactory ?? ((handler: TransportHandler) => new TcpTransport({
    listenAddress: cfg.listenAddress, advertiseAddress: cfg.raftAddress, dialFromHost: cfg.dialFromHost,
    deploymentId: cfg.deploymentId, handler, tls: cfg.tls, logger: cfg.logger, stallTimeoutMs: cfg.transportStallTimeoutMs,
    registry: openHostRegistry(cfg.nodeHostDir, identity, cfg.logger, cfg.runtime), runtime: cfg.runtime,
    snapshotSendBytesPerSecond: cfg.maxSnapshotSendBytesPerSecond, snapshotRecvBytesPerSecond: cfg.maxSnapshotRecvBytesPerSecond,
    maxSendQueueBytes: cfg.maxSendQueueBytes, maxReceiveQueueBytes: cfg.maxReceiveQueueBytes,
  }));
}
