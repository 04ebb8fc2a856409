/**
 * The Raft protocol core: pure, synchronous, deterministic. A host drives each replica through
 * a {@link Peer}: `step` messages and `tick` in, one {@link Update} out at a time.
 * @packageDocumentation
 * @module sampan/core
 */
export { Peer } from './peer.js';
export type { Update, SoftState, PeerStart, PeerStatus } from './peer.js';
export type { QuorumHealth } from './quorum-health.js';
export { resolveRaftConfig, RAFT_DEFAULTS, leaseTicks } from './config.js';
export type { RaftConfig, RaftConfigInput, ReadMode } from './config.js';
export { Role, RoleName, PROPOSE_FORCE } from './raft.js';
export { decodeShortfall, encodeShortfall } from './live-quorum.js';
export type { LiveQuorumShortfall } from './live-quorum.js';
export { MemoryLogStorage, limitSize } from './log-storage.js';
export type { LogStorage } from './log-storage.js';
export { SeededRandom } from './random.js';
export type { RandomSource } from './random.js';
export { CompactedError, UnavailableError, SnapshotOutOfDateError } from './errors.js';
export { validateConfigChange, applyConfigChange, isMember, addressOf, membershipOf } from './membership.js';
export { planEnterJoint, planLeaveJoint, leavingIds } from './confchange.js';
export type { Plan } from './confchange.js';
export { encodeConfigChange, decodeConfigChange } from '../encoding/config-change.js';
export { majority, quorumIndex, voteResult, VoteResult, jointQuorumIndex, jointVoteResult, jointHasQuorum } from './quorum.js';
export { ProgressState } from './progress.js';
export {
  EntryType, SeriesId, NO_SESSION, EMPTY_HARD_STATE, ConfigChangeType, StateMachineType, MessageType,
  MessageTypeName, EMPTY_BYTES, emptyMembership, emptySnapshot, message, entry, entrySize,
} from './types.js';
export type {
  Entry, HardState, Membership, JointState, ConfigChange, ConfigChangeOp, SnapshotFile, SnapshotMeta, Message, ReadContext, ReadyToRead,
} from './types.js';
