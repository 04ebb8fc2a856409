/** The options of the NodeHost calls that add to the request options every call takes. */
import type { RequestOptions } from './request.js';
import type { ClientSession } from './session.js';

/** Options of a proposal. */
export interface ProposeOptions extends RequestOptions {
  /** A client session for exactly-once application (see {@link NodeHost.getNewSession}). */
  readonly session?: ClientSession;
  /** Called with the entry's index once committed, before it is applied (see {@link NodeHost.proposeTracked}). */
  readonly onCommitted?: (index: number) => void;
}

/** Options of a membership change. */
export interface MembershipChangeOptions extends RequestOptions {
  /** Called with the change's index once committed, before it is applied (dragonboat's CommittedC). */
  readonly onCommitted?: (index: number) => void;
  /** With ordered config changes: the membership version the change expects. */
  readonly configChangeId?: number;
  /** requestAddReplica only: add as non-voting, wait until caught up (this host must lead), then promote. */
  readonly catchUpFirst?: boolean;
  /**
   * Skip the leader's live-quorum check for this change (etcd's `--strict-reconfig-check=false`
   * for one call): a voter is added, or a live one removed, even when the new configuration
   * would not have a quorum of live voters — which can leave the shard unable to commit until
   * the missing voters start. Default false.
   */
  readonly force?: boolean;
}
