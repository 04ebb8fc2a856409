/**
 * SNAPSHOTS.md §6 "a snapshot is never visible until it is complete": a child process runs a
 * single-replica NodeHost that writes and takes snapshots in a loop (with compaction and
 * retention) and is SIGKILLed at random moments. After each kill the test restarts the host
 * in its own process on the same directory: no temporary directory remains, the replica
 * starts, it recovered from a complete snapshot at least as new as the last acknowledged one,
 * every committed snapshot verifies byte for byte, and every acknowledged write is present.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seeded } from '../support/temp.js';
import { crashDirs, crashHostLeads, openCrashHost } from './support/crash-host.js';
import { finalIndexes, snapshotDirOf, snapshotEntries, tempNames, until } from './support/snapshot-sm.js';
import { Snapshotter } from '../../src/snapshot/snapshotter.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'snapshot-crash-host.js');
const MIN_ROUNDS = 8;
const MAX_ROUNDS = 10;
const TIME_LIMIT_MS = 25_000;

interface ChildRun {
  readonly acks: Array<{ key: string; length: number; index: number }>;
  readonly snaps: number[];
}

/** Runs the child until it is SIGKILLed `killAfterMs` after it reported ready. */
function runChild(base: string, tag: string, fresh: boolean, killAfterMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, base, tag, fresh ? '1' : '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const run: ChildRun = { acks: [], snaps: [] };
    let buf = '', stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const hard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const [what, a, b, c] = line.split(' ');
        if (what === 'ready') timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        else if (what === 'ack') run.acks.push({ key: a as string, length: Number(b), index: Number(c) });
        else if (what === 'snap') run.snaps.push(Number(a));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(hard);
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code} ${signal}: ${stderr}`));
      else resolve(run);
    });
  });
}

test('§6 SIGKILL at random moments of writing, saving and compacting: restart finds no temp dir, a complete snapshot, every acknowledged write', { timeout: 60_000 }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'sampan-snap-crash-'));
  const { hostDir } = crashDirs(base);
  const snapDir = snapshotDirOf(hostDir, 1, 1);
  const rnd = seeded(Number(process.env['SNAPSHOT_CRASH_SEED'] ?? 11));
  const acked = new Map<string, number>();
  let lastSnap = 0, rounds = 0, totalSnaps = 0, killedMidSave = 0;
  const started = Date.now();
  try {
    for (; rounds < MAX_ROUNDS && (rounds < MIN_ROUNDS || Date.now() - started < TIME_LIMIT_MS); rounds++) {
      const run = await runChild(base, `r${rounds}`, rounds === 0, 30 + Math.floor(rnd() * 500));
      for (const a of run.acks) acked.set(a.key, a.length);
      if (run.snaps.length > 0) lastSnap = run.snaps.at(-1) as number;
      totalSnaps += run.snaps.length;

      if (tempNames(snapshotEntries(hostDir, 1, 1)).length > 0) killedMidSave++;
      const { nh, sm } = await openCrashHost(base, false);
      try {
        const names = snapshotEntries(hostDir, 1, 1);
        assert.deepEqual(tempNames(names), [], `round ${rounds}: temporary directories left after start: ${names.join(', ')}`);
        const info = nh.getNodeHostInfo().shards[0];
        assert.ok(info !== undefined, 'the replica started');
        const ssIndex = info.snapshotIndex;
        assert.ok(ssIndex >= lastSnap, `round ${rounds}: recovered snapshot ${ssIndex} older than the last acknowledged ${lastSnap}`);
        if (ssIndex > 0) {
          assert.equal(sm().recoveries.length, 1, `round ${rounds}: recovered from snapshot ${ssIndex}`);
          assert.ok(finalIndexes(names).includes(ssIndex), `round ${rounds}: snapshot ${ssIndex} is on disk`);
          assert.ok(info.firstLogIndex <= ssIndex + 1, `round ${rounds}: no gap between snapshot ${ssIndex} and log ${info.firstLogIndex}`);
        }
        await crashHostLeads(nh);
        await until(() => [...acked].every(([k, len]) => sm().map.get(k)?.length === len), 5000, `round ${rounds}: every acknowledged write`)
          .catch(() => {
            const missing = [...acked.keys()].filter((k) => sm().map.get(k)?.length !== acked.get(k));
            throw new Error(`round ${rounds}: ${missing.length} acknowledged writes missing, e.g. ${missing.slice(0, 5).join(', ')}`);
          });
      } finally {
        await nh.close();
      }
      // Every committed snapshot is complete: data file, external file and metadata verify.
      const s = new Snapshotter({ dir: snapDir, shardId: 1, replicaId: 1 });
      await s.cleanupAtStart();
      const metas = await s.list();
      assert.deepEqual(metas.map((m) => m.index), finalIndexes(snapshotEntries(hostDir, 1, 1)), 'every final directory has valid metadata');
      for (const m of metas) await s.verify(m);
    }
    assert.ok(rounds >= MIN_ROUNDS, `only ${rounds} rounds`);
    assert.ok(totalSnaps > 0 && lastSnap > 0, 'snapshots were taken and acknowledged');
    assert.ok(acked.size > 0);
    if (process.env['SNAPSHOT_DEBUG'] !== undefined) console.log({ rounds, killedMidSave, acked: acked.size, totalSnaps, lastSnap, ms: Date.now() - started });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
