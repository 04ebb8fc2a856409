/**
 * The leader's read lease (Raft thesis §6.4.1; etcd raft's ReadOnlyLeaseBased). In lease
 * mode a leader answers a linearizable read at once, without a heartbeat round, while no
 * other replica can have become leader and committed anything.
 *
 * Why it holds (time is ticks; no wall clock enters the core):
 * - Every heartbeat carries the leader's tick at sending (`Raft.ticks`), and the follower's
 *   HeartbeatResp echoes it. An echo of tick t proves the follower received a message the
 *   leader sent at or after its tick t; receiving it reset the follower's election timer.
 * - With check-quorum, a follower that hears from a leader ignores vote requests of higher
 *   terms (and refuses a manual campaign) until `electionTicks` of its own ticks have passed
 *   (`handlers.ts`, `inFollowerLease`); a replica that just started does the same during its
 *   first `electionTicks` ticks (it may have forgotten such a message). Its own election
 *   timeout is drawn from [electionTicks, 2·electionTicks), so it never campaigns sooner.
 * - So once a quorum (the leader itself included) echoed ticks ≥ t, no other leader can be
 *   elected — let alone commit — until `electionTicks − 1` follower ticks after t. The leader
 *   serves lease reads while `ticks − t < electionTicks − 1 − leaseDriftTicks`: one tick for
 *   tick granularity, `leaseDriftTicks` for followers whose clocks run faster than its own.
 * The lease is given up on leaving leadership, when leadership transfer sends TimeoutNow (the
 * target's campaign bypasses the followers' lease: no lease for the rest of the term), on
 * every membership change applied by the leader, and while quiesced (a quiesced leader does
 * not tick, so it cannot measure time; waking starts afresh). It is used only once the leader
 * committed an entry of its term, as ReadIndex.
 */
import { jointQuorumIndex } from './quorum.js';

/** The lease state of one leader; cleared at every change of role or term. */
export class LeaderLease {
  /** Per voting member: the newest leader send tick it echoed. */
  private readonly acked = new Map<number, number>();
  /** Echoes of heartbeats sent before this tick are ignored (they predate a reset). */
  private floor = 0;
  /** Set when TimeoutNow was sent: no lease until the next reset (a new term or role). */
  private revoked = false;

  /**
   * Forgets every acknowledgement: only heartbeats sent from `now` on renew the lease again.
   * Also lifts a revocation (call it at a change of term or role).
   */
  reset(now: number): void {
    this.acked.clear();
    this.floor = now;
    this.revoked = false;
  }

  /** Drops the acknowledgements so far (membership change, waking from quiescence). */
  restart(now: number): void {
    this.acked.clear();
    this.floor = now;
  }

  /** Gives up the lease until the next {@link reset}: leadership transfer sent TimeoutNow. */
  revoke(): void {
    this.revoked = true;
  }

  /** Whether the lease was given up for the rest of the term. */
  get isRevoked(): boolean { return this.revoked; }

  /** `from` echoed a heartbeat the leader sent at tick `sentTick`. */
  ack(from: number, sentTick: number): void {
    if (sentTick < this.floor) return;
    if ((this.acked.get(from) ?? -1) < sentTick) this.acked.set(from, sentTick);
  }

  /**
   * The send tick the lease runs from: the newest tick t such that a quorum of `incoming` —
   * and, in a joint configuration, also of `outgoing` (thesis §4.3: a new leader needs both) —
   * echoed a heartbeat sent at t or later (`self` counting as `now`); -1 when there is none.
   */
  start(incoming: ReadonlySet<number>, outgoing: ReadonlySet<number>, self: number, now: number): number {
    return jointQuorumIndex(incoming, outgoing, (id) => (id === self ? now : this.acked.get(id) ?? -1));
  }

  /**
   * Whether the lease covers `now`: not revoked, and fewer than `length` ticks since
   * {@link start}.
   */
  valid(incoming: ReadonlySet<number>, outgoing: ReadonlySet<number>, self: number, now: number, length: number): boolean {
    if (this.revoked) return false;
    const t = this.start(incoming, outgoing, self, now);
    return t >= 0 && now - t < length;
  }
}
