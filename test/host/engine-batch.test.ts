/**
 * One engine pass, one LogDB write, one fdatasync for every shard of the host (issue 19 asked
 * to check it): sixteen replicas ready at once are written by ONE `saveUpdates` call, and the
 * WAL makes that call durable with ONE fdatasync.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/host/engine.js';
import { realRuntime } from '../../src/runtime/index.js';
import { noopLogger } from '../../src/logger.js';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import { entry, type Entry } from '../../src/core/types.js';
import type { Update } from '../../src/core/peer.js';
import type { ReplicaUpdate } from '../../src/contracts/log-db.js';
import type { Transport } from '../../src/contracts/transport.js';
import type { Replica } from '../../src/host/replica.js';

const SHARDS = 16;

function ents(lo: number, hi: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(entry({ term: 1, index: i, cmd: Uint8Array.of(i & 0xff) }));
  return out;
}

test('sixteen shards ready in one pass: one saveUpdates call, one fdatasync', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-engine-batch-'));
  const db = await WalLogDB.open({ dir, fsync: true });
  const calls: number[] = [];
  const logdb = new Proxy(db, {
    get: (t, p) => {
      if (p === 'saveUpdates') return (u: readonly ReplicaUpdate[]) => { calls.push(u.length); return t.saveUpdates(u); };
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  const transport = { send: () => true } as unknown as Transport;
  const engine = new Engine(logdb, transport, noopLogger, (e) => { throw e; }, () => false, realRuntime);
  const persisted: number[] = [];
  try {
    const syncs0 = db.stats().syncs;
    for (let s = 1; s <= SHARDS; s++) {
      const u: Update = {
        shardId: s, replicaId: 1, hardState: { term: 1, vote: 1, commit: 0 }, snapshot: null, messages: [],
        entriesToSave: ents(1, 8), committedEntries: [], readyToReads: [], droppedEntries: [], droppedReads: [], softState: null,
      };
      let taken = false;
      const r = {
        stopped: false, failure: null,
        peer: { hasUpdate: () => !taken, getUpdate: () => { taken = true; return u; } },
        handleEvents: () => {}, committedLocalProposal: () => false, applyBeforePersist: () => {},
        afterPersist: () => { persisted.push(s); },
      };
      engine.setReady(r as unknown as Replica);
    }
    await engine.drain();
    assert.deepEqual(calls, [SHARDS], 'one LogDB write holding every shard\'s update');
    assert.equal(persisted.length, SHARDS);
    assert.equal(db.stats().syncs - syncs0, 1, 'one fdatasync for all of them');
    for (let s = 1; s <= SHARDS; s++) assert.equal(db.getEntryRange(s, 1)?.lastIndex, 8);
  } finally {
    engine.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
