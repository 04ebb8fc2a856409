/**
 * State machines and helpers for the snapshot tests: KV state machines whose snapshots carry
 * their state in an external file (SnapshotFileCollection.addFile), slow savers that honour
 * the AbortSignal, a capturing logger, and a look at a replica's snapshot directory.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LogFields, Logger } from '../../../src/logger.js';
import type { ConcurrentStateMachine, SMEntry, SMResult, SnapshotFileCollection, SnapshotFileInfo, SnapshotReader, SnapshotWriter, StateMachine } from '../../../src/contracts/state-machine.js';
import { ConcurrentKv, KvStateMachine } from './kv.js';

const dec = new TextDecoder();
const enc = new TextEncoder();

/** The file id the file-carrying state machines use for their external file. */
export const EXTERNAL_FILE_ID = 7;

/** What a state machine saw when it was recovered from a snapshot. */
export interface Recovery {
  /** The snapshot's data stream, decoded. */
  readonly payload: string;
  /** The external files handed over, with their contents read at recovery time. */
  readonly files: ReadonlyArray<{ readonly fileId: number; readonly content: string; readonly metadata: string; readonly path: string }>;
  /** `update` calls made before this recovery (by index). */
  readonly appliedBefore: number;
}

let uniqueFile = 0;

function applyKv(map: Map<string, string>, e: SMEntry): SMResult {
  const [op, key, ...rest] = dec.decode(e.cmd).split(' ');
  if (op === 'set' && key !== undefined) map.set(key, rest.join(' '));
  return { value: map.size, data: enc.encode(String(e.index)) };
}

/** Writes `entries` to a new file in `dir` and adds it to the snapshot as EXTERNAL_FILE_ID. */
function addMapFile(dir: string, entries: Array<[string, string]>, files: SnapshotFileCollection): string {
  mkdirSync(dir, { recursive: true });
  // A new file every time: the snapshot may hard-link it, so it is never changed in place.
  const p = join(dir, `ext-${process.pid}-${++uniqueFile}.json`);
  writeFileSync(p, JSON.stringify(entries));
  files.addFile(EXTERNAL_FILE_ID, p, enc.encode(`keys=${entries.length}`));
  return p;
}

async function recoverFromFiles(map: Map<string, string>, r: SnapshotReader, files: readonly SnapshotFileInfo[], appliedBefore: number): Promise<Recovery> {
  const payload = dec.decode(await r.readAll());
  const seen = files.map((f) => ({ fileId: f.fileId, content: readFileSync(f.path, 'utf8'), metadata: dec.decode(f.metadata), path: f.path }));
  const mine = seen.find((f) => f.fileId === EXTERNAL_FILE_ID);
  if (mine === undefined) throw new Error(`snapshot without external file ${EXTERNAL_FILE_ID}`);
  const data = JSON.parse(mine.content) as Array<[string, string]>;
  if (payload !== `external keys=${data.length}`) throw new Error(`payload '${payload}' does not match the external file (${data.length} keys)`);
  map.clear();
  for (const [k, v] of data) map.set(k, v);
  return { payload, files: seen, appliedBefore };
}

/**
 * A regular KV state machine whose snapshot keeps the map in an external file (written to
 * `scratch`) and only a marker in the data stream, so a recovered map proves the file arrived.
 */
export class FileKv implements StateMachine {
  readonly map = new Map<string, string>();
  applied: number[] = [];
  readonly recoveries: Recovery[] = [];
  private previous: string | null = null;
  /**
   * @param scratch where the external files are written
   * @param dropPrevious remove the previous save's file when saving again (saves of a regular
   *   state machine never overlap, and the snapshot holds its own link or copy by then)
   */
  constructor(private readonly scratch: string, private readonly dropPrevious = false) {}
  update(entries: readonly SMEntry[]): SMResult[] {
    return entries.map((e) => { this.applied.push(e.index); return applyKv(this.map, e); });
  }
  lookup(query: unknown): unknown { return this.map.get(String(query)); }
  async saveSnapshot(w: SnapshotWriter, files: SnapshotFileCollection): Promise<void> {
    const entries = [...this.map];
    if (this.dropPrevious && this.previous !== null) rmSync(this.previous, { force: true });
    this.previous = addMapFile(this.scratch, entries, files);
    await w.write(enc.encode(`external keys=${entries.length}`));
  }
  async recoverFromSnapshot(r: SnapshotReader, files: readonly SnapshotFileInfo[]): Promise<void> {
    this.recoveries.push(await recoverFromFiles(this.map, r, files, this.applied.length));
  }
  close(): void {}
}

/** As {@link FileKv}, concurrent: the view is copied in `prepareSnapshot`. */
export class ConcurrentFileKv implements ConcurrentStateMachine<Array<[string, string]>> {
  readonly map = new Map<string, string>();
  applied: number[] = [];
  readonly recoveries: Recovery[] = [];
  constructor(private readonly scratch: string) {}
  async update(entries: readonly SMEntry[]): Promise<SMResult[]> {
    await Promise.resolve();
    return entries.map((e) => { this.applied.push(e.index); return applyKv(this.map, e); });
  }
  lookup(query: unknown): unknown { return this.map.get(String(query)); }
  prepareSnapshot(): Array<[string, string]> { return [...this.map]; }
  async saveSnapshot(ctx: Array<[string, string]>, w: SnapshotWriter, files: SnapshotFileCollection): Promise<void> {
    addMapFile(this.scratch, ctx, files);
    await w.write(enc.encode(`external keys=${ctx.length}`));
  }
  async recoverFromSnapshot(r: SnapshotReader, files: readonly SnapshotFileInfo[]): Promise<void> {
    this.recoveries.push(await recoverFromFiles(this.map, r, files, this.applied.length));
  }
  close(): void {}
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleepAbortable(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason as Error); return; }
    const onAbort = (): void => { clearTimeout(t); reject(signal.reason as Error); };
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** What a slow saver did. */
export interface SlowStats {
  started: number;
  finished: number;
  /** Saves that ended because the signal aborted. */
  aborted: number;
}

/**
 * A regular KV state machine whose saveSnapshot writes part of its data, then waits
 * `delayMs` (honouring the AbortSignal), then writes the rest.
 */
export class SlowKv extends KvStateMachine {
  readonly stats: SlowStats = { started: 0, finished: 0, aborted: 0 };
  constructor(public delayMs: number) { super(); }
  override async saveSnapshot(w: SnapshotWriter, f: SnapshotFileCollection, signal: AbortSignal): Promise<void> {
    this.stats.started++;
    try {
      await w.write(new Uint8Array(64 * 1024).fill(0x5a));
      await sleepAbortable(this.delayMs, signal);
    } catch (e) {
      this.stats.aborted++;
      throw e;
    }
    await super.saveSnapshot(w, f, signal);
    this.stats.finished++;
  }
  override async recoverFromSnapshot(r: SnapshotReader): Promise<void> {
    // Skip the filler written before the wait; the rest is the JSON map.
    const all = await r.readAll();
    const data = JSON.parse(dec.decode(all.subarray(64 * 1024))) as Array<[string, string]>;
    this.map.clear();
    for (const [k, v] of data) this.map.set(k, v);
  }
}

/** As {@link SlowKv}, concurrent. */
export class SlowConcurrentKv extends ConcurrentKv {
  readonly stats: SlowStats = { started: 0, finished: 0, aborted: 0 };
  constructor(public delayMs: number) { super(); }
  override async saveSnapshot(ctx: Array<[string, string]>, w: SnapshotWriter, _f?: SnapshotFileCollection, signal?: AbortSignal): Promise<void> {
    this.stats.started++;
    try {
      await sleepAbortable(this.delayMs, signal ?? new AbortController().signal);
    } catch (e) {
      this.stats.aborted++;
      throw e;
    }
    await super.saveSnapshot(ctx, w);
    this.stats.finished++;
  }
}

/** A logger that keeps every line. */
export class CapturingLogger implements Logger {
  readonly lines: Array<{ level: string; msg: string; fields: LogFields | undefined }> = [];
  debug(msg: string, fields?: LogFields): void { this.lines.push({ level: 'debug', msg, fields }); }
  info(msg: string, fields?: LogFields): void { this.lines.push({ level: 'info', msg, fields }); }
  warn(msg: string, fields?: LogFields): void { this.lines.push({ level: 'warn', msg, fields }); }
  error(msg: string, fields?: LogFields): void { this.lines.push({ level: 'error', msg, fields }); }
  at(level: string): string[] { return this.lines.filter((l) => l.level === level).map((l) => l.msg); }
}

/** The snapshot directory of a replica under a host directory. */
export function snapshotDirOf(hostDir: string, shardId: number, replicaId: number): string {
  return join(hostDir, 'snapshots', `shard-${shardId}-replica-${replicaId}`);
}

/** Names in a replica's snapshot directory (empty when it does not exist). */
export function snapshotEntries(hostDir: string, shardId: number, replicaId: number): string[] {
  const d = snapshotDirOf(hostDir, shardId, replicaId);
  return existsSync(d) ? readdirSync(d).sort() : [];
}

/** Final snapshot directories' indexes in a directory listing. */
export function finalIndexes(names: readonly string[]): number[] {
  return names.filter((n) => /^snapshot-[0-9A-F]{16}$/.test(n)).map((n) => parseInt(n.slice(9), 16)).sort((a, b) => a - b);
}

/** Names that are neither final snapshot directories nor the `streams` area: temporary leftovers. */
export function tempNames(names: readonly string[]): string[] {
  return names.filter((n) => !/^snapshot-[0-9A-F]{16}$/.test(n) && n !== 'streams');
}

/** Polls `fn` until true; fails after `ms`. */
export async function until(fn: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
