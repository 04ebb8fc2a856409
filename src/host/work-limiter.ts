/** Bounded concurrency for background work (snapshot saves, recoveries and streams). */

/** Runs at most `limit` tasks at once; the rest wait their turn in arrival order. */
export class WorkLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** Runs `work` once a slot is free; resolves or rejects as `work` does. */
  async run(work: () => Promise<void>): Promise<void> {
    if (this.running >= this.limit) await new Promise<void>((res) => this.waiting.push(res));
    this.running++;
    try {
      await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
