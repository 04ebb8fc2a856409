/**
 * Helpers shared by the paper-scenario tests (test/core/scenario-*.test.ts): a recording
 * observer, proposal and config-change shorthands, and small queries over a TestCluster.
 * They only read the cluster and drive replicas through the public Peer API.
 */
import {
  ConfigChangeType, EntryType, MessageType, entry,
  type ConfigChange, type Entry, type Message, type Peer, type MemoryLogStorage, type ReadContext, type ReadyToRead, type RaftConfigInput,
} from '../../../src/core/index.js';
import { TestCluster, type TestClusterOptions } from './test-cluster.js';
import type { ReplicaObserver, SimReplica } from './sim-replica.js';

/** electionTicks and heartbeatTicks used by every scenario unless it says otherwise. */
export const ELECTION = 10;
export const HEARTBEAT = 1;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** An application proposal with payload `s`. */
export function cmdEntry(s: string, key = 0): Entry {
  return entry({ term: 0, index: 0, key, cmd: enc.encode(s) });
}

/** The payload of an entry as text. */
export function text(e: Entry): string {
  return dec.decode(e.cmd);
}

/** Everything the replicas of a cluster reported, in order. */
export class Recorder {
  readonly dropped: Array<{ replica: number; entries: readonly Entry[]; reads: readonly ReadContext[] }> = [];
  readonly reads: Array<{ replica: number; rr: ReadyToRead }> = [];
  /** Leaders seen, in order: [term, id]. */
  readonly leaders: Array<{ term: number; id: number }> = [];
  readonly appliedLog: Array<{ replica: number; e: Entry }> = [];
  readonly snapshotsRestored: Array<{ replica: number; index: number }> = [];

  dropped_(r: SimReplica, ents: readonly Entry[], reads: readonly ReadContext[]): void {
    this.dropped.push({ replica: r.id, entries: ents, reads });
  }

  /** Dropped proposals reported by `replica`, as payload strings. */
  droppedCmds(replica: number): string[] {
    return this.dropped.filter((d) => d.replica === replica).flatMap((d) => d.entries.map(text));
  }

  /** Dropped reads reported by `replica`. */
  droppedReads(replica: number): ReadContext[] {
    return this.dropped.filter((d) => d.replica === replica).flatMap((d) => d.reads);
  }

  /** Read results released at `replica` for context `low`. */
  readsFor(replica: number, low: number): ReadyToRead[] {
    return this.reads.filter((x) => x.replica === replica && x.rr.ctx.low === low).map((x) => x.rr);
  }

  /** The observer object to hand to a cluster. */
  observer(): ReplicaObserver {
    return {
      dropped: (r, ents, reads) => this.dropped_(r, ents, reads),
      read: (r, rr) => { this.reads.push({ replica: r.id, rr }); },
      becameLeader: (r, term) => { this.leaders.push({ term, id: r.id }); },
      applied: (r, e) => { this.appliedLog.push({ replica: r.id, e }); },
      snapshotRestored: (r, ss) => { this.snapshotsRestored.push({ replica: r.id, index: ss.index }); },
    };
  }
}

/** Options for {@link makeCluster}: the cluster's, with a default config merged in. */
export type ScenarioOptions = Omit<TestClusterOptions, 'observer'> & { readonly config?: Partial<RaftConfigInput> };

/** A cluster with the scenario defaults and a recorder attached. */
export function makeCluster(opts: ScenarioOptions): { c: TestCluster; rec: Recorder } {
  const rec = new Recorder();
  const c = new TestCluster({
    ...opts,
    config: { electionTicks: ELECTION, heartbeatTicks: HEARTBEAT, ...opts.config },
    observer: rec.observer(),
  });
  return { c, rec };
}

/** Proposes `s` at replica `at` without settling. */
export function proposeAt(c: TestCluster, at: number, s: string, key = 0): void {
  c.get(at).peer.propose([cmdEntry(s, key)]);
}

/** A config change with the defaults filled in. */
export function cc(type: ConfigChangeType, replicaId: number, configChangeId = 0): ConfigChange {
  return { type, replicaId, configChangeId, address: `addr-${replicaId}`, initialize: false };
}

/** Proposes a membership change at `at` and settles. */
export function proposeChange(c: TestCluster, at: number, change: ConfigChange, key = 0): void {
  c.get(at).peer.proposeConfigChange(change, key);
  c.stabilize();
}

export { ConfigChangeType, EntryType, MessageType };

/** Messages in the cluster's trace from index `from` on that satisfy `pred`. */
export function traced(c: TestCluster, pred: (m: Message) => boolean, from = 0): Message[] {
  return c.trace.slice(from).filter(pred);
}

/** Ticks every live replica one at a time until `pred` holds; returns the ticks taken or -1. */
export function tickUntil(c: TestCluster, pred: () => boolean, max: number): number {
  for (let i = 1; i <= max; i++) {
    c.tick(1);
    if (pred()) return i;
  }
  return -1;
}

/** The persisted log of a replica as [index, term] pairs from its first index. */
export function persistedTerms(r: SimReplica): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = r.storage.firstIndex(); i <= r.storage.lastIndex(); i++) out.push([i, r.storage.term(i)]);
  return out;
}

/** The persisted entry at `index`. */
export function persistedEntry(r: SimReplica, index: number): Entry {
  const e = r.storage.entries(index, index + 1, Number.MAX_SAFE_INTEGER)[0];
  if (e === undefined) throw new Error(`replica ${r.id} has no entry ${index}`);
  return e;
}

/** True when the entry is an application command with a payload. */
export function isCommand(e: Entry): boolean {
  return e.type === EntryType.Application && e.cmd.length > 0;
}

/**
 * Carries out every pending update of a lone peer as a host would (persist, then acknowledge),
 * returning the messages it asked to send.
 */
export function drainPeer(peer: Peer, storage: MemoryLogStorage): Message[] {
  const out: Message[] = [];
  while (peer.hasUpdate()) {
    const u = peer.getUpdate();
    if (u.snapshot !== null) storage.applySnapshot(u.snapshot);
    storage.append(u.entriesToSave);
    if (u.hardState !== null) storage.hardState = u.hardState;
    for (const m of u.messages) out.push(m);
    peer.commit(u);
  }
  return out;
}

/**
 * Makes `id` campaign, settles, and lets the winner heartbeat once, so that scenarios start
 * from a leader whose followers know it and whose no-op is committed. (The no-op should go out
 * at once on winning; the extra tick keeps scenarios about other features independent of
 * that, which scenario-election checks on its own.)
 */
export function elect(c: TestCluster, id: number): void {
  c.elect(id);
  if (c.get(id).peer.isLeader) c.tick(1, id);
}
