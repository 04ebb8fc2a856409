/** The simulator's seeded random source (sfc32): every choice of a run comes from its seed. */
import { SeededRandom } from '../../src/core/random.js';
import type { RandomSource } from '../../src/runtime/runtime.js';

/** A seeded generator implementing the runtime's {@link RandomSource}. */
export class SimRandom implements RandomSource {
  /** The core's sfc32 generator: the simulator's choices come from the same generator as the core's timeouts. */
  private readonly gen: SeededRandom;

  constructor(seed: number) {
    this.gen = new SeededRandom(seed);
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  next(): number {
    return this.gen.next();
  }

  /** An integer in [min, max) (max > min). */
  int(min: number, max: number): number {
    const span = max - min;
    if (span <= 2 ** 32) return min + Math.floor((this.next() / 2 ** 32) * span);
    return min + Math.floor(this.float() * span);
  }

  /** A float in [0, 1) with 53 random bits. */
  float(): number {
    return ((this.next() >>> 5) * 67108864 + (this.next() >>> 6)) / 9007199254740992;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length)]!;
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }

  /** A new generator seeded from this one (an independent stream). */
  fork(): SimRandom {
    return new SimRandom(this.next());
  }
}
