/**
 * A small seeded pseudo-random generator (mulberry32), so that a chaos run's nemesis schedule
 * and client choices follow from its seed.
 */

/** A seeded source of uniform numbers in [0, 1) and helpers over it. */
export class Rng {
  private a: number;

  constructor(seed: number) {
    this.a = (seed >>> 0) ^ 0x9e3779b9;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.u32() / 2 ** 32;
  }

  /** A uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** A uniform element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('Rng.pick: empty array');
    return xs[Math.floor(this.next() * xs.length)] as T;
  }

  /** An element of `weighted` chosen with probability proportional to its weight. */
  weighted<T>(weighted: ReadonlyArray<readonly [T, number]>): T {
    const total = weighted.reduce((s, [, w]) => s + w, 0);
    let x = this.next() * total;
    for (const [v, w] of weighted) {
      if (x < w) return v;
      x -= w;
    }
    return (weighted[weighted.length - 1] as readonly [T, number])[0];
  }
}
