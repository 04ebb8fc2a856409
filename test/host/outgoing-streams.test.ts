/**
 * A replica's outgoing snapshot streams (`outgoing-streams.ts`): one per follower, the snapshot
 * held while it streams and released once, a private image removed when its stream ends, and
 * nothing released that was never held.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutgoingStreams } from '../../src/host/outgoing-streams.js';
import type { Snapshotter } from '../../src/snapshot/snapshotter.js';
import { CapturingLogger, until } from './support/snapshot-sm.js';

/** The part of a snapshotter streams use, counting holds. */
class FakeFiles {
  readonly holds = new Map<number, number>();
  failRelease = false;
  acquire(index: number): void { this.holds.set(index, (this.holds.get(index) ?? 0) + 1); }
  async release(index: number): Promise<void> {
    if (this.failRelease) throw new Error('disk gone');
    const n = this.holds.get(index);
    if (n === undefined) throw new Error(`snapshot ${index} is not acquired`);
    if (n > 1) this.holds.set(index, n - 1);
    else this.holds.delete(index);
  }
}

test('one stream per follower; the snapshot is held while it streams and released once when it ends', () => {
  const files = new FakeFiles();
  const s = new OutgoingStreams(() => files as unknown as Snapshotter, new CapturingLogger());
  assert.equal(s.start(2, 50, true), true);
  assert.equal(s.start(2, 50, true), false, 'a stream to follower 2 is under way');
  assert.equal(s.start(3, 50, true), true);
  assert.equal(files.holds.get(50), 2);
  s.done(2);
  s.done(2);
  assert.equal(files.holds.get(50), 1, 'released once, however often told');
  s.done(3);
  assert.equal(files.holds.has(50), false);
  assert.equal(s.size, 0);
});

test('without a snapshotter nothing starts', () => {
  const s = new OutgoingStreams(() => null, new CapturingLogger());
  assert.equal(s.start(2, 50, true), false);
  assert.equal(s.size, 0);
});

test('an image stream holds nothing: its image is removed at the end, and no snapshot is released (the image failed or not)', async () => {
  const files = new FakeFiles();
  const logger = new CapturingLogger();
  const s = new OutgoingStreams(() => files as unknown as Snapshotter, logger);
  const dir = mkdtempSync(join(tmpdir(), 'sampan-streams-'));
  try {
    const image = join(dir, 'image');
    mkdirSync(image);
    assert.equal(s.start(2, 60, false), true);
    assert.equal(s.setImage(2, image), true);
    s.done(2);
    await until(() => !existsSync(image), 2000, 'the image removed');
    // An image that was never written (its write failed): nothing to release, nothing thrown.
    assert.equal(s.start(3, 60, false), true);
    s.done(3);
    // The stream ended before its image was ready: the image is removed at once.
    const late = join(dir, 'late');
    mkdirSync(late);
    assert.equal(s.setImage(4, late), false);
    await until(() => !existsSync(late), 2000, 'the late image removed');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(logger.lines.filter((l) => l.level === 'warn'), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed release is logged, never thrown at the caller', async () => {
  const files = new FakeFiles();
  const logger = new CapturingLogger();
  const s = new OutgoingStreams(() => files as unknown as Snapshotter, logger);
  s.start(2, 70, true);
  files.failRelease = true;
  s.done(2);
  await until(() => logger.lines.some((l) => l.level === 'warn' && /releasing a streamed snapshot failed/.test(l.msg)), 2000, 'the warning');
});
