/**
 * LogDBs whose writes a test can hold: a {@link Gate} per host, and {@link gatedTrio}, three
 * hosts on the in-memory network with shard 1 elected.
 */
import { HostCluster } from './cluster.js';
import { MemoryLogDB } from '../../../src/logdb/memory-log-db.js';
import type { LogDB, ReplicaUpdate } from '../../../src/contracts/log-db.js';
import type { Entry } from '../../../src/core/types.js';

/** Holds every saveUpdates call made while held, in order, until released. */
export class Gate {
  private wait: Promise<void> = Promise.resolve();
  private open: (() => void) | null = null;
  /** saveUpdates calls waiting now. */
  waiting = 0;
  /** Entries of every saveUpdates call made through the gate, in order (held or not). */
  readonly entries: Entry[] = [];

  hold(): void {
    this.wait = new Promise((r) => { this.open = r; });
  }

  release(): void {
    this.open?.();
    this.open = null;
  }

  /** A LogDB that passes everything to `inner`, its writes through this gate. */
  wrap(inner: LogDB): LogDB {
    return new Proxy(inner, {
      get: (t, p) => {
        if (p === 'saveUpdates') {
          return async (u: readonly ReplicaUpdate[]): Promise<void> => {
            for (const x of u) this.entries.push(...x.entries);
            this.waiting++;
            await this.wait;
            this.waiting--;
            await t.saveUpdates(u);
          };
        }
        const v: unknown = Reflect.get(t, p, t);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
  }
}

/** Three hosts on the in-memory network, each LogDB's writes behind its own {@link Gate}; shard 1 elected. */
export async function gatedTrio(): Promise<{ c: HostCluster; gates: Map<number, Gate>; leader: number }> {
  const c = new HostCluster();
  const gates = new Map<number, Gate>();
  for (const i of [1, 2, 3]) {
    const g = new Gate();
    gates.set(i, g);
    await c.start(i, { logDBFactory: () => Promise.resolve(g.wrap(new MemoryLogDB())) });
  }
  await c.startShard(1, [1, 2, 3]);
  return { c, gates, leader: await c.waitLeader(1, [1, 2, 3]) };
}
