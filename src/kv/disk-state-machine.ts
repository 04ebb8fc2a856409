/**
 * The on-disk KV state machine (an OnDiskStateMachine) over SQLite (better-sqlite3 12, an
 * optional peer dependency loaded by `open()`: see `sqlite-module.ts`).
 *
 * Durability: each batch of entries is applied in ONE transaction that also records the
 * batch's last index in `meta`, so the data and the applied index can never disagree and
 * `open()` returns exactly what the database holds. The database runs in WAL mode with
 * `synchronous=FULL`: a committed batch is fsynced, so `sync()` has nothing left to do (a
 * checkpoint-based `sync` would have to wait for snapshot readers and block the event loop).
 *
 * Snapshots: `prepareSnapshot` opens a second connection and pins a read transaction (WAL
 * lets it see one consistent state while updates continue on the main connection);
 * `saveSnapshot` streams that state. Recovery stages the image in a side table over several
 * small transactions, then swaps it in with the index in one transaction, so a crash in the
 * middle leaves the old state intact.
 */
import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OnDiskStateMachine, SMEntry, SMResult, SnapshotReader, SnapshotWriter } from '../index.js';
import { CodecError, StateMachineError } from '../index.js';
import { applyEntry, isKvQuery, type KvStore } from './apply.js';
import { PairReader, writePairs } from './snapshot-pairs.js';
import { hashPairs } from './state-hash.js';
import { loadSqlite, type SqliteDatabaseClass } from './sqlite-module.js';

/** A pinned read view of the database for one snapshot. */
export interface DiskSnapshotView {
  readonly db: Database.Database;
  readonly index: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  DROP TABLE IF EXISTS kv_incoming;
`;

/** The image's first pair, under the empty key (never a user key): the applied index. */
function indexPair(index: number): readonly [Uint8Array, Uint8Array] {
  const v = Buffer.alloc(8);
  v.writeBigUInt64BE(BigInt(index));
  return [new Uint8Array(0), v];
}

function openDb(Sqlite: SqliteDatabaseClass, path: string, readonly: boolean): Database.Database {
  const db = new Sqlite(path, { readonly, timeout: 1000 });
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  }
  return db;
}

/** A KV state machine whose state lives in one SQLite file. */
export class DiskKvStateMachine implements OnDiskStateMachine<DiskSnapshotView> {
  private db: Database.Database | null = null;
  private stmts: {
    get: Database.Statement<[Uint8Array], { value: Buffer }>;
    put: Database.Statement<[Uint8Array, Uint8Array]>;
    del: Database.Statement<[Uint8Array]>;
    count: Database.Statement<[], { n: number }>;
    setIndex: Database.Statement<[number]>;
    getIndex: Database.Statement<[], { value: number }>;
  } | null = null;
  private applyBatch: ((entries: readonly SMEntry[]) => SMResult[]) | null = null;
  private readonly views = new Set<Database.Database>();
  private sqlite: SqliteDatabaseClass | null = null;

  /** @param path the database file; its directory is created when missing. */
  constructor(private readonly path: string) {}

  private open_(): NonNullable<DiskKvStateMachine['stmts']> {
    if (this.stmts === null) throw new StateMachineError(`KV database ${this.path} is not open`);
    return this.stmts;
  }

  /**
   * Opens (or creates) the database and returns the last applied index in it.
   * @throws MissingDependencyError when better-sqlite3 is not installed
   */
  async open(_signal: AbortSignal): Promise<number> {
    const Sqlite = await loadSqlite();
    this.sqlite = Sqlite;
    mkdirSync(dirname(this.path), { recursive: true });
    const db = openDb(Sqlite, this.path, false);
    db.exec(SCHEMA);
    const stmts = {
      get: db.prepare<[Uint8Array], { value: Buffer }>('SELECT value FROM kv WHERE key = ?'),
      put: db.prepare<[Uint8Array, Uint8Array]>('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      del: db.prepare<[Uint8Array]>('DELETE FROM kv WHERE key = ?'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM kv'),
      setIndex: db.prepare<[number]>("INSERT INTO meta (name, value) VALUES ('applied', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value"),
      getIndex: db.prepare<[], { value: number }>("SELECT value FROM meta WHERE name = 'applied'"),
    };
    const store: KvStore = {
      get: (k) => stmts.get.get(k)?.value ?? null,
      put: (k, v) => { stmts.put.run(k, v); },
      delete: (k) => { stmts.del.run(k); },
    };
    this.applyBatch = db.transaction((entries: readonly SMEntry[]) => {
      const out = entries.map((e) => applyEntry(store, e));
      const last = entries[entries.length - 1];
      if (last !== undefined) stmts.setIndex.run(last.index);
      return out;
    });
    this.db = db;
    this.stmts = stmts;
    return stmts.getIndex.get()?.value ?? 0;
  }

  /** Applies a batch and its index atomically. @throws CodecError for a non-KV entry. */
  update(entries: readonly SMEntry[]): readonly SMResult[] {
    if (this.applyBatch === null) throw new StateMachineError(`KV database ${this.path} is not open`);
    return this.applyBatch(entries);
  }

  /** Answers a {@link KvQuery}. @throws CodecError for another query. */
  lookup(query: unknown): Uint8Array | null | number {
    if (!isKvQuery(query)) throw new CodecError('not a KV query');
    const s = this.open_();
    if (query.kind === 'count') return s.count.get()?.n ?? 0;
    const row = s.get.get(query.key);
    return row === undefined ? null : new Uint8Array(row.value);
  }

  /** The hash of every pair in key order (`state-hash.ts`), for `verifyShard`; reads the whole table. */
  getHash(): bigint {
    if (this.db === null) throw new StateMachineError(`KV database ${this.path} is not open`);
    const rows = this.db.prepare('SELECT key, value FROM kv ORDER BY key').iterate() as IterableIterator<{ key: Buffer; value: Buffer }>;
    return hashPairs((function* () { for (const r of rows) yield [r.key, r.value] as const; })());
  }

  /** Every committed batch is already fsynced (synchronous=FULL). */
  async sync(): Promise<void> {}

  /** Pins a read transaction on a second connection: the state as of the last update. */
  prepareSnapshot(): DiskSnapshotView {
    const index = this.open_().getIndex.get()?.value ?? 0;
    const db = openDb(this.sqlite as SqliteDatabaseClass, this.path, true);
    db.exec('BEGIN');
    // The first read fixes the transaction's view of the WAL.
    const pinned = (db.prepare("SELECT value FROM meta WHERE name = 'applied'").get() as { value: number } | undefined)?.value ?? 0;
    if (pinned !== index) {
      db.close();
      throw new StateMachineError(`KV snapshot view at ${pinned} does not match the applied index ${index}`);
    }
    this.views.add(db);
    return { db, index };
  }

  /** Streams the pinned view: the index pair, then every key in order. */
  async saveSnapshot(view: DiskSnapshotView, writer: SnapshotWriter, signal: AbortSignal): Promise<void> {
    try {
      const rows = view.db.prepare('SELECT key, value FROM kv ORDER BY key').iterate() as IterableIterator<{ key: Buffer; value: Buffer }>;
      const pairs = function* (): Iterable<readonly [Uint8Array, Uint8Array]> {
        yield indexPair(view.index);
        for (const r of rows) yield [r.key, r.value];
      };
      await writePairs(writer, pairs(), signal);
    } finally {
      this.views.delete(view.db);
      view.db.close();
    }
  }

  /** Replaces the whole state with an image, atomically. @throws CodecError for a bad image. */
  async recoverFromSnapshot(reader: SnapshotReader, signal: AbortSignal): Promise<void> {
    const db = this.db;
    const s = this.open_();
    if (db === null) throw new StateMachineError(`KV database ${this.path} is not open`);
    db.exec('DROP TABLE IF EXISTS kv_incoming; CREATE TABLE kv_incoming (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;');
    const stage = db.prepare<[Uint8Array, Uint8Array]>('INSERT INTO kv_incoming (key, value) VALUES (?, ?)');
    const insertAll = db.transaction((pairs: Array<[Uint8Array, Uint8Array]>) => { for (const [k, v] of pairs) stage.run(k, v); });
    let index: number | null = null;
    const pr = new PairReader();
    for await (const chunk of reader) {
      signal.throwIfAborted();
      const pairs = pr.push(chunk);
      if (index === null && pairs.length > 0) {
        const first = pairs.shift() as [Uint8Array, Uint8Array];
        if (first[0].length !== 0 || first[1].length !== 8) throw new CodecError('KV disk image does not start with its index');
        index = Number(Buffer.from(first[1]).readBigUInt64BE(0));
      }
      insertAll(pairs);
    }
    pr.end();
    if (index === null) throw new CodecError('KV disk image has no index');
    const applied = index;
    db.transaction(() => {
      db.exec('DELETE FROM kv; INSERT INTO kv SELECT key, value FROM kv_incoming; DROP TABLE kv_incoming;');
      s.setIndex.run(applied);
    })();
  }

  /** Closes the database and any snapshot views still open. */
  close(): void {
    for (const v of this.views) v.close();
    this.views.clear();
    this.db?.close();
    this.db = null;
    this.stmts = null;
    this.applyBatch = null;
  }
}
