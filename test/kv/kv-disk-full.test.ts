/**
 * A real full disk under a real `sampan kv` process (issue 18 §3): its data directory on a
 * 4 MiB tmpfs, writes until the WAL's append meets ENOSPC. The process exits with status 1
 * and one line on stderr (the call, ENOSPC, the segment, "host stopped: restart on a healthy
 * disk"); the data directory, copied to a healthy disk, restarts and serves every write that
 * was acknowledged. Needs root (it mounts the tmpfs); skipped otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from './support/cluster.js';
import { http, killAll } from './support/procs.js';

/** Mounts a tmpfs of `size` at `dir`; false where that is not allowed. */
function mountTmpfs(dir: string, size: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('sampan kv on a full disk: exit status 1 with one line on stderr; a restart on a healthy disk serves every acknowledged write', { timeout: 60000 }, async (t) => {
  const c = new Cluster(['--snapshot-entries', '0']);
  await c.allocate([1]);
  const full = c.node(1).dataDir;
  if (!mountTmpfs(full, '4m')) {
    t.skip('needs root on Linux to mount a tmpfs');
    return;
  }
  let mounted = true;
  try {
    const child = c.start(1, ['--initial-members', c.members([1])]);
    await c.ready(1);
    const value = 'v'.repeat(32 * 1024);
    const acked: string[] = [];
    for (let k = 0; k < 1000; k++) {
      const r = await http('PUT', `${c.node(1).url}/kv/key-${k}`, `${k}:${value}`).catch(() => null);
      if (r === null || r.status !== 200) break;
      acked.push(`key-${k}`);
    }
    assert.ok(acked.length > 10, `some writes fit before the disk filled (${acked.length})`);
    assert.equal(await child.exited, 1, `exit status 1; stderr: ${child.err}`);
    const lines = child.err.split('\n').filter((l) => l.includes('storage failure'));
    assert.equal(lines.length, 1, `one storage failure line on stderr: ${child.err}`);
    assert.match(lines[0] as string, /WAL write failed with ENOSPC on \S+\.wal; host stopped: restart on a healthy disk/);

    // The same data on a healthy disk.
    const healthy = join(c.root, 'healthy');
    cpSync(full, healthy, { recursive: true });
    execFileSync('umount', [full]);
    mounted = false;
    c.nodes.set(1, { ...c.node(1), dataDir: healthy, child: null });
    c.start(1);
    await c.ready(1);
    for (const key of acked) {
      const r = await http('GET', `${c.node(1).url}/kv/${key}`);
      assert.equal(r.status, 200, `${key}: ${r.text.slice(0, 200)}`);
      assert.equal(r.text, `${key.slice(4)}:${value}`);
    }
  } finally {
    await killAll();
    if (mounted) execFileSync('umount', [full]);
  }
});
