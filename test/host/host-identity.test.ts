/**
 * The identity file of a host directory (NODEHOST.json): a host id made at first start and
 * kept; a file written by a previous release (no host id) upgraded on the next start; a new
 * raft address accepted (one log line, incarnation raised); another deployment refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError } from '../../src/errors.js';
import { lockHostDir } from '../../src/host/dir-lock.js';
import type { Logger } from '../../src/logger.js';
import { tempDirFor } from '../support/temp.js';

function recordingLogger(lines: string[]): Logger {
  const push = (msg: string): void => { lines.push(msg); };
  return { debug: push, info: push, warn: push, error: push } as unknown as Logger;
}

const stored = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, 'NODEHOST.json'), 'utf8')) as Record<string, unknown>;

test('a host id is made at first start, kept across restarts, and survives a new raft address', () => {
  const dir = join(tempDirFor('host', 'id'), 'h');
  const first = lockHostDir(dir, { raftAddress: '127.0.0.1:1', deploymentId: 3 });
  const id = first.identity!.hostId;
  assert.match(id, /^[0-9a-f]{16}$/);
  assert.equal(first.identity!.incarnation, 0);
  first.release();
  assert.equal(stored(dir).hostId, id);

  const again = lockHostDir(dir, { raftAddress: '127.0.0.1:1', deploymentId: 3 });
  assert.deepEqual(again.identity, { raftAddress: '127.0.0.1:1', deploymentId: 3, hostId: id, incarnation: 0 });
  again.release();

  const lines: string[] = [];
  const moved = lockHostDir(dir, { raftAddress: '127.0.0.1:2', deploymentId: 3 }, recordingLogger(lines));
  assert.deepEqual(moved.identity, { raftAddress: '127.0.0.1:2', deploymentId: 3, hostId: id, incarnation: 1, movedFrom: '127.0.0.1:1' });
  moved.release();
  assert.deepEqual(lines, ['raft address changed from 127.0.0.1:1 to 127.0.0.1:2']);
  assert.deepEqual(stored(dir), { raftAddress: '127.0.0.1:2', deploymentId: 3, hostId: id, incarnation: 1 });

  assert.throws(() => lockHostDir(dir, { raftAddress: '127.0.0.1:2', deploymentId: 4 }),
    (e: unknown) => e instanceof InvalidOptionError && /belongs to deployment 3, not 4/.test(e.message));
});

test('a directory written by a previous release (no host id) gets one at its next start', () => {
  const dir = tempDirFor('host', 'id-old');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'NODEHOST.json'), JSON.stringify({ raftAddress: '127.0.0.1:1', deploymentId: 0 }));
  writeFileSync(join(dir, 'wal-marker'), '');
  const lock = lockHostDir(dir, { raftAddress: '127.0.0.1:1', deploymentId: 0 });
  assert.equal(lock.fresh, false);
  const id = lock.identity!.hostId;
  lock.release();
  assert.match(id, /^[0-9a-f]{16}$/);
  assert.deepEqual(stored(dir), { raftAddress: '127.0.0.1:1', deploymentId: 0, hostId: id, incarnation: 0 });
  const again = lockHostDir(dir, { raftAddress: '127.0.0.1:1', deploymentId: 0 });
  assert.equal(again.identity!.hostId, id);
  again.release();
});
