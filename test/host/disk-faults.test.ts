/**
 * Disk faults a live host must survive (issue 18 §3), on real files through a fault-injecting
 * file system: EIO on the WAL's fdatasync and ENOSPC on its appends stop the host (one line, a
 * typed event, every pending and later call fails with StorageError, nothing more is
 * acknowledged) and a restart on the healthy disk holds every acknowledged write; ENOSPC on a
 * snapshot save stops that replica only; a byte flipped on read in the WAL is refused at
 * recovery with CorruptionError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorruptionError, StorageError } from '../../src/errors.js';
import type { NodeHost } from '../../src/host/nodehost.js';
import type { NodeHostEvents } from '../../src/host/events.js';
import type { Logger } from '../../src/logger.js';
import { FaultFileSystem, type FailRule } from '../../src/runtime/fault-fs.js';
import { realFileSystem, realRuntime } from '../../src/runtime/real-runtime.js';
import { HostCluster, closeWithin } from './support/cluster.js';
import { setCmd } from './support/kv.js';

/** A logger keeping its error lines. */
function errorLines(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const noop = (): void => {};
  return { lines, debug: noop, info: noop, warn: noop, error: (msg) => { lines.push(msg); } };
}

const isWal = (p: string): boolean => p.endsWith('.wal');

/**
 * Proposes from `workers` concurrent writers on a one-replica shard until every writer has
 * failed; `arm` is called once `armAfter` writes were acknowledged. Returns the acknowledged keys
 * and the errors the writers stopped on.
 */
async function loadUntilFailure(nh: NodeHost, armAfter: number, arm: () => void): Promise<{ acked: string[]; errors: unknown[] }> {
  const acked: string[] = [];
  const errors: unknown[] = [];
  let armed = false;
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let k = 0; ; k++) {
      const key = `w${w}k${k}`;
      try {
        await nh.propose(1, setCmd(key, `v${k}`), { timeoutMs: 5000 });
      } catch (e) {
        errors.push(e);
        return;
      }
      acked.push(key);
      if (!armed && acked.length >= armAfter) { armed = true; arm(); }
    }
  }));
  return { acked, errors };
}

/** Host 1 of `c`, a one-replica shard 1 on it, on the fault file system `f`. */
async function startOne(c: HostCluster, f: FaultFileSystem, logger: Logger): Promise<NodeHost> {
  const nh = await c.start(1, { runtime: { ...realRuntime, fs: f }, logger });
  await c.startShard(1, [1]);
  await c.waitLeader(1, [1]);
  return nh;
}

/** Restarts host 1 on the healthy disk and checks that every key of `acked` is there. */
async function restartAndCheck(c: HostCluster, acked: readonly string[]): Promise<void> {
  await c.start(1);
  await c.startShard(1, [1], { members: [] });
  await c.waitLeader(1, [1]);
  await c.get(1).readIndex(1);
  const sm = c.sm(1, 1);
  const missing = acked.filter((k) => sm.map.get(k) === undefined);
  assert.deepEqual(missing, [], 'every acknowledged write survives the restart');
  await c.get(1).propose(1, setCmd('after', 'restart'));
}

for (const [name, rule] of [
  ['EIO on the WAL fdatasync', { ops: ['fdatasync'], path: isWal, errno: 'EIO' }],
  ['ENOSPC on a WAL append', { ops: ['write'], path: isWal, errno: 'ENOSPC' }],
] as const satisfies readonly (readonly [string, FailRule])[]) {
  test(`${name} under load: the host fail-stops with one line and a typed event; a restart on a healthy disk holds every acknowledged write`, { timeout: 30000 }, async () => {
    const c = new HostCluster();
    const f = new FaultFileSystem(realFileSystem);
    const log = errorLines();
    try {
      const nh = await startOne(c, f, log);
      const storageFailed: NodeHostEvents['host:storage-failed'][] = [];
      const failed: NodeHostEvents['host:failed'][] = [];
      nh.on('host:storage-failed', (p) => storageFailed.push(p));
      nh.on('host:failed', (p) => failed.push(p));
      const { acked, errors } = await loadUntilFailure(nh, 40, () => { f.fail(rule); });
      assert.ok(acked.length >= 40);

      // Every writer stopped on the StorageError: pending ones at the failure, later ones at once.
      for (const e of errors) assert.ok(e instanceof StorageError, `expected StorageError, got ${String(e)}`);
      const err = errors[0] as StorageError;
      assert.equal(err.errno, rule.errno);
      assert.ok(err.path !== undefined && isWal(err.path), `the path names the segment: ${err.path}`);
      await assert.rejects(nh.propose(1, setCmd('late', 'x')), StorageError);
      await assert.rejects(nh.readIndex(1), StorageError);

      // One event of each kind, one line naming the call, the errno, the file and what to do.
      assert.equal(storageFailed.length, 1);
      assert.equal(storageFailed[0]?.errno, rule.errno);
      assert.equal(storageFailed[0]?.path, err.path);
      assert.equal(failed.length, 1);
      assert.equal(log.lines.length, 1, `one error line, got: ${log.lines.join(' | ')}`);
      const line = log.lines[0] as string;
      assert.match(line, new RegExp(`${rule.errno}.*${path.basename(err.path)}.*host stopped: restart on a healthy disk`));
      const info = nh.getNodeHostInfo().failure;
      assert.deepEqual(info, { code: 'STORAGE', message: line, path: err.path, errno: rule.errno });
      assert.deepEqual(nh.getStats().failure, info);

      // The host closed itself; restart the same directory on the healthy disk.
      assert.ok(await closeWithin(nh));
      c.hosts.delete(1);
      f.disarmAll();
      await restartAndCheck(c, acked);
    } finally {
      await c.closeAll();
    }
  });
}

test('ENOSPC on a snapshot save stops that replica only: the other shard goes on, a restart recovers', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  const f = new FaultFileSystem(realFileSystem);
  const log = errorLines();
  try {
    const nh = await c.start(1, { runtime: { ...realRuntime, fs: f }, logger: log });
    await c.startShard(1, [1]);
    await c.startShard(2, [1]);
    await c.waitLeader(1, [1]);
    await c.waitLeader(2, [1]);
    for (let k = 0; k < 20; k++) await nh.propose(1, setCmd(`a${k}`, String(k)));
    const events: NodeHostEvents['replica:storage-failed'][] = [];
    nh.on('replica:storage-failed', (p) => events.push(p));
    const inShard1 = (p: string): boolean => p.includes(`${path.sep}shard-1-replica-1`);
    f.fail({ ops: ['write', 'writeFile', 'open', 'mkdir', 'fsync', 'fdatasync'], path: inShard1, errno: 'ENOSPC' });

    await assert.rejects(nh.requestSnapshot(1), (e: unknown) => e instanceof StorageError && e.errno === 'ENOSPC');
    assert.equal(events.length, 1);
    assert.deepEqual([events[0]?.shardId, events[0]?.replicaId, events[0]?.errno], [1, 1, 'ENOSPC']);
    assert.ok(events[0]?.path !== null && inShard1(events[0]?.path ?? ''), `the path is in shard 1's snapshots: ${events[0]?.path}`);
    assert.equal(log.lines.length, 1, `one error line, got: ${log.lines.join(' | ')}`);
    assert.match(log.lines[0] as string, /ENOSPC.*replica 1 of shard 1 stopped/);

    // The failed replica refuses work with the StorageError; the other shard and the host go on.
    await assert.rejects(nh.propose(1, setCmd('x', 'y')), StorageError);
    await nh.propose(2, setCmd('b', 'still'));
    assert.equal(await nh.read(2, 'b'), 'still');
    const info = nh.getNodeHostInfo();
    assert.equal(info.failure, null);
    assert.match(info.shards.find((s) => s.shardId === 1)?.failure ?? '', /ENOSPC/);
    assert.equal(info.shards.find((s) => s.shardId === 2)?.failure, null);

    // Restart on the healthy disk: everything acknowledged is there, and a snapshot now works.
    await c.crash(1);
    f.disarmAll();
    await c.start(1);
    await c.startShard(1, [1], { members: [] });
    await c.startShard(2, [1], { members: [] });
    await c.waitLeader(1, [1]);
    await c.get(1).readIndex(1);
    for (let k = 0; k < 20; k++) assert.equal(c.sm(1, 1).map.get(`a${k}`), String(k));
    assert.ok(await c.get(1).requestSnapshot(1) >= 20);
  } finally {
    await c.closeAll();
  }
});

test('a byte flipped on read in a WAL record: the restart is refused with CorruptionError naming the segment and offset', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    await c.startShard(1, [1]);
    await c.waitLeader(1, [1]);
    for (let k = 0; k < 30; k++) await nh.propose(1, setCmd(`a${k}`, 'x'.repeat(100)));
    await c.crash(1);
    const walDir = c.hostDir(1);
    const segs = fs.readdirSync(walDir, { recursive: true }).map(String).filter(isWal).map((p) => path.join(walDir, p)).sort();
    const seg = segs[segs.length - 1] as string;
    // A byte in the middle of the segment, with intact frames after it (not a torn tail).
    const at = Math.floor(fs.statSync(seg).size / 2);
    const f = new FaultFileSystem(realFileSystem);
    f.flip({ path: (p) => p === seg, offset: at });
    const err = await c.start(1, { runtime: { ...realRuntime, fs: f } }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof CorruptionError, `expected CorruptionError, got ${String(err)}`);
    assert.equal(err.file, seg);
    assert.ok(err.offset !== undefined && err.offset <= at);
    assert.match(err.message, new RegExp(path.basename(seg)));
    // The file itself is intact: without the flip the host starts and holds every write.
    await restartAndCheck(c, Array.from({ length: 30 }, (_, k) => `a${k}`));
  } finally {
    await c.closeAll();
  }
});

test('a byte flipped on read in a snapshot data file: the replica\'s restart is refused with CorruptionError, the file is intact', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    await c.startShard(1, [1]);
    await c.waitLeader(1, [1]);
    for (let k = 0; k < 20; k++) await nh.propose(1, setCmd(`a${k}`, 'x'.repeat(100)));
    const index = await nh.requestSnapshot(1);
    await c.crash(1);
    const f = new FaultFileSystem(realFileSystem);
    const flip = f.flip({ path: (p) => p.endsWith('.data') && p.includes(`${path.sep}shard-1-replica-1${path.sep}`), offset: (_p, size) => Math.floor(size / 2) });
    await c.start(1, { runtime: { ...realRuntime, fs: f } });
    const err = await c.startShard(1, [1], { members: [] }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof CorruptionError, `expected CorruptionError, got ${String(err)}`);
    assert.ok(flip.hits > 0);
    assert.match(err.message, new RegExp(`snapshot|${index}`));
    await c.crash(1);
    await restartAndCheck(c, Array.from({ length: 20 }, (_, k) => `a${k}`));
  } finally {
    await c.closeAll();
  }
});
