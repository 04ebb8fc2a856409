/**
 * The host simulator (`npm run sim:host`, tools/simhost): real NodeHosts under virtual time,
 * a simulated disk and network, run as child processes (the simulator replaces the process's
 * timers and file system). A seed replays to the same trace digest, also when it runs in a
 * `--jobs` worker beside other seeds; each planted bug is caught at its recorded regression
 * seed, which passes without the plant. test/sim/host-sim-seeds.test.ts runs a few hundred
 * clean seeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const SIM = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'tools', 'sim-host.js');

interface Run { code: number; out: string }

function sim(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SIM, ...args], { timeout: 240_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') { reject(new Error(`${String(err)}\n${stderr}`)); return; }
      resolve({ code: err === null ? 0 : (err.code as number), out: stdout });
    });
  });
}

const digestOf = (r: Run, seed: number): string => {
  const m = new RegExp(`^seed ${seed}: digest ([0-9a-f]+)`, 'm').exec(r.out);
  assert.ok(m !== null, `no digest line for seed ${seed} in:\n${r.out}`);
  return m[1]!;
};

test('one seed twice: the same trace digest', { timeout: 300_000 }, async () => {
  const [a, b] = await Promise.all([sim(['--seed', '3', '--steps', '15']), sim(['--seed', '3', '--steps', '15'])]);
  assert.equal(a.code, 0, a.out);
  assert.equal(digestOf(a, 3), digestOf(b, 3));
});

test('--jobs 2: seeds printed in seed order, each digest as when run alone, a failing seed replayable, exit 1', { timeout: 300_000 }, async () => {
  // snapshot-skips-sessions fails seed 1 (see REGRESSIONS below); seeds 2 and 3 run beside it.
  const plant = ['--steps', '40', '--plant', 'snapshot-skips-sessions'];
  const [pool, alone] = await Promise.all([
    sim(['--seeds', '3', '--first', '1', '--jobs', '2', '--verbose', ...plant]),
    sim(['--seed', '3', ...plant]),
  ]);
  assert.equal(pool.code, 1, pool.out);
  const order = [...pool.out.matchAll(/^seed (\d+): digest/gm)].map((m) => Number(m[1]));
  assert.deepEqual(order, [1, 2, 3]);
  assert.match(pool.out, /^ {2}replay: npm run sim:host -- --seed 1 --hosts 3 --shards 2 --steps 40 --plant snapshot-skips-sessions$/m);
  assert.equal(digestOf(pool, 3), digestOf(alone, 3));
  assert.match(pool.out, /^sim:host stats: .*crashes=\d+/m);
  assert.match(pool.out, /^sim:host: 3 seeds, [1-3] failed$/m);
});

test('seed 5: a flipped byte in the recorded snapshot\'s metadata is refused with a CorruptionError naming the file', { timeout: 300_000 }, async () => {
  // Found by this simulator (at seed 9 before issue 19's engine changes moved the traces): the
  // start removed the damaged directory of the snapshot the log records, then failed with
  // "SnapshotNotFoundError: no snapshot metadata in …".
  const r = await sim(['--seed', '5', '--steps', '40', '--verbose']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /refused start \(damaged disk\): CorruptionError: snapshot metadata \/sim\/h2\/snapshots\/shard-1-replica-2\/snapshot-0+50\/snapshot.metadata: /);
});

/** Regression seeds: each plant, the first seed (from 1) that caught it, and what it reports. */
const REGRESSIONS: ReadonlyArray<{ plant: string; seed: number; steps: number; expect: RegExp }> = [
  { plant: 'fsync-lies', seed: 2, steps: 40, expect: /another replica applied|acknowledged write lost|not linearizable|state hash/ },
  { plant: 'snapshot-skips-sessions', seed: 1, steps: 40, expect: /state hash of replica .* another replica had/ },
  { plant: 'compaction-drops-needed', seed: 1, steps: 40, expect: /replica \d+\/\d+ failed: CompactedError: log index \d+ is compacted/ },
];

for (const { plant, seed, steps, expect } of REGRESSIONS) {
  test(`plant ${plant}: seed ${seed} fails with it and passes without it`, { timeout: 300_000 }, async () => {
    const args = ['--seed', String(seed), '--steps', String(steps)];
    const [planted, clean] = await Promise.all([sim([...args, '--plant', plant]), sim(args)]);
    assert.equal(planted.code, 1, planted.out);
    assert.match(planted.out, expect);
    assert.match(planted.out, new RegExp(`replay: npm run sim:host -- --seed ${seed} .*--plant ${plant}`));
    assert.equal(clean.code, 0, clean.out);
  });
}
