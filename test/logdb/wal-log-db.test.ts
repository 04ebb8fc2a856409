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
