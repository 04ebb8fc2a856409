/**
 * The README's main job: `sampan demo` with a temporary data dir; talk to it, stop it with
 * SIGTERM (a clean exit), start it again on the same data dir and find the data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canBind, http, killAll, run, until } from './support/procs.js';

/** A base port B with B..B+2 and B+10..B+12 free (random bases, a few tries). */
async function portBase(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    if (await canBind([base, base + 1, base + 2, base + 10, base + 11, base + 12])) return base;
  }
  throw new Error('no free ports');
}

test('sampan demo: three replicas in one process, SIGTERM exits cleanly, data survives', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-demo-'));
  const httpPort = await portBase();
  const raftPort = httpPort + 10;
  const args = ['demo', '--data-dir', dir, '--http-port', String(httpPort), '--raft-port', String(raftPort)];
  try {
    const demo = run(args);
    await until('the demo prints its URLs', 20000, () => (demo.out.includes('Ctrl-C') ? true : undefined));
    assert.match(demo.out, new RegExp(`http://127\\.0\\.0\\.1:${httpPort}`));
    assert.match(demo.out, /curl -X PUT/);
    const put = await http('PUT', `http://127.0.0.1:${httpPort}/kv/hello`, 'world');
    assert.equal(put.status, 200, put.text);
    assert.equal((await http('GET', `http://127.0.0.1:${httpPort + 2}/kv/hello`)).text, 'world');
    demo.proc.kill('SIGTERM');
    assert.equal(await demo.exited, 0, demo.err);
    assert.equal(demo.err, '');

    const again = run(args);
    await until('the demo restarts', 20000, () => (again.out.includes('Ctrl-C') ? true : undefined));
    assert.equal((await http('GET', `http://127.0.0.1:${httpPort + 1}/kv/hello`)).text, 'world');
    again.proc.kill('SIGINT');
    assert.equal(await again.exited, 0, again.err);
  } finally {
    await killAll();
  }
});
