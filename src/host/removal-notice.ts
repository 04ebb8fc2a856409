/**
 * Telling a removed replica that it was removed. The leader stops replicating to a replica once
 * its removal is committed, so the removed replica often never applies its own removal: it
 * keeps waiting for a leader (requests time out) and campaigning. A member that has applied
 * the removal answers any message from it with a ReplicaRemoved notice (at most once a second
 * per replica); the removed replica then fails its requests with ReplicaRemovedError.
 *
 * A notice is trusted because removal is permanent (a removed id never returns) and it comes
 * in a batch whose cluster identity was already checked. A notice from a replica that is not
 * a member in the receiver's view is ignored.
 */
import { MessageType, message, type Message } from '../core/types.js';
import { realRuntime } from '../runtime/index.js';

/** At most one notice per removed replica per this many ms. */
const NOTICE_EVERY_MS = 1000;

/** The parts of a replica the notices need. */
export interface RemovableReplica {
  readonly shardId: number;
  readonly replicaId: number;
  readonly removed: boolean;
  readonly rsm: { readonly membership: { readonly voters: ReadonlyMap<number, string>; readonly nonVoting: ReadonlyMap<number, string>;
    readonly witnesses: ReadonlyMap<number, string>; readonly removed: ReadonlySet<number> } };
  markRemoved(why: string): void;
}

/** Answers removed replicas, and learns of this host's own removal. */
export class RemovalNotices {
  private readonly sent = new Map<string, number>();

  constructor(private readonly notify: (m: Message) => void, private readonly now: () => number = realRuntime.clock.now) {}

  /** Whether `m` may be stepped into `r`; a notice, or a message from a removed replica, is handled here. */
  admit(r: RemovableReplica, m: Message): boolean {
    const ms = r.rsm.membership;
    if (m.type === MessageType.ReplicaRemoved) {
      if (m.to === r.replicaId && (ms.voters.has(m.from) || ms.nonVoting.has(m.from) || ms.witnesses.has(m.from))) {
        r.markRemoved(`replica ${m.from} reports it`);
      }
      return false;
    }
    if (!ms.removed.has(m.from)) return true;
    const key = `${r.shardId}:${m.from}`;
    const now = this.now();
    const last = this.sent.get(key);
    if (last === undefined || now - last >= NOTICE_EVERY_MS) {
      this.sent.set(key, now);
      this.notify(message({ type: MessageType.ReplicaRemoved, shardId: r.shardId, from: r.replicaId, to: m.from }));
    }
    return false;
  }
}
