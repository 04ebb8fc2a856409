/**
 * Helpers the transports share: zeroed counters and the kinds of message that may cross the
 * network. The contract itself is `src/contracts/transport.ts`.
 */
import type { TransportStats } from '../contracts/transport.js';

/** A zeroed {@link TransportStats}. */
export function emptyStats(): TransportStats {
  return {
    messagesSent: 0, bytesSent: 0, batchesSent: 0, messagesReceived: 0, bytesReceived: 0, batchesReceived: 0,
    messagesDropped: 0, badFrames: 0, connectionFailures: 0, connectionStalls: 0, connectionsAccepted: 0, connectionsRejected: 0,
    unreachableReported: 0, snapshotsSent: 0, snapshotsReceived: 0, snapshotFailures: 0,
    snapshotBytesSent: 0, snapshotBytesReceived: 0,
  };
}

/**
 * Message kinds that may cross the network: the replica-to-replica kinds, and the three a
 * follower forwards to its leader (a proposal, a read index request, a leader transfer
 * request). Everything else (ticks, elections, status reports) is host-local and refused.
 */
export function isNetworkMessageType(type: number): boolean {
  return (type >= 16 && type <= 30) || type === 3 || type === 7 || type === 8;
}
