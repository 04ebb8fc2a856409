import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType } from '../../src/core/types.js';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import { logDBCompliance } from './compliance.js';
import { removeDir, tempDir } from './helpers.js';

for (const variant of [
  { name: 'WalLogDB', opts: {} },
  // Tiny segments and cache: every test crosses rotations, checkpoints and disk reads.
  { name: 'WalLogDB (4 KiB segments, no cache, separate walDir)', opts: { segmentBytes: 4096, cacheBytes: 0, compactionCopyBytes: 4096 }, walDir: true },
]) {
  logDBCompliance(variant.name, async () => {
    const dir = tempDir('compliance');
    const open = (): Promise<WalLogDB> =>
      WalLogDB.open({ dir, ...(variant.walDir === true ? { walDir: `${dir}/wal` } : {}), ...variant.opts });
    const h = {
      db: await open() as WalLogDB,
      reopen: async () => { await h.db.close(); h.db = await open(); return h.db; },
      cleanup: async () => { await h.db.close(); removeDir(dir); },
    };
    return h;
  });
}

test('WalLogDB: a save that only moves commit indexes is written but not synced; entries, votes and terms are synced', async () => {
  const dir = tempDir('mustsync');
  const db = await WalLogDB.open({ dir });
  try {
    const e = { term: 1, index: 1, type: EntryType.Application, key: 0, clientId: 0, seriesId: 0, respondedTo: 0, cmd: new Uint8Array(3) };
    const syncs = (): number => db.stats().syncs;
    let before = syncs();
    await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 1, vote: 1, commit: 0 }, entries: [e] }]);
    assert.equal(syncs(), before + 1, 'entries and a new term/vote are synced');
    before = syncs();
    await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 1, vote: 1, commit: 1 }, entries: [] }]);
    assert.equal(syncs(), before, 'a commit-only hard state is not synced');
    assert.deepEqual(db.readHardState(1, 1), { term: 1, vote: 1, commit: 1 });
    await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: { term: 2, vote: 0, commit: 1 }, entries: [] }]);
    assert.equal(syncs(), before + 1, 'a new term is synced');
    await db.close();
    const again = await WalLogDB.open({ dir });
    assert.deepEqual(again.readHardState(1, 1), { term: 2, vote: 0, commit: 1 }, 'the unsynced write was covered by the next sync');
    await again.close();
  } finally {
    await db.close();
    removeDir(dir);
  }
});
