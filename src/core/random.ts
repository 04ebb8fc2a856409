/**
 * The seeded random source the core draws election timeouts from. Injected so that any run,
 * in a test or the simulator, can be replayed from its seed.
 */

/** A source of uniformly distributed integers. */
export interface RandomSource {
  /** Returns an integer in [0, n). `n` is a positive integer. */
  intn(n: number): number;
}

/**
 * A small, fast, seeded generator (sfc32). Not for cryptography; its purpose is replayable
 * tests and spreading election timeouts.
 */
export class SeededRandom implements RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Creates a generator from a 32-bit integer seed. */
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** The next 32-bit unsigned value. */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Returns an integer in [0, n). */
  intn(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }

  /** Returns a float in [0, 1). */
  float(): number {
    return this.next() / 0x100000000;
  }
}
