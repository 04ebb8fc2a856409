/**
 * The nemesis schedule of a chaos run: which faults, when, how long, drawn from the seed
 * before the run starts (so `--seed S` replays the same schedule; which replica leads at a
 * given moment, and the clients' timing, still vary).
 */
import { Rng } from './rng.js';

/**
 * The kinds of fault the nemesis injects:
 * - `kill` / `kill-leader`: SIGKILL a random replica / the leader, restart it later;
 * - `pause` / `pause-leader`: SIGSTOP, later SIGCONT;
 * - `snapshot`: snapshot requests on their own;
 * - `restart-all`: SIGKILL every replica, restart them all;
 * - `partition-halves`: a random majority and minority cannot reach each other;
 * - `partition-leader`: the leader is cut off from everyone;
 * - `bridge`: two halves that cannot reach each other, and one replica that reaches both;
 * - `one-way`: the leader can send but not receive, or receive but not send;
 * - `transfer`: a leader transfer to a random other replica;
 * - `membership`: a follower is removed, wiped and added back under a new replica id;
 * - `move-replica`: a member is moved to a new replica id on a new process (`POST /admin/move`), then stopped and wiped;
 * - `disk`: a replica is killed, its WAL tail torn, a WAL record or its newest snapshot
 *   corrupted, and it is restarted (and replaced if it refuses to start);
 * - `rolling-restart`: every replica in turn stopped with SIGTERM (it drains its leadership)
 *   and started again, `duration` ms apart;
 * - `new-address`: a replica (often the leader) is killed and restarted on a new raft address,
 *   its old address gone, with no membership change;
 * - `joint-replace`: a member replaced by a new replica id through one joint change per shard
 *   (`POST /admin/members {"ops":[…]}`), half of the time with the shard's leader killed
 *   mid-change and restarted `duration` ms later.
 */
export const FAULT_KINDS = [
  'kill', 'kill-leader', 'pause', 'pause-leader', 'snapshot', 'restart-all',
  'partition-halves', 'partition-leader', 'bridge', 'one-way', 'transfer', 'membership', 'disk', 'rolling-restart',
  'move-replica', 'new-address', 'joint-replace',
] as const;

/** One kind of fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The faults `npm test`'s short run and the first chaos runs used: processes only. */
export const PROCESS_FAULTS: readonly FaultKind[] = ['kill', 'kill-leader', 'pause', 'pause-leader', 'snapshot', 'restart-all'];

/** The network faults (through the proxies). */
export const NETWORK_FAULTS: readonly FaultKind[] = ['partition-halves', 'partition-leader', 'bridge', 'one-way'];

/** A step of the nemesis schedule, drawn from the seed before the run. */
export interface PlannedFault {
  /** ms after the start at which it begins (or as soon as the previous one ends). */
  readonly at: number;
  readonly kind: FaultKind;
  /** How long the fault lasts (ms): down time, frozen time, partition time, time out of the cluster. */
  readonly duration: number;
  /** Chooses the replica, partition or damage (a seed for the fault's own choices). */
  readonly pick: number;
  /** Whether to request snapshots while the fault lasts. */
  readonly snapshot: boolean;
  /** The shard whose leader is targeted, or snapshotted. */
  readonly shardPick: number;
}

const WEIGHTS: Record<FaultKind, number> = {
  'kill': 3, 'kill-leader': 4, 'pause': 2, 'pause-leader': 3, 'snapshot': 1, 'restart-all': 1,
  'partition-halves': 3, 'partition-leader': 3, 'bridge': 2, 'one-way': 3, 'transfer': 2, 'membership': 2, 'disk': 3, 'rolling-restart': 1,
  'move-replica': 2, 'new-address': 3, 'joint-replace': 2,
};

function durationOf(kind: FaultKind, rng: Rng): number {
  switch (kind) {
    case 'snapshot': return 0;
    case 'restart-all': return rng.int(200, 1500);
    case 'pause': case 'pause-leader': return rng.int(500, 7000);
    case 'partition-halves': case 'partition-leader': case 'bridge': case 'one-way': return rng.int(1000, 6000);
    case 'transfer': return rng.int(300, 1500);
    case 'membership': return rng.int(300, 3000);
    case 'rolling-restart': return rng.int(300, 2000);
    case 'move-replica': return rng.int(200, 1500);
    case 'joint-replace': return rng.int(300, 3000);
    default: return rng.int(200, 4000);
  }
}

/** The nemesis schedule of a run: a pure function of its settings. */
export function planFaults(seed: number, timeSec: number, kinds: readonly FaultKind[]): PlannedFault[] {
  const rng = new Rng(seed * 7919 + 17);
  const table = kinds.map((k) => [k, WEIGHTS[k]] as const);
  const out: PlannedFault[] = [];
  let t = 1500 + rng.int(0, 1000);
  // Leave the last few seconds quiet so the end of the load is not all unknown outcomes.
  while (t < timeSec * 1000 - 3000 && table.length > 0 && out.length < 10_000) {
    const kind = rng.weighted(table);
    const duration = durationOf(kind, rng);
    out.push({ at: t, kind, duration, pick: rng.u32(), snapshot: rng.next() < 0.5, shardPick: rng.u32() });
    t += duration + rng.int(800, 3500);
  }
  return out;
}
