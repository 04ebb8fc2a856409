import type { ShardId } from '../contracts/ids.js';

/**
 * A client session: the identity under which proposals are applied exactly once (thesis §6.3).
 * Use one session per client at a time; after a proposal resolves, call
 * {@link ClientSession.proposalCompleted} before the next one. Retrying a proposal that timed
 * out with the session unchanged applies it at most once and returns its first result.
 */
export class ClientSession {
  /** The series id the next proposal carries. */
  seriesId = 1;
  /** The highest series id whose reply the client has seen. */
  respondedTo = 0;

  /** Sessions come from `NodeHost.getNewSession`. */
  constructor(
    /** The shard the session was registered with; it is valid for that shard only. */
    readonly shardId: ShardId,
    /** The session's client id, unique in the shard, carried by every proposal it makes. */
    readonly clientId: number,
  ) {}

  /** The proposal with the current series id completed: move to the next series id. */
  proposalCompleted(): void {
    this.respondedTo = this.seriesId;
    this.seriesId++;
  }
}
