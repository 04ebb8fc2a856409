/**
 * A NodeHost's tick timer: one interval of the host runtime's timers, every `rttMillisecond`,
 * that ticks the leader transfers, the leader balancer and every replica (as many ticks as each
 * is due: see tick-clock.ts), and hands those with work to the engine.
 */
import type { TimerHandle, Timers } from '../runtime/index.js';
import type { Replica } from './replica.js';

/** What a tick drives. */
export interface TickTargets {
  /** Leader transfers (an abandoned one is rejected). */
  readonly transfers: { tick(): void };
  /** The leader balancer. */
  readonly balancer: { tick(): void };
  /** The host's replicas now. */
  replicas(): Iterable<Replica>;
  /** Hands a replica with work to the engine. */
  setReady(r: Replica): void;
}

/** The running tick timer of a host. */
export class HostTicker {
  private readonly handle: TimerHandle;

  /** Starts ticking every `ms` on `timers` (unref'd: it keeps no process alive). */
  constructor(private readonly timers: Timers, ms: number, private readonly targets: TickTargets) {
    this.handle = timers.setInterval(() => this.tick(), ms).unref();
  }

  private tick(): void {
    this.targets.transfers.tick();
    this.targets.balancer.tick();
    for (const r of this.targets.replicas()) {
      // A quiesced replica has nothing to time (ticksDue is 0); any message or request wakes it.
      if (r.identityConflict !== null) continue;
      for (let n = r.ticksDue(); n > 0; n--) r.peer.tick();
      if (r.tickReads() || r.peer.hasUpdate()) this.targets.setReady(r);
    }
  }

  /** Stops the timer. Idempotent. */
  stop(): void {
    this.timers.clearInterval(this.handle);
  }
}
