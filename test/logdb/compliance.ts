/**
 * The LogDB compliance suite: every LogDB implementation runs it through a factory. It pins
 * down the contract documented on `LogDB` (src/contracts/log-db.ts); when the contract changes,
 * this file changes with it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMPTY_HARD_STATE, emptySnapshot, entry, entrySize, StateMachineType, type Entry, type SnapshotMeta } from '../../src/core/types.js';
import { ClosedError, EntriesCompactedError, InvalidOperationError } from '../../src/errors.js';
import type { LogDB } from '../../src/contracts/log-db.js';

/** What a factory hands the suite: a fresh LogDB, how to reopen it (if durable), cleanup. */
export interface LogDBHarness {
  db: LogDB;
  /** Closes `db` and opens the same store again; absent for stores that do not persist. */
  reopen?: () => Promise<LogDB>;
  cleanup: () => Promise<void>;
}

/** Builds consecutive entries [from, to] in `term` with a recognisable payload. */
export function ents(from: number, to: number, term: number, size = 8): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) {
    const cmd = new Uint8Array(size);
    for (let k = 0; k < size; k++) cmd[k] = (i * 31 + term * 7 + k) & 0xff;
    out.push(entry({ term, index: i, key: i * 3, clientId: term, seriesId: i, respondedTo: i - 1, cmd }));
  }
  return out;
}

/** A snapshot record at (index, term) with a non-trivial membership. */
export function snap(shardId: number, index: number, term: number): SnapshotMeta {
  return {
    ...emptySnapshot(shardId), index, term, filepath: `/snap/${shardId}/${index}`, fileSize: index * 10,
    checksum: new Uint8Array([1, 2, 3, index & 0xff]), type: StateMachineType.OnDisk, onDiskIndex: index - 1,
    membership: {
      configChangeId: index, voters: new Map([[1, 'a:1'], [2, 'b:2']]), nonVoting: new Map([[5, 'e:5']]),
      witnesses: new Map(), removed: new Set([3]),
    },
    files: [{ fileId: 7, filepath: 'ext.bin', fileSize: 99, metadata: new Uint8Array([9]) }],
  };
}

function indexes(es: readonly Entry[]): number[] { return es.map((e) => e.index); }

function assertEntriesEqual(actual: readonly Entry[], expected: readonly Entry[]): void {
  assert.equal(actual.length, expected.length, 'entry count');
  actual.forEach((a, i) => {
    const e = expected[i] as Entry;
    assert.deepEqual({ ...a, cmd: Buffer.from(a.cmd).toString('hex') }, { ...e, cmd: Buffer.from(e.cmd).toString('hex') });
  });
}

/** Registers the suite under `name`. */
export function logDBCompliance(name: string, factory: () => Promise<LogDBHarness>): void {
  const withDb = (fn: (h: LogDBHarness) => Promise<void>) => async () => {
    const h = await factory();
    try { await fn(h); } finally { await h.cleanup(); }
  };
  // Runs the check on the live store and, if it persists, again after reopening it.
  const checkAndReopen = async (h: LogDBHarness, check: (db: LogDB) => void): Promise<LogDB> => {
    check(h.db);
    if (h.reopen === undefined) return h.db;
    h.db = await h.reopen();
    check(h.db);
    return h.db;
  };

  void describe(`LogDB compliance: ${name}`, () => {
    void it('starts empty', withDb(async ({ db }) => {
      assert.deepEqual(db.readHardState(1, 1), EMPTY_HARD_STATE);
      assert.equal(db.getEntryRange(1, 1), null);
      assert.equal(db.getSnapshot(1, 1), null);
      assert.equal(db.getBootstrap(1, 1), null);
      assert.deepEqual(db.listReplicas(), []);
      assert.deepEqual(db.readEntries(1, 1, 1, 10, 1e9), []);
    }));

    void it('saves and reads entries and hard state, with byte limits', withDb(async (h) => {
      const es = ents(1, 20, 1, 100);
      await h.db.saveUpdates([{ shardId: 1, replicaId: 2, hardState: { term: 1, vote: 2, commit: 5 }, entries: es }]);
      await checkAndReopen(h, (db) => {
        assert.deepEqual(db.readHardState(1, 2), { term: 1, vote: 2, commit: 5 });
        assert.deepEqual(db.getEntryRange(1, 2), { firstIndex: 1, lastIndex: 20 });
        assertEntriesEqual(db.readEntries(1, 2, 1, 21, 1e9), es);
        assertEntriesEqual(db.readEntries(1, 2, 5, 8, 1e9), es.slice(4, 7));
        assert.deepEqual(indexes(db.readEntries(1, 2, 18, 100, 1e9)), [18, 19, 20], 'clipped at last');
        assert.deepEqual(db.readEntries(1, 2, 21, 30, 1e9), []);
        const one = entrySize(es[0] as Entry);
        assert.deepEqual(indexes(db.readEntries(1, 2, 3, 21, 0)), [3], 'at least one entry');
        assert.deepEqual(indexes(db.readEntries(1, 2, 3, 21, one * 3)), [3, 4, 5]);
        assert.deepEqual(indexes(db.readEntries(1, 2, 3, 21, one * 3 + 1)), [3, 4, 5]);
        assert.deepEqual(db.listReplicas(), [{ shardId: 1, replicaId: 2 }]);
        assert.equal(db.getEntryRange(2, 1), null, 'other replicas untouched');
      });
    }));

    void it('replaces the tail from the first new index (a new leader)', withDb(async (h) => {
      await h.db.saveUpdates([{ shardId: 3, replicaId: 1, entries: ents(1, 10, 1) }]);
      await h.db.saveUpdates([{ shardId: 3, replicaId: 1, entries: ents(6, 8, 2) }]);
      await checkAndReopen(h, (db) => {
        assert.deepEqual(db.getEntryRange(3, 1), { firstIndex: 1, lastIndex: 8 });
        assertEntriesEqual(db.readEntries(3, 1, 1, 100, 1e9), [...ents(1, 5, 1), ...ents(6, 8, 2)]);
      });
      await h.db.saveUpdates([{ shardId: 3, replicaId: 1, entries: ents(9, 12, 2) }]);
      await h.db.saveUpdates([{ shardId: 3, replicaId: 1, entries: ents(1, 2, 3) }]);
      await checkAndReopen(h, (db) => {
        assert.deepEqual(db.getEntryRange(3, 1), { firstIndex: 1, lastIndex: 2 });
        assertEntriesEqual(db.readEntries(3, 1, 1, 100, 1e9), ents(1, 2, 3));
      });
    }));

    void it('rejects a gap or non-consecutive entries, keeping nothing of the call', withDb(async (h) => {
      await h.db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(1, 5, 1) }]);
      await assert.rejects(h.db.saveUpdates([
        { shardId: 2, replicaId: 1, hardState: { term: 4, vote: 1, commit: 0 }, entries: ents(1, 3, 1) },
        { shardId: 1, replicaId: 1, entries: ents(7, 8, 1) },
      ]), InvalidOperationError);
      await assert.rejects(h.db.saveUpdates([{ shardId: 1, replicaId: 1, entries: [...ents(6, 6, 1), ...ents(8, 8, 1)] }]),
        InvalidOperationError);
      await assert.rejects(h.db.saveUpdates([{ shardId: -1, replicaId: 1, entries: [] }]), InvalidOperationError);
      await h.db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(6, 6, 1) }]);
      await checkAndReopen(h, (db) => {
        assert.equal(db.getEntryRange(2, 1), null);
        assert.deepEqual(db.readHardState(2, 1), EMPTY_HARD_STATE);
        assert.deepEqual(db.getEntryRange(1, 1), { firstIndex: 1, lastIndex: 6 });
      });
    }));

    void it('applies several updates of one replica in one call in order', withDb(async (h) => {
      await h.db.saveUpdates([
        { shardId: 4, replicaId: 4, entries: ents(1, 5, 1), hardState: { term: 1, vote: 0, commit: 1 } },
        { shardId: 4, replicaId: 4, entries: ents(4, 7, 2), hardState: { term: 2, vote: 4, commit: 3 } },
        { shardId: 4, replicaId: 4, entries: ents(8, 8, 2) },
      ]);
      await checkAndReopen(h, (db) => {
        assertEntriesEqual(db.readEntries(4, 4, 1, 9, 1e9), [...ents(1, 3, 1), ...ents(4, 8, 2)]);
        assert.deepEqual(db.readHardState(4, 4), { term: 2, vote: 4, commit: 3 });
      });
    }));

    void it('stores bootstrap info', withDb(async (h) => {
      const info = { members: new Map([[1, 'h1:1'], [2, 'h2:2'], [3, 'h3:3']]), join: false, smType: StateMachineType.Concurrent };
      await h.db.saveBootstrap(9, 2, info);
      await h.db.saveBootstrap(9, 3, { members: new Map(), join: true, smType: StateMachineType.Regular });
      await checkAndReopen(h, (db) => {
        assert.deepEqual(db.getBootstrap(9, 2), info);
        assert.deepEqual(db.getBootstrap(9, 3), { members: new Map(), join: true, smType: StateMachineType.Regular });
        assert.equal(db.getBootstrap(9, 1), null);
        assert.equal(db.listReplicas().length, 2);
      });
    }));

    void it('keeps the newest snapshot record and follows Raft restore for entries', withDb(async (h) => {
      await h.db.saveUpdates([{ shardId: 5, replicaId: 1, entries: ents(1, 10, 2) }]);
      // Matching term at its index: entries kept.
      await h.db.saveUpdates([{ shardId: 5, replicaId: 1, snapshot: snap(5, 6, 2), entries: [] }]);
      // Older record ignored.
      await h.db.saveUpdates([{ shardId: 5, replicaId: 1, snapshot: snap(5, 4, 2), entries: [] }]);
      await checkAndReopen(h, (db) => {
        assert.deepEqual(db.getSnapshot(5, 1), snap(5, 6, 2));
        assert.deepEqual(db.getEntryRange(5, 1), { firstIndex: 1, lastIndex: 10 });
      });
      // Conflicting term: all entries go.
      await h.db.saveUpdates([{ shardId: 5, replicaId: 1, snapshot: snap(5, 8, 3), entries: ents(9, 9, 3) }]);
      await checkAndReopen(h, (db) => {
        assert.deepEqual(db.getSnapshot(5, 1), snap(5, 8, 3));
        assertEntriesEqual(db.readEntries(5, 1, 9, 10, 1e9), ents(9, 9, 3));
      });
      // Past the last entry: all entries go, and the log restarts after it with no gap error.
      await h.db.saveUpdates([{ shardId: 5, replicaId: 1, snapshot: snap(5, 20, 3), entries: ents(21, 22, 3) }]);
      await checkAndReopen(h, (db) => {
        assert.deepEqual(db.getEntryRange(5, 1), { firstIndex: 21, lastIndex: 22 });
        assert.equal(db.getSnapshot(5, 1)?.index, 20);
      });
    }));

    void it('removes entries at once, and compacts them', withDb(async (h) => {
      await h.db.saveUpdates([{ shardId: 6, replicaId: 1, entries: ents(1, 30, 1) }, { shardId: 6, replicaId: 2, entries: ents(1, 30, 1) }]);
      const p = h.db.removeEntriesTo(6, 1, 10);
      assert.deepEqual(h.db.getEntryRange(6, 1), { firstIndex: 11, lastIndex: 30 }, 'visible before the promise settles');
      await p;
      await h.db.compactEntriesTo(6, 2, 25);
      await h.db.removeEntriesTo(6, 2, 3); // below first: no effect
      await h.db.removeEntriesTo(7, 7, 3); // unknown replica: no effect
      await checkAndReopen(h, (db) => {
        assert.deepEqual(db.getEntryRange(6, 1), { firstIndex: 11, lastIndex: 30 });
        assert.throws(() => db.readEntries(6, 1, 10, 12, 1e9), EntriesCompactedError);
        assertEntriesEqual(db.readEntries(6, 1, 11, 13, 1e9), ents(11, 12, 1));
        assert.deepEqual(db.getEntryRange(6, 2), { firstIndex: 26, lastIndex: 30 });
        assert.equal(db.listReplicas().length, 2);
      });
      await h.db.compactEntriesTo(6, 2, 100);
      await checkAndReopen(h, (db) => assert.equal(db.getEntryRange(6, 2), null));
      await h.db.saveUpdates([{ shardId: 6, replicaId: 2, entries: ents(31, 32, 2) }]);
      await checkAndReopen(h, (db) => assert.deepEqual(db.getEntryRange(6, 2), { firstIndex: 31, lastIndex: 32 }));
    }));

    void it('removes all data of a replica', withDb(async (h) => {
      await h.db.saveBootstrap(8, 1, { members: new Map([[1, 'x']]), join: false, smType: StateMachineType.Regular });
      await h.db.saveUpdates([
        { shardId: 8, replicaId: 1, entries: ents(1, 5, 1), hardState: { term: 1, vote: 1, commit: 5 }, snapshot: snap(8, 3, 1) },
        { shardId: 8, replicaId: 2, entries: ents(1, 5, 1) },
      ]);
      const p = h.db.removeReplicaData(8, 1);
      assert.equal(h.db.getEntryRange(8, 1), null, 'visible before the promise settles');
      await p;
      await checkAndReopen(h, (db) => {
        assert.equal(db.getEntryRange(8, 1), null);
        assert.equal(db.getSnapshot(8, 1), null);
        assert.equal(db.getBootstrap(8, 1), null);
        assert.deepEqual(db.readHardState(8, 1), EMPTY_HARD_STATE);
        assert.deepEqual(db.listReplicas(), [{ shardId: 8, replicaId: 2 }]);
      });
      // The replica can start again from scratch.
      await h.db.saveUpdates([{ shardId: 8, replicaId: 1, entries: ents(1, 1, 9) }]);
      await checkAndReopen(h, (db) => assertEntriesEqual(db.readEntries(8, 1, 1, 2, 1e9), ents(1, 1, 9)));
    }));

    void it('imports a snapshot, replacing the replica state', withDb(async (h) => {
      await h.db.saveUpdates([{ shardId: 10, replicaId: 3, entries: ents(1, 50, 4), hardState: { term: 4, vote: 3, commit: 40 } }]);
      const s = snap(10, 100, 7);
      await h.db.importSnapshot(s, 3);
      await checkAndReopen(h, (db) => {
        assert.equal(db.getEntryRange(10, 3), null);
        assert.deepEqual(db.readHardState(10, 3), { term: 7, vote: 0, commit: 100 });
        assert.deepEqual(db.getSnapshot(10, 3), s);
        assert.deepEqual(db.getBootstrap(10, 3), { members: new Map(), join: true, smType: StateMachineType.OnDisk });
      });
    }));

    void it('keeps many shards interleaved apart', withDb(async (h) => {
      const shards = 40;
      const want = new Map<number, Entry[]>();
      for (let round = 0; round < 12; round++) {
        const updates = [];
        for (let s = 1; s <= shards; s++) {
          if ((s + round) % 3 === 0) continue;
          const have = want.get(s) ?? [];
          const next = (have[have.length - 1]?.index ?? 0) + 1;
          const add = ents(next, next + (s % 4), round + 1, s * 3);
          want.set(s, [...have, ...add]);
          updates.push({ shardId: s, replicaId: 100 + s, entries: add, hardState: { term: round + 1, vote: 0, commit: next } });
        }
        await h.db.saveUpdates(updates);
      }
      await checkAndReopen(h, (db) => {
        assert.equal(db.listReplicas().length, shards);
        for (let s = 1; s <= shards; s++) {
          const es = want.get(s) as Entry[];
          assertEntriesEqual(db.readEntries(s, 100 + s, 1, 1e6, 1e9), es);
        }
      });
    }));

    void it('rejects every call after close; close is idempotent', withDb(async (h) => {
      await h.db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(1, 1, 1) }]);
      await h.db.close();
      await h.db.close();
      await assert.rejects(h.db.saveUpdates([]), ClosedError);
      await assert.rejects(h.db.removeEntriesTo(1, 1, 1), ClosedError);
      await assert.rejects(h.db.saveBootstrap(1, 1, { members: new Map(), join: true, smType: 1 }), ClosedError);
      assert.throws(() => h.db.readEntries(1, 1, 1, 2, 1e9), ClosedError);
      assert.throws(() => h.db.getEntryRange(1, 1), ClosedError);
      assert.throws(() => h.db.listReplicas(), ClosedError);
    }));

    void it('resolves concurrent saves, each durable and in call order', withDb(async (h) => {
      const calls: Promise<void>[] = [];
      for (let i = 1; i <= 50; i++) calls.push(h.db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(i, i, 1), hardState: { term: 1, vote: 0, commit: i } }]));
      calls.push(h.db.saveUpdates([{ shardId: 1, replicaId: 1, entries: ents(30, 31, 2) }]));
      await Promise.all(calls);
      await checkAndReopen(h, (db) => {
        assertEntriesEqual(db.readEntries(1, 1, 1, 100, 1e9), [...ents(1, 29, 1), ...ents(30, 31, 2)]);
        assert.deepEqual(db.readHardState(1, 1), { term: 1, vote: 0, commit: 50 });
      });
    }));
  });
}
