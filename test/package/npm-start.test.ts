/**
 * `npm start` runs the demo in a process that gets the signals sent to npm: a SIGTERM to the
 * npm pid stops the demo cleanly and frees its six ports (it used to leave `node … demo`
 * running, orphaned, on all six). `--ignore-scripts` skips the `prestart` build: the test
 * runs against the build `npm test` made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canBind, until } from '../kv/support/procs.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The environment without what an enclosing `npm test` put there for its own scripts. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

async function portBase(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    if (await canBind([base, base + 1, base + 2, base + 10, base + 11, base + 12])) return base;
  }
  throw new Error('no free ports');
}

test('npm start: SIGTERM to the npm process stops the demo and frees its six ports', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-npm-start-'));
  const base = await portBase();
  const ports = [base, base + 1, base + 2, base + 10, base + 11, base + 12];
  // Its own process group, so that `finally` can reach an orphaned demo too.
  const npm = spawn('npm', ['start', '--ignore-scripts', '--', '--data-dir', dir, '--http-port', String(base), '--raft-port', String(base + 10)],
    { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  npm.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  npm.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | string>((res) => npm.once('exit', (code, sig) => res(code ?? sig ?? -1)));
  try {
    await until('the demo to start', 30000, () => (out.includes('Ctrl-C stops') ? true : undefined));
    assert.equal(await canBind(ports), false, 'the demo holds its ports');
    npm.kill('SIGTERM');
    await exited;
    await until('the six ports to be free', 10000, async () => ((await canBind(ports)) ? true : undefined));
    assert.match(out, /SIGTERM: stopping/, 'the demo itself got the signal and drained');
  } finally {
    try {
      process.kill(-(npm.pid as number), 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
});
