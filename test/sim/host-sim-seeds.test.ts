/**
 * A few hundred seeds of the host simulator (`npm run sim:host`, tools/simhost) in `npm test`:
 * 250 seeds of 3 hosts and 100 of 5 hosts (membership and joint changes need hosts beyond the
 * first three), 15 nemesis steps each, in worker processes (`--jobs`, one per core). None may
 * fail, and over the run every kind of fault and check must have happened at least once:
 * crashes (torn writes among them), restarts, symmetric and one-way partitions, network faults,
 * fsync EIO, ENOSPC, flipped bytes, snapshots, leader transfers, membership and joint changes,
 * lease reads and new leaders checked for completeness (the counts of the `sim:host stats:`
 * line). 52 s of wall time on two idle cores (350 seeds in 2 jobs). *
 * The seeds are fixed, so the run is the same every time: a seed that fails here fails on every
 * run, and its line says how to replay it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const SIM = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'tools', 'sim-host.js');

interface Run { code: number; out: string; stats: Record<string, number> }

function sim(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SIM, ...args], { timeout: 900_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') { reject(new Error(`${String(err)}\n${stderr}`)); return; }
      const line = /^sim:host stats: (.*)$/m.exec(stdout);
      const stats: Record<string, number> = {};
      for (const kv of line?.[1]?.split(' ') ?? []) {
        const [k, v] = kv.split('=');
        if (k !== undefined && v !== undefined) stats[k] = Number(v);
      }
      resolve({ code: err === null ? 0 : (err.code as number), out: stdout, stats });
    });
  });
}

/** The failing seeds' lines of a run (its violations and replay commands), for the message. */
const failures = (r: Run): string => r.out.split('\n').filter((l) => /FAILED|^ {2}/.test(l)).join('\n');

const total: Record<string, number> = {};
const add = (r: Run): void => { for (const [k, v] of Object.entries(r.stats)) total[k] = (total[k] ?? 0) + v; };

test('250 seeds of 3 hosts: none fails', { timeout: 900_000 }, async () => {
  const r = await sim(['--seeds', '250', '--first', '1', '--hosts', '3', '--steps', '15']);
  add(r);
  assert.match(r.out, /^sim:host: 250 seeds, 0 failed$/m, failures(r));
  assert.equal(r.code, 0);
});

test('100 seeds of 5 hosts (with membership and joint changes): none fails', { timeout: 900_000 }, async () => {
  const r = await sim(['--seeds', '100', '--first', '1', '--hosts', '5', '--steps', '15']);
  add(r);
  assert.match(r.out, /^sim:host: 100 seeds, 0 failed$/m, failures(r));
  assert.equal(r.code, 0);
});

test('over those 350 seeds every fault was injected', () => {
  // Counted where the fault happened: disk.* by the simulated disk, the rest by the nemesis.
  const faults = ['crashes', 'restarts', 'partitions', 'netFaults', 'disk.eio', 'disk.enospc', 'disk.flips', 'refusedStarts', 'snapshots', 'transfers', 'addsDone', 'removesDone', 'jointDone', 'oneWayPartitions', 'disk.torn', 'leaseReads', 'leadersChecked'];
  const missing = faults.filter((k) => !((total[k] ?? 0) > 0));
  assert.deepEqual(missing, [], `faults never injected: ${missing.join(', ')}; counts: ${JSON.stringify(total)}`);
});
