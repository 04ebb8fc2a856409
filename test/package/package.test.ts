/**
 * The package as a user gets it: `npm pack` holds what a user needs and nothing of the
 * repository's tests, benchmarks, tools or images, its source maps point at sources it
 * ships; installed from the tarball into an empty project (from npm's cache, no network)
 * it imports, and `sampan --version` and `--help` run — without better-sqlite3, an optional
 * peer dependency: `--state-machine disk` then says in one line what to install.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The environment without what an enclosing `npm test` put there for its own scripts. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

function sh(cmd: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 90_000 });
}

/** Installs the tarball `tgz` into a new empty ESM project under `tmp` (from npm's cache when it can). */
function installIntoEmptyProject(tmp: string, tgz: string): { proj: string; inst: SpawnSyncReturns<string> } {
  const proj = join(tmp, 'user');
  sh('mkdir', ['-p', proj], tmp);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'user', version: '1.0.0', private: true, type: 'module' }));
  let inst = sh('npm', ['install', '--offline', '--no-audit', '--no-fund', tgz], proj);
  if (inst.status !== 0) inst = sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tgz], proj);
  assert.equal(inst.status, 0, inst.stderr);
  return { proj, inst };
}

test('npm pack: only what a user needs; installed from the tarball it imports and runs without better-sqlite3', { timeout: 120_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sampan-package-'));
  try {
    // The build `npm test` just made; `prepare` (a full build) is skipped.
    const pack = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
    assert.equal(pack.status, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(info !== undefined);
    const files = new Set(info.files.map((f) => f.path));
    for (const f of files) {
      assert.doesNotMatch(f, /^(test|bench|tools|docs|dist\/(test|bench|tools))\//, `${f} does not belong in the package`);
      assert.doesNotMatch(f, /\.(png|svg|jpe?g|gif|jsonl|tsbuildinfo)$/, `${f} does not belong in the package`);
    }
    for (const f of ['package.json', 'bin/sampan.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'README.md', 'LICENSE']) {
      assert.ok(files.has(f), `${f} is in the package`);
    }
    // Every source map points at sources that are in the package.
    for (const f of files) {
      if (!f.endsWith('.map')) continue;
      const map = JSON.parse(readFileSync(join(ROOT, f), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const s of map.sources) {
        const p = posix.normalize(posix.join(posix.dirname(f), map.sourceRoot ?? '', s));
        assert.ok(files.has(p), `${f} points at ${p}, which is not in the package`);
      }
    }

    // An empty project installs the tarball; dependencies come from npm's cache.
    const { proj, inst } = installIntoEmptyProject(tmp, join(tmp, info.filename));
    assert.equal(existsSync(join(proj, 'node_modules', 'better-sqlite3')), false, 'the optional peer is not installed');
    assert.doesNotMatch(inst.stderr, /EBADENGINE/);

    const imp = sh(process.execPath, ['--input-type=module', '-e', `
      const m = await import('sampan'); const core = await import('sampan/core'); const metrics = await import('sampan/metrics');
      console.log(typeof m.NodeHost, typeof core.Peer, typeof metrics.attachMetrics);`], proj);
    assert.equal(imp.status, 0, imp.stderr);
    assert.equal(imp.stdout.trim(), 'function function function');

    const bin = join(proj, 'node_modules', '.bin', 'sampan');
    const v = sh(bin, ['--version'], proj);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), VERSION);
    const help = sh(bin, ['kv', '--help'], proj);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--replica-id <n> .*\(required\)/);
    assert.match(help.stdout, /\(default: memory\)/);
    assert.doesNotMatch(help.stdout, /\(default [^:]|default: "/, 'one default format');

    const dataDir = join(tmp, 'data');
    const disk = sh(bin, ['kv', '--replica-id', '1', '--raft-address', '127.0.0.1:1', '--http-address', '127.0.0.1:2',
      '--data-dir', dataDir, '--initial-members', '1=127.0.0.1:1', '--state-machine', 'disk'], proj);
    assert.equal(disk.status, 1);
    assert.equal(disk.stderr.trim().split('\n').length, 1, disk.stderr);
    assert.match(disk.stderr, /^sampan kv: .*better-sqlite3.*npm install better-sqlite3/);
    assert.equal(existsSync(dataDir), false, 'nothing was started');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('from git: a clone builds dist/ through the prepare script, and what it packs installs and imports', { timeout: 180_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sampan-git-'));
  try {
    // What npm does for a git dependency: clone, install the dev dependencies, run `prepare`,
    // pack. The dev dependencies are this checkout's own (linked), not fetched again.
    const clone = join(tmp, 'clone');
    const git = sh('git', ['clone', '--quiet', '--depth', '1', `file://${ROOT}`, clone], tmp);
    assert.equal(git.status, 0, git.stderr);
    assert.equal(existsSync(join(clone, 'dist')), false, 'a clone has no build');
    sh('ln', ['-s', join(ROOT, 'node_modules'), join(clone, 'node_modules')], tmp);
    const pack = sh('npm', ['pack', '--json', '--pack-destination', tmp], clone);
    assert.equal(pack.status, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(info !== undefined);
    assert.ok(info.files.some((f) => f.path === 'dist/src/index.js'), 'prepare built dist/ before packing');

    const { proj } = installIntoEmptyProject(tmp, join(tmp, info.filename));
    const imp = sh(process.execPath, ['--input-type=module', '-e', "const m = await import('sampan'); console.log(typeof m.NodeHost);"], proj);
    assert.equal(imp.status, 0, imp.stderr);
    assert.equal(imp.stdout.trim(), 'function');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
