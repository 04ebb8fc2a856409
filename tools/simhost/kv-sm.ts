/**
 * The simulator's state machine: a KV map with put, delete and compare-and-set, each with a
 * result, a state hash, and snapshot save/recover. Every applied entry and the state hash
 * after every batch are reported to an {@link ApplyObserver}, which checks that all replicas
 * agree. A read given as a {@link ReadProbe} reports the index of the last command its state
 * reflects (kept across snapshots), so that the world can check it against what was applied
 * anywhere before the read began.
 */
import { createHash } from 'node:crypto';
import type { SMEntry, SMResult, SnapshotFileCollection, SnapshotReader, SnapshotWriter, StateMachine } from '../../src/contracts/state-machine.js';

/** A KV command. */
export type KvCmd = { op: 'put'; k: string; v: string } | { op: 'del'; k: string } | { op: 'cas'; k: string; e: string | null; v: string };

/** What a put/del/cas answers: `ok` for cas, `prev` the value before. */
export interface KvResult { ok: boolean; prev: string | null }

/** Hears every entry a replica applies and its state hash after each batch. */
export interface ApplyObserver {
  applied(shardId: number, replica: string, index: number, cmdDigest: string): void;
  hashed(shardId: number, replica: string, index: number, hash: string): void;
}

/** A read of key `k` that tells `seen` the index of the last command the state it reads reflects. */
export interface ReadProbe {
  readonly k: string;
  seen(index: number): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Encodes a command. */
export function encodeCmd(c: KvCmd): Uint8Array {
  return enc.encode(JSON.stringify(c));
}

/** The digest of a command as the world records it (also of a leader's log entries: leader-check.ts). */
export function cmdDigest(cmd: Uint8Array): string {
  return createHash('sha1').update(cmd).digest('hex').slice(0, 12);
}

/** Decodes a command's result. */
export function decodeResult(r: SMResult): KvResult {
  return JSON.parse(dec.decode(r.data ?? new Uint8Array())) as KvResult;
}

/** One replica's KV map. */
export class SimKv implements StateMachine<string | ReadProbe, string | null> {
  readonly map = new Map<string, string>();
  /** The index of the last command applied (the snapshot's, after a recovery). */
  lastIndex = 0;

  constructor(private readonly shardId: number, private readonly replica: string, private readonly obs: ApplyObserver) {}

  update(entries: readonly SMEntry[]): SMResult[] {
    const out = entries.map((e) => {
      this.obs.applied(this.shardId, this.replica, e.index, cmdDigest(e.cmd));
      this.lastIndex = e.index;
      let c: KvCmd;
      try {
        c = JSON.parse(dec.decode(e.cmd)) as KvCmd;
      } catch {
        return { value: 0 };
      }
      const prev = this.map.get(c.k) ?? null;
      let ok = true;
      if (c.op === 'put') this.map.set(c.k, c.v);
      else if (c.op === 'del') this.map.delete(c.k);
      else if (prev === c.e) this.map.set(c.k, c.v);
      else ok = false;
      return { value: ok ? 1 : 0, data: enc.encode(JSON.stringify({ ok, prev } satisfies KvResult)) };
    });
    if (entries.length > 0) this.obs.hashed(this.shardId, this.replica, this.lastIndex, this.hash());
    return out;
  }

  lookup(q: string | ReadProbe): string | null {
    if (typeof q === 'string') return this.map.get(q) ?? null;
    q.seen(this.lastIndex);
    return this.map.get(q.k) ?? null;
  }

  /** A digest of the map (sorted). */
  hash(): string {
    const h = createHash('sha1');
    for (const k of [...this.map.keys()].sort()) h.update(`${k}=${this.map.get(k)}\n`);
    return h.digest('hex').slice(0, 16);
  }

  getHash(): bigint {
    return BigInt(`0x${this.hash()}`);
  }

  async saveSnapshot(w: SnapshotWriter, _f: SnapshotFileCollection, _s: AbortSignal): Promise<void> {
    await w.write(enc.encode(JSON.stringify({ last: this.lastIndex, map: [...this.map] })));
  }

  async recoverFromSnapshot(r: SnapshotReader): Promise<void> {
    const data = JSON.parse(dec.decode(await r.readAll())) as { last: number; map: Array<[string, string]> };
    this.map.clear();
    for (const [k, v] of data.map) this.map.set(k, v);
    this.lastIndex = data.last;
  }

  close(): void {}
}
