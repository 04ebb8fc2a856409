/**
 * Bare commit indexes held for one engine pass. A leader whose commit index advances sends
 * every follower an empty Replicate that carries only the new index (the core's
 * `broadcastReplicate`, as etcd raft's `bcastAppend` and dragonboat's do). Under load the next
 * pass sends those followers new entries anyway — the clients whose entries just committed
 * propose again as soon as they are applied — and that Replicate carries the same commit index
 * or a later one. So when the entries just committed were proposed on the leader's own
 * replica (`Replica.committedLocalProposal`; a follower's forwarded proposals wait on their
 * own replica learning the commit index, so theirs go at once), the engine holds the empty
 * Replicate back for one pass: if a Replicate of
 * the next pass, from the same replica to the same follower, carries the same or a later term
 * and commit index, the held one is dropped (the follower learns the commit index from it and
 * answers one message instead of two); otherwise it is sent at the start of that pass, before
 * the pass's own messages. With many shards this halves the Replicates and the ReplicateResps
 * per proposal (issue 19). Dropping an outgoing message is what a lossy network does, so it
 * cannot make Raft unsafe; a held message is never delayed past the next pass, which the
 * engine runs at once when it holds one (etcd raft's `Progress.sentCommit` likewise skips an
 * empty append when the follower already has the commit index).
 */
import { MessageType, type Message } from '../core/types.js';

/** Whether `m` is a Replicate with no entries: a bare commit index (or a probe). */
export function isBareCommit(m: Message): boolean {
  return m.type === MessageType.Replicate && m.entries.length === 0;
}

/**
 * Whether `later`, sent after `held` to the same follower, tells it everything `held` would.
 * Only a Replicate with entries counts: a later bare commit is held in its turn, so a held
 * message is never replaced by one that is itself held (no chain of delays).
 */
function subsumes(later: Message, held: Message): boolean {
  return later.type === MessageType.Replicate && later.entries.length > 0 && later.term >= held.term && later.commit >= held.commit;
}

/** Empty Replicates held from one pass to the next, per sending replica and follower. */
export class BareCommits<R extends object> {
  /** Held messages by sender, then by follower id (the newest per follower: commit indexes only grow). */
  private held = new Map<R, Map<number, Message>>();
  /** Held messages dropped because a later Replicate carried their commit index. */
  dropped = 0;

  /** Whether any message is held. */
  get size(): number { return this.held.size; }

  /** Holds `m` (a bare commit from `sender`) until the next pass. */
  hold(sender: R, m: Message): void {
    let byTo = this.held.get(sender);
    if (byTo === undefined) this.held.set(sender, (byTo = new Map()));
    byTo.set(m.to, m);
  }

  /**
   * The start of a pass: each held message is dropped when `sender`'s messages of this pass
   * (`pass` gives them for a sender; none when it has no update) include a later Replicate to
   * the same follower that subsumes it, else handed to `send` — before the pass's own
   * messages. `alive(sender)` false drops a stopped sender's messages. Afterwards nothing is held.
   */
  release(pass: (sender: R) => readonly Message[] | undefined, alive: (sender: R) => boolean, send: (sender: R, m: Message) => void): void {
    if (this.held.size === 0) return;
    const held = this.held;
    this.held = new Map();
    for (const [sender, byTo] of held) {
      if (!alive(sender)) continue;
      const msgs = pass(sender);
      for (const m of byTo.values()) {
        if (msgs !== undefined && msgs.some((x) => x.to === m.to && subsumes(x, m))) {
          this.dropped++;
          continue;
        }
        send(sender, m);
      }
    }
  }

  /** Forgets every held message (the engine closes). */
  clear(): void {
    this.held.clear();
  }
}
