/**
 * The WAL against the in-memory reference through the tee, under a seeded randomized
 * workload: appends, tail overwrites, snapshots (matching, conflicting, past the end), gaps,
 * removals, compaction, imports, concurrent calls, reads with byte limits, and reopening the
 * WAL. Tiny segments and cache force rotations, checkpoints, copies and disk reads. A failure
 * prints its seed; rerun one with LOGDB_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { entry, StateMachineType, type Entry } from '../../src/core/types.js';
import type { ReplicaUpdate } from '../../src/contracts/log-db.js';
import { MemoryLogDB } from '../../src/logdb/memory-log-db.js';
import { TeeLogDB } from '../../src/logdb/tee-log-db.js';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import { snap } from './compliance.js';
import { removeDir, seeded, tempDir } from './helpers.js';

const SEEDS = process.env['LOGDB_SEED'] !== undefined ? [Number(process.env['LOGDB_SEED'])] : [1, 2, 3, 4];
const STEPS = 350;
const TIME_LIMIT_MS = 6000;

async function runSeed(seed: number): Promise<void> {
  const rnd = seeded(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const dir = tempDir(`tee-${seed}`);
  const open = (): Promise<WalLogDB> => WalLogDB.open({ dir, segmentBytes: 4096, cacheBytes: 2048, compactionCopyBytes: 4096 });
  const mem = new MemoryLogDB();
  let wal = await open();
  let tee = new TeeLogDB(mem, wal);
  const replicas: [number, number][] = [];
  for (let s = 1; s <= 8; s++) for (let r = 1; r <= 2; r++) replicas.push([s, r]);
  const pick = (): [number, number] => replicas[int(0, replicas.length - 1)] as [number, number];
  let term = 1;
  const mk = (from: number, n: number, t: number): Entry[] =>
    Array.from({ length: n }, (_, k) => entry({ term: t, index: from + k, key: int(0, 1e6), cmd: new Uint8Array(int(0, 400)).fill(int(0, 255)) }));

  const update = (s: number, r: number): ReplicaUpdate => {
    const range = tee.getEntryRange(s, r);
    const last = range?.lastIndex ?? tee.getSnapshot(s, r)?.index ?? 0;
    const roll = rnd();
    let entries: Entry[] = [];
    if (roll < 0.6) entries = mk(last + 1, int(1, 8), term);
    else if (roll < 0.8 && range !== null) entries = mk(int(range.firstIndex, range.lastIndex), int(1, 4), ++term);
    else if (roll < 0.85) entries = mk(last + int(2, 5), 2, term); // a gap, unless the log is empty
    const u: { -readonly [K in keyof ReplicaUpdate]: ReplicaUpdate[K] } = { shardId: s, replicaId: r, entries };
    if (rnd() < 0.5) u.hardState = { term, vote: int(0, 3), commit: int(0, last) };
    if (rnd() < 0.08) u.snapshot = snap(s, int(1, last + 5), int(Math.max(1, term - 2), term));
    return u;
  };

  const started = Date.now();
  let copied = 0, reopens = 0;
  const closeWal = async (): Promise<void> => { copied += wal.stats().copiedBytes; reopens++; await wal.close(); };
  try {
    for (let step = 0; step < STEPS && Date.now() - started < TIME_LIMIT_MS; step++) {
      const [s, r] = pick();
      const roll = rnd();
      if (roll < 0.55) {
        // Up to three calls in flight at once: they coalesce into one group commit.
        const batches = Array.from({ length: int(1, 3) }, () => Array.from({ length: int(1, 4) }, () => update(...pick())));
        const results = await Promise.allSettled(batches.map((b) => tee.saveUpdates(b)));
        const bad = results.find((x) => x.status === 'rejected' && (x.reason as Error).name !== 'InvalidOperationError');
        if (bad !== undefined) throw (bad as PromiseRejectedResult).reason;
      } else if (roll < 0.65) {
        const range = tee.getEntryRange(s, r);
        if (range !== null) await tee.removeEntriesTo(s, r, int(range.firstIndex - 1, range.lastIndex));
      } else if (roll < 0.75) {
        const range = tee.getEntryRange(s, r);
        if (range !== null) await tee.compactEntriesTo(s, r, int(range.firstIndex, range.lastIndex + 1));
      } else if (roll < 0.78) {
        await tee.removeReplicaData(s, r);
      } else if (roll < 0.8) {
        await tee.importSnapshot({ ...snap(s, int(1, 200), ++term), imported: true }, r);
      } else if (roll < 0.84) {
        await tee.saveBootstrap(s, r, { members: new Map([[r, `h${r}`]]), join: rnd() < 0.5, smType: StateMachineType.Regular });
      } else if (roll < 0.97) {
        const range = tee.getEntryRange(s, r);
        if (range !== null) {
          const lo = int(range.firstIndex, range.lastIndex);
          tee.readEntries(s, r, lo, int(lo, range.lastIndex + 3), int(0, 3000));
        }
      } else {
        await closeWal();
        wal = await open();
        tee = new TeeLogDB(mem, wal);
        tee.checkAll();
      }
    }
    tee.checkAll();
    await closeWal();
    wal = await open();
    tee = new TeeLogDB(mem, wal);
    tee.checkAll();
    const st = wal.stats();
    if (process.env["LOGDB_DEBUG"] !== undefined) console.log(seed, Date.now() - started, JSON.stringify(st), { copied, reopens });
    assert.ok(st.totalBytes <= 2 * st.liveBytes + 4 * 4096 + 64 * 1024, `space bound: ${JSON.stringify(st)}`);
  } catch (err) {
    throw new Error(`seed ${seed} failed (rerun with LOGDB_SEED=${seed}): ${String(err)}`, { cause: err });
  } finally {
    await wal.close();
    removeDir(dir);
  }
}

for (const seed of SEEDS) {
  void it(`tee: WAL matches the memory LogDB under a random workload (seed ${seed})`, () => runSeed(seed));
}
