/**
 * The shapes of the nemesis's network partitions, as pure functions of the member set (and a
 * seeded generator): which directed links to cut, which replicas keep a quorum (snapshots are
 * requested there, so that the others must catch up by snapshot once healed), and a
 * description for the log.
 */
import { cutsBetween, type Cut } from './network.js';
import type { Rng } from './rng.js';

/** A partition to apply. */
export interface PartitionPlan {
  readonly cuts: readonly Cut[];
  /** Replicas that can still form a quorum among themselves (where snapshots are requested). */
  readonly majority: readonly number[];
  readonly description: string;
}

function shuffled(xs: readonly number[], rng: Rng): number[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j] as number, out[i] as number];
  }
  return out;
}

const list = (xs: readonly number[]): string => `{${[...xs].sort((a, b) => a - b).join(',')}}`;

/** A random majority and minority (of 1 to ⌊(n−1)/2⌋ replicas) that cannot reach each other. */
export function halves(members: readonly number[], rng: Rng): PartitionPlan {
  const s = shuffled(members, rng);
  const size = rng.int(1, Math.max(1, Math.floor((s.length - 1) / 2)));
  const minority = s.slice(0, size);
  const majority = s.slice(size);
  return { cuts: cutsBetween(majority, minority), majority, description: `majority ${list(majority)} | minority ${list(minority)}` };
}

/** `victim` (the leader) cut off from every other replica. */
export function isolate(members: readonly number[], victim: number): PartitionPlan {
  const rest = members.filter((m) => m !== victim);
  return { cuts: cutsBetween([victim], rest), majority: rest, description: `${victim} isolated from ${list(rest)}` };
}

/**
 * A bridge: the replicas but one split into two halves that cannot reach each other; the
 * remaining one (the bridge) reaches both. Each half plus the bridge is a majority.
 */
export function bridge(members: readonly number[], rng: Rng): PartitionPlan {
  const s = shuffled(members, rng);
  const [b, ...rest] = s as [number, ...number[]];
  const half = Math.floor(rest.length / 2);
  const left = rest.slice(0, half);
  const right = rest.slice(half);
  return { cuts: cutsBetween(left, right), majority: members, description: `${list(left)} | ${list(right)} bridged by ${b}` };
}

/**
 * A one-way partition around `victim`: with `direction` 'in' it can send but receives nothing
 * from the others; with 'out' it receives but nothing it sends arrives.
 */
export function oneWay(members: readonly number[], victim: number, direction: 'in' | 'out'): PartitionPlan {
  const rest = members.filter((m) => m !== victim);
  const cuts = rest.map((r) => (direction === 'in' ? { from: r, to: victim } : { from: victim, to: r }));
  return {
    cuts, majority: rest,
    description: direction === 'in' ? `${victim} sends but receives nothing from ${list(rest)}` : `${victim} receives but cannot send to ${list(rest)}`,
  };
}
