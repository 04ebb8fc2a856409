/**
 * The unit a transport carries (part of sampan's contracts, `src/contracts/`: dragonboat's
 * `raftio`): what a {@link TransportHandler} receives and the wire codec encodes.
 */
import type { Message } from '../core/types.js';
import type { TransportHandler } from './transport.js';

// Referenced from doc comments only.
export type { TransportHandler };

/**
 * A group of messages from one host to another, sent as one frame. Every batch carries the
 * sender's deployment id so that clusters sharing a network cannot talk to each other.
 */
export interface MessageBatch {
  /** Identifies the cluster; a receiver drops batches whose id differs from its own. */
  readonly deploymentId: number;
  /** The sender's advertised raft address, for logs and diagnostics. */
  readonly sourceAddress: string;
  /** The messages, all network kinds, in the order sent. */
  readonly messages: readonly Message[];
  /**
   * For each message, the cluster identity of the sending replica's shard (fixed when the
   * shard was bootstrapped; see the host's cluster identity). 0 means unknown: a replica that
   * has not learned it yet, or a peer of an earlier release. Absent means all 0.
   */
  readonly clusterIds?: readonly number[];
}
