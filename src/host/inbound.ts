/**
 * What a NodeHost does with what its transport hands it: message batches (identity checked,
 * then stepped into the replica), unreachable reports, snapshot stream outcomes, incoming
 * snapshot streams and connection changes.
 */
import type { Message } from '../core/types.js';
import type { Logger } from '../logger.js';
import type { MessageBatch } from '../contracts/message-batch.js';
import type { TransportHandler } from '../contracts/transport.js';
import type { ClusterIdentityGuard } from './cluster-identity.js';
import type { TypedEmitter } from './events.js';
import { IncomingSnapshots } from './incoming-snapshots.js';
import { RemovalNotices } from './removal-notice.js';
import type { Replica } from './replica.js';

/** The parts of a host the inbound path uses. */
export interface InboundHost {
  readonly logger: Logger;
  readonly replicas: ReadonlyMap<number, Replica>;
  readonly engine: { setReady(r: Replica): void };
  readonly identity: ClusterIdentityGuard<Replica>;
  readonly events: TypedEmitter;
  knowsAddress(shardId: number, replicaId: number): boolean;
  setAddress(shardId: number, replicaId: number, address: string): void;
  /** Steps a message into its replica (dropped when the replica is gone, stopped or fenced). */
  deliver(m: Message): void;
  /** Sends a host-level notice (no replica of this host steps it). */
  notify(m: Message): void;
  /** The host's monotonic clock (rate-limits removal notices). */
  now(): number;
}

/** The transport handler of a host. */
export function inboundHandler(h: InboundHost): TransportHandler {
  const removals = new RemovalNotices((m) => h.notify(m), () => h.now());
  const receiver = new IncomingSnapshots({
    logger: h.logger,
    replica: (shardId) => h.replicas.get(shardId),
    deliver: (m) => h.deliver(m),
    received: (r, index, from) => {
      r.counters.snapshotsReceived++;
      h.events.emit('snapshot:received', { shardId: r.shardId, replicaId: r.replicaId, index, from });
    },
  });
  return {
    handleMessageBatch: (batch: MessageBatch) => {
      const ids = batch.clusterIds;
      for (let i = 0; i < batch.messages.length; i++) {
        const m = batch.messages[i]!;
        const r = h.replicas.get(m.shardId);
        if (r === undefined) continue;
        // A replica that joined knows no addresses yet: learn the sender's from its batch,
        // as dragonboat does, so that it can answer the leader (or refuse it, below).
        if (!h.knowsAddress(m.shardId, m.from)) h.setAddress(m.shardId, m.from, batch.sourceAddress);
        if (!h.identity.admit(r, m, ids?.[i] ?? 0, batch.sourceAddress)) continue;
        if (!removals.admit(r, m)) continue;
        h.deliver(m);
      }
    },
    clusterIdOf: (shardId) => h.replicas.get(shardId)?.clusterId ?? 0,
    handleUnreachable: (shardId, replicaId) => {
      const r = h.replicas.get(shardId);
      if (r === undefined) return;
      r.peer.reportUnreachable(replicaId);
      h.engine.setReady(r);
    },
    handleSnapshotStatus: (shardId, replicaId, failed) => {
      const r = h.replicas.get(shardId);
      if (r === undefined) return;
      r.streamDone(replicaId);
      if (failed) r.counters.snapshotSendFailures++;
      else r.counters.snapshotsSent++;
      r.peer.reportSnapshotStatus(replicaId, failed);
      h.engine.setReady(r);
    },
    snapshotReceiver: receiver,
    handleConnection: (address, established) => {
      h.events.emit(established ? 'connection:established' : 'connection:failed', { address });
    },
  };
}
