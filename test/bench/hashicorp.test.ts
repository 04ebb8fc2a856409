// The hashicorp/raft runner of `npm run bench` (bench/hashicorp.ts), without Go: its line
// parser, its rows, the program's protocol driven through a stand-in script, and the one
// "skipped" line of `bench/index.js` when go is not on PATH.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { INSTALL_COMMAND, hashicorpMissing, hashicorpRows, parseLine, runHashicorp, type HashicorpRun } from '../../bench/hashicorp.js';
import { libraryChart } from '../../bench/chart.js';
import { removeDir, tempDirFor } from '../support/temp.js';

const INDEX = fileURLToPath(new URL('../../bench/index.js', import.meta.url));

const dirs: string[] = [];
after(() => { for (const d of dirs) removeDir(d); });
function dir(tag: string): string {
  const d = tempDirFor('bench', tag);
  dirs.push(d);
  return d;
}

/** An executable shell script in a fresh directory. */
function script(tag: string, body: string, name = 'prog'): string {
  const f = path.join(dir(tag), name);
  fs.writeFileSync(f, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return f;
}

const run = (inflight: number, rep: number, opsPerSec: number, p50Ms: number, cpu = [50, 20, 20]): HashicorpRun => ({
  type: 'run', inflight, size: 16, rep, count: opsPerSec * 2, errors: rep, wallMs: 2000, opsPerSec, p50Ms, p99Ms: p50Ms * 10, p999Ms: p50Ms * 20, maxMs: p50Ms * 30, cpuPct: cpu,
});

describe('hashicorp/raft runner', () => {
  it('parses the info, run and done lines and rejects anything else', () => {
    assert.equal(parseLine('   '), null);
    assert.deepEqual(parseLine('{"type":"done"}'), { type: 'done' });
    const info = parseLine('{"config":{"maxAppendEntries":64,"store":"raft-boltdb (fsync on)"},"go":"go1.19.8","type":"info"}');
    assert.deepEqual(info, { type: 'info', go: 'go1.19.8', config: { maxAppendEntries: 64, store: 'raft-boltdb (fsync on)' } });
    const line = JSON.stringify(run(256, 0, 12000, 18.5));
    assert.deepEqual(parseLine(line), run(256, 0, 12000, 18.5));
    assert.throws(() => parseLine('hashicorp-bench: no leader'), /not JSON/);
    assert.throws(() => parseLine('{"type":"run","inflight":1}'), /run line without size, rep, count/);
    assert.throws(() => parseLine(line.replace('"cpuPct":[50,20,20]', '"cpuPct":"50"')), /without cpuPct/);
    assert.throws(() => parseLine('{"type":"info","go":1}'), /unexpected line/);
    assert.throws(() => parseLine('[1]'), /unexpected line/);
  });

  it('makes one row per in-flight level: medians of the runs, every run, the median run\'s CPU', () => {
    const rows = hashicorpRows([run(1, 0, 400, 2), run(1, 1, 300, 3, [30, 10, 10]), run(1, 2, 500, 1),
      run(256, 0, 12000, 18), run(256, 1, 11000, 20), run(256, 2, 13000, 16)]);
    assert.equal(rows.length, 2);
    const [a, b] = rows;
    assert.deepEqual(a, { workload: 'hashicorp', name: 'hashicorp/raft 16 B inflight=1', opsPerSec: 400, runs: [400, 300, 500], p50: 2, p99: 20,
      extra: { system: 'hashicorp/raft', shards: 1, size: 16, inflight: 1, read: 'false', p999: 40, errors: 3, cpuPctPerProcess: '50/20/20' } });
    assert.equal(b?.opsPerSec, 12000);
    assert.equal(b?.p50, 18);
    assert.equal(b?.extra.inflight, 256);
  });

  it('says why it is skipped, with the install command', () => {
    const noGo = hashicorpMissing({ PATH: dir('nogo') });
    assert.equal(noGo, `hashicorp/raft workload skipped: go is not on PATH (Debian: ${INSTALL_COMMAND})`);
    assert.match(INSTALL_COMMAND, /^apt-get install -y golang-go golang-github-hashicorp-raft-dev golang-github-hashicorp-raft-boltdb-dev$/);
    // A go that runs, but no hashicorp sources in the GOPATH.
    const fakeGo = script('fakego', 'echo "go version go0 fake"', 'go');
    const noSrc = hashicorpMissing({ PATH: path.dirname(fakeGo) }, dir('gopath'));
    assert.match(noSrc ?? '', /^hashicorp\/raft workload skipped: no github\.com\/hashicorp\/raft or github\.com\/hashicorp\/raft-boltdb under .*\/src \(Debian: apt-get install/);
  });

  it('drives the program: passes the plan as flags, collects its runs and progress', async () => {
    const prog = script('prog', [
      'echo "[hashicorp-bench] args $*" >&2',
      'echo "2026-12-06T10:26:51Z [WARN] raft-2: heartbeat timeout reached" >&2',
      `echo '{"config":{"logCache":512},"go":"go1.19.8","type":"info"}'`,
      `echo '${JSON.stringify(run(1, 0, 400, 2))}'`,
      'echo "[hashicorp-bench] 16 B commands, 256 in flight, run 1/1 (2 s)" >&2',
      `echo '${JSON.stringify(run(256, 0, 12000, 18))}'`,
      `echo '{"type":"done"}'`,
    ].join('\n'));
    const progress: string[] = [];
    const out = await runHashicorp(prog, { dir: '/data/x', inflights: [1, 256], size: 16, seconds: 2, reps: 1, warmupSeconds: 1 }, (m) => progress.push(m));
    assert.deepEqual(out.info, { type: 'info', go: 'go1.19.8', config: { logCache: 512 } });
    assert.deepEqual(out.runs, [run(1, 0, 400, 2), run(256, 0, 12000, 18)]);
    assert.deepEqual(progress, ['args -dir=/data/x -inflight=1,256 -size=16 -seconds=2 -reps=1 -warmup=1', '16 B commands, 256 in flight, run 1/1 (2 s)']);
  });

  it('fails with the end of stderr when the program fails or stops before done', async () => {
    const plan = { dir: '/data/x', inflights: [1], size: 16, seconds: 2, reps: 1, warmupSeconds: 0 };
    const failing = script('fail', `echo '{"config":{},"go":"go1","type":"info"}'\necho "hashicorp-bench: no leader after 1m0s" >&2\nexit 1`);
    await assert.rejects(runHashicorp(failing, plan), /exited with 1 before done:\nhashicorp-bench: no leader after 1m0s/);
    const short = script('short', `echo '${JSON.stringify(run(1, 0, 400, 2))}'`);
    await assert.rejects(runHashicorp(short, plan), /exited with 0 before done/);
    const garbled = script('garbled', `echo 'panic: runtime error'\necho '{"type":"done"}'`);
    await assert.rejects(runHashicorp(garbled, plan), /not JSON: panic: runtime error/);
  });

  it('draws hashicorp/raft beside sampan in the library chart', () => {
    const sampan = { workload: 'library', name: '1 shard(s) 16 B inflight=1', opsPerSec: 300, runs: [300], p50: 3, p99: 30, extra: { shards: 1, size: 16, inflight: 1, read: 'false' } };
    const svg = libraryChart([sampan, ...hashicorpRows([run(1, 0, 400, 2), run(256, 0, 12000, 18)])]) ?? '';
    assert.match(svg, /1 shard, 16 B p50/);
    assert.match(svg, /hashicorp\/raft, 16 B p50/);
    assert.match(svg, /hashicorp\/raft, 16 B p99/);
  });

  // A go that answers `version` but cannot build: needs Debian's hashicorp sources (else the skip path runs).
  const brokenGo = script('brokengo', 'if [ "$1" = version ]; then echo "go version go0 broken"; exit 0; fi\necho "cannot find package" >&2\nexit 1', 'go');
  it('npm run bench reports a failed build in one line and still exits 0', { skip: hashicorpMissing({ PATH: path.dirname(brokenGo) }) ?? false }, () => {
    const r = spawnSync(process.execPath, [INDEX, '--only=hashicorp', '--json', `--dir=${dir('index')}`],
      { env: { ...process.env, PATH: path.dirname(brokenGo), XDG_CACHE_HOME: dir('cache') }, encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /hashicorp\/raft workload failed: building .*main\.go failed \(exit 1\):\ncannot find package/);
  });

  it('npm run bench prints one skipped line when go is not on PATH', () => {
    const r = spawnSync(process.execPath, [INDEX, '--only=hashicorp', '--json', `--dir=${dir('index')}`],
      { env: { ...process.env, PATH: dir('path') }, encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.deepEqual(r.stderr.split('\n').filter((l) => l !== ''), [`hashicorp/raft workload skipped: go is not on PATH (Debian: ${INSTALL_COMMAND})`]);
  });
});
