/**
 * Test state machines: a key-value map in each of the three kinds. Commands are
 * `set key value` / `get`-style text, results count the applied commands.
 */
import type { ConcurrentStateMachine, OnDiskStateMachine, SMEntry, SMResult, SnapshotFileCollection, SnapshotReader, SnapshotWriter, StateMachine } from '../../../src/contracts/state-machine.js';

const dec = new TextDecoder();
const enc = new TextEncoder();

/** Encodes `set key value`. */
export function setCmd(key: string, value: string): Uint8Array {
  return enc.encode(`set ${key} ${value}`);
}

/** Encodes a command that makes every state machine applying it throw. */
export function failCmd(): Uint8Array {
  return enc.encode('fail');
}

function applyTo(map: Map<string, string>, e: SMEntry): SMResult {
  const [op, key, ...rest] = dec.decode(e.cmd).split(' ');
  if (op === 'set' && key !== undefined) map.set(key, rest.join(' '));
  if (op === 'fail') throw new Error('state machine told to fail');
  return { value: map.size, data: enc.encode(String(e.index)) };
}

/** A regular in-memory KV state machine. */
export class KvStateMachine implements StateMachine {
  readonly map = new Map<string, string>();
  /** Indexes handed to `update`, in order. */
  applied: number[] = [];
  /** The commands handed to `update`, decoded, in order. */
  commands: string[] = [];
  closed = false;
  update(entries: readonly SMEntry[]): SMResult[] {
    return entries.map((e) => {
      this.applied.push(e.index);
      this.commands.push(dec.decode(e.cmd));
      return applyTo(this.map, e);
    });
  }
  lookup(query: unknown): unknown { return this.map.get(String(query)); }
  async saveSnapshot(w: SnapshotWriter, _f: SnapshotFileCollection, _s: AbortSignal): Promise<void> {
    await w.write(enc.encode(JSON.stringify([...this.map])));
  }
  async recoverFromSnapshot(r: SnapshotReader): Promise<void> {
    const data = JSON.parse(dec.decode(await r.readAll())) as Array<[string, string]>;
    this.map.clear();
    for (const [k, v] of data) this.map.set(k, v);
  }
  close(): void { this.closed = true; }
}

/** A concurrent KV state machine whose snapshots copy the map between updates. */
export class ConcurrentKv implements ConcurrentStateMachine<Array<[string, string]>> {
  readonly map = new Map<string, string>();
  applied: number[] = [];
  async update(entries: readonly SMEntry[]): Promise<SMResult[]> {
    await Promise.resolve();
    return entries.map((e) => { this.applied.push(e.index); return applyTo(this.map, e); });
  }
  lookup(query: unknown): unknown { return this.map.get(String(query)); }
  prepareSnapshot(): Array<[string, string]> { return [...this.map]; }
  async saveSnapshot(ctx: Array<[string, string]>, w: SnapshotWriter): Promise<void> {
    await w.write(enc.encode(JSON.stringify(ctx)));
  }
  async recoverFromSnapshot(r: SnapshotReader): Promise<void> {
    const data = JSON.parse(dec.decode(await r.readAll())) as Array<[string, string]>;
    this.map.clear();
    for (const [k, v] of data) this.map.set(k, v);
  }
  close(): void {}
}

/**
 * An "on-disk" KV state machine whose durable state lives in a shared store object that
 * survives the replica (standing in for a file), with the applied index kept atomically.
 */
export class OnDiskKv implements OnDiskStateMachine<{ map: Array<[string, string]>; index: number }> {
  private map = new Map<string, string>();
  private index = 0;
  /** Indexes handed to `update` since this instance was created. */
  applied: number[] = [];
  /** The index `open` reported. */
  openedAt = -1;
  constructor(private readonly disk: { map: Array<[string, string]>; index: number }) {}
  async open(): Promise<number> {
    this.map = new Map(this.disk.map);
    this.index = this.disk.index;
    this.openedAt = this.index;
    return this.index;
  }
  update(entries: readonly SMEntry[]): SMResult[] {
    const out = entries.map((e) => { this.index = e.index; this.applied.push(e.index); return applyTo(this.map, e); });
    this.disk.map = [...this.map];
    this.disk.index = this.index;
    return out;
  }
  lookup(query: unknown): unknown { return this.map.get(String(query)); }
  async sync(): Promise<void> {}
  prepareSnapshot(): { map: Array<[string, string]>; index: number } { return { map: [...this.map], index: this.index }; }
  async saveSnapshot(ctx: { map: Array<[string, string]>; index: number }, w: SnapshotWriter): Promise<void> {
    await w.write(enc.encode(JSON.stringify(ctx)));
  }
  async recoverFromSnapshot(r: SnapshotReader): Promise<void> {
    const data = JSON.parse(dec.decode(await r.readAll())) as { map: Array<[string, string]>; index: number };
    this.map = new Map(data.map);
    this.index = data.index;
    this.disk.map = data.map;
    this.disk.index = data.index;
  }
  close(): void {}
}
