/**
 * Commit atomicity across SIGKILL: a child saves and receives snapshots in a loop and is
 * killed at random moments; after each kill a fresh snapshotter's `cleanupAtStart()` leaves no
 * temporary directory, and `newest()` is the last snapshot the child reported committed or
 * the one after it (committed, not yet reported) — complete, verified byte for byte.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSnapshotFile } from '../../src/snapshot/file-reader.js';
import { Snapshotter } from '../../src/snapshot/snapshotter.js';
import { externalOf, payloadOf } from './fixtures/crash-plan.js';
import { removeDir, seeded, tempDir } from './helpers.js';
import { runUntilKilled } from '../support/kill-child.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-saver.js');
const ROUNDS = 12;
const TIME_LIMIT_MS = 20_000;

/** Runs the child until killed `killAfterMs` after it is ready; returns the committed indexes. */
function runChild(dir: string, scratch: string, first: number, killAfterMs: number): Promise<number[]> {
  return runUntilKilled({ script: CHILD, args: [dir, scratch, String(first)], readyLine: 'ready', ackPrefix: 'committed ', killAfterMs });
}

void it('a SIGKILL at any moment leaves the previous or the new snapshot, never a partial one', async () => {
  const base = tempDir('crash');
  const dir = path.join(base, 'snapshots'), scratch = path.join(base, 'scratch');
  fs.mkdirSync(scratch);
  const rnd = seeded(5);
  const started = Date.now();
  let lastReported = 0, rounds = 0, sawInFlight = 0, tempsRemoved = 0;
  try {
    for (; rounds < ROUNDS && Date.now() - started < TIME_LIMIT_MS; rounds++) {
      const newestBefore = lastReported;
      const committed = await runChild(dir, scratch, lastReported + 1, 20 + Math.floor(rnd() * 600));
      if (committed.length > 0) lastReported = committed[committed.length - 1] as number;

      const s = new Snapshotter({ dir, shardId: 1, replicaId: 1 });
      tempsRemoved += (await s.cleanupAtStart()).removedTemp.length;
      const left = fs.readdirSync(dir);
      assert.ok(left.every((n) => /^snapshot-[0-9A-F]{16}$/.test(n)), `temp dirs left after cleanup: ${left.join(', ')}`);
      const newest = await s.newest();
      const got = newest?.index ?? 0;
      assert.ok(got === lastReported || got === lastReported + 1, `round ${rounds}: newest ${got}, last reported ${lastReported} (before ${newestBefore})`);
      if (got === lastReported + 1) sawInFlight++;
      if (newest !== null) {
        await s.verify(newest);
        const data = await (await openSnapshotFile(newest.filepath)).payload.readAll();
        assert.ok(Buffer.from(data).equals(payloadOf(got)), `payload of ${got}`);
        assert.ok(fs.readFileSync(newest.files[0]!.filepath).equals(externalOf(got)), `external file of ${got}`);
        for (const m of await s.list()) await s.verify(m);
      }
      lastReported = got;
    }
    assert.ok(rounds >= 10, `only ${rounds} rounds ran in the time limit`);
    assert.ok(lastReported > 0, 'some snapshot was committed');
    if (process.env['SNAPSHOT_DEBUG'] !== undefined) console.log({ rounds, lastReported, sawInFlight, tempsRemoved });
  } finally {
    removeDir(base);
  }
});
