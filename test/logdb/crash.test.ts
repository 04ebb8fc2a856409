/**
 * Crash tests on real files: a child process saves batches and reports each acknowledged
 * one; it is SIGKILLed at a random moment; the WAL is reopened and checked: every
 * acknowledged batch is present, no batch is present in some of its shards but not others,
 * and each shard's hard state matches its newest entry (records of a batch are atomic).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import { batchShards, payloadBatch, REPLICA, SHARDS } from './fixtures/crash-plan.js';
import { removeDir, seeded, tempDir } from './helpers.js';
import { runUntilKilled } from '../support/kill-child.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-writer.js');
const ROUNDS = 8;
const TIME_LIMIT_MS = 20_000;

/** Runs the child until killed after `killAfterMs` of acknowledged writing; returns the acks. */
function runChild(dir: string, first: number, killAfterMs: number): Promise<number[]> {
  return runUntilKilled({ script: CHILD, args: [dir, String(first), String(64 * 1024)], readyLine: 'open', ackPrefix: 'ack ', killAfterMs });
}

/** Reopens the WAL and checks it against the acknowledged batches. */
async function checkStore(dir: string, acked: ReadonlySet<number>, round: number): Promise<void> {
  const db = await WalLogDB.open({ dir, segmentBytes: 64 * 1024 });
  try {
    const present = new Map<number, number[]>();
    for (let s = 1; s <= SHARDS; s++) {
      const range = db.getEntryRange(s, REPLICA);
      const ids = range === null ? [] : db.readEntries(s, REPLICA, range.firstIndex, range.lastIndex + 1, Infinity).map((e) => payloadBatch(e.cmd));
      for (let k = 1; k < ids.length; k++) assert.ok((ids[k] as number) > (ids[k - 1] as number), `shard ${s} batches out of order`);
      present.set(s, ids);
      if (ids.length > 0) assert.equal(db.readHardState(s, REPLICA).commit, ids[ids.length - 1], `shard ${s} hard state vs entries`);
    }
    // A batch's entry in a shard may be gone only if compaction removed it (older than the shard's first).
    const has = (n: number, s: number): boolean => {
      const ids = present.get(s) ?? [];
      return ids.includes(n) || (ids.length > 0 && (ids[0] as number) > n);
    };
    for (const n of acked) for (const s of batchShards(n)) assert.ok(has(n, s), `acknowledged batch ${n} missing from shard ${s}`);
    const seen = new Set([...present.values()].flat());
    for (const n of seen) for (const s of batchShards(n)) assert.ok(has(n, s), `batch ${n} only partly present (shard ${s})`);
    assert.ok(acked.size > 0, 'the child acknowledged something');
    if (process.env['LOGDB_DEBUG'] !== undefined) console.log(round, acked.size, JSON.stringify(db.stats()));
  } finally {
    await db.close();
  }
}

void it('keeps every acknowledged batch and no partial batch across SIGKILLs', async () => {
  const dir = tempDir('crash');
  const rnd = seeded(42);
  const acked = new Set<number>();
  const started = Date.now();
  try {
    for (let round = 0; round < ROUNDS && Date.now() - started < TIME_LIMIT_MS; round++) {
      for (const n of await runChild(dir, (round + 1) * 1_000_000, 20 + Math.floor(rnd() * 400))) acked.add(n);
      await checkStore(dir, acked, round);
    }
  } finally {
    removeDir(dir);
  }
});
