/**
 * The engine's snapshot workers (`snapshot-scheduler.ts`) with a fake worker that records what
 * runs when: the bound on the host, one piece of work per shard at a time, a shard's work in
 * the order it was queued, other shards going ahead, and work dropped when its replica stops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClosedError, InvalidOptionError } from '../../src/errors.js';
import { SnapshotScheduler, type SnapshotWorkKind } from '../../src/host/snapshot-scheduler.js';

/** A fake snapshot worker: each piece of work waits until released, and overlaps are recorded. */
class FakeWorker {
  readonly running = new Map<string, { shardId: number; kind: SnapshotWorkKind }>();
  readonly started: string[] = [];
  readonly finished: string[] = [];
  maxRunning = 0;
  /** Pairs of work of one shard seen running together. */
  readonly shardOverlaps: string[] = [];
  private readonly release = new Map<string, (fail?: Error) => void>();

  work(name: string, shardId: number, kind: SnapshotWorkKind): () => Promise<string> {
    return async () => {
      for (const [other, w] of this.running) if (w.shardId === shardId) this.shardOverlaps.push(`${other}+${name}`);
      this.running.set(name, { shardId, kind });
      this.started.push(name);
      this.maxRunning = Math.max(this.maxRunning, this.running.size);
      try {
        await new Promise<void>((res, rej) => this.release.set(name, (fail) => (fail === undefined ? res() : rej(fail))));
      } finally {
        this.running.delete(name);
        this.finished.push(name);
      }
      return name;
    };
  }

  /** Lets `name` finish (with `fail`: rejecting). */
  finish(name: string, fail?: Error): void {
    const r = this.release.get(name);
    assert.ok(r !== undefined, `${name} is running`);
    this.release.delete(name);
    r(fail);
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('at most `limit` pieces of work run at once (default 2); queued work starts as workers free up', async () => {
  const s = new SnapshotScheduler();
  assert.equal(s.limit, 2);
  const w = new FakeWorker();
  const done = [1, 2, 3, 4, 5].map((shard) => s.run(shard, 'save', w.work(`s${shard}`, shard, 'save')));
  await settle();
  assert.deepEqual(w.started, ['s1', 's2']);
  assert.equal(s.running, 2);
  assert.equal(s.queued, 3);
  w.finish('s2');
  await settle();
  assert.deepEqual(w.started, ['s1', 's2', 's3'], 'one freed worker starts exactly one more');
  w.finish('s1');
  w.finish('s3');
  await settle();
  w.finish('s4');
  w.finish('s5');
  assert.deepEqual(await Promise.all(done), ['s1', 's2', 's3', 's4', 's5'], 'each caller gets its own work\'s result');
  assert.equal(w.maxRunning, 2);
  assert.equal(s.running, 0);
  assert.equal(s.queued, 0);
});

test('one piece of work per shard: a save, a recovery and a stream image of one shard never overlap; other shards go ahead', async () => {
  const s = new SnapshotScheduler(3);
  const w = new FakeWorker();
  const a1 = s.run(1, 'save', w.work('a-save', 1, 'save'));
  const a2 = s.run(1, 'recover', w.work('a-recover', 1, 'recover'));
  const a3 = s.run(1, 'stream', w.work('a-stream', 1, 'stream'));
  const b1 = s.run(2, 'recover', w.work('b-recover', 2, 'recover'));
  const c1 = s.run(3, 'stream', w.work('c-stream', 3, 'stream'));
  await settle();
  // Three workers, but shard 1's queued work waits for its save; shards 2 and 3 take the others.
  assert.deepEqual(w.started, ['a-save', 'b-recover', 'c-stream']);
  assert.equal(s.runningFor(1), 'save');
  assert.equal(s.runningFor(2), 'recover');
  assert.equal(s.runningFor(4), null);
  w.finish('b-recover');
  await settle();
  assert.deepEqual(w.started, ['a-save', 'b-recover', 'c-stream'], 'a free worker does not start work of a busy shard');
  w.finish('a-save');
  await settle();
  assert.deepEqual(w.started.slice(3), ['a-recover'], 'the shard\'s next work, in the order it was queued');
  assert.equal(s.runningFor(1), 'recover');
  w.finish('a-recover');
  await settle();
  w.finish('a-stream');
  w.finish('c-stream');
  await Promise.all([a1, a2, a3, b1, c1]);
  assert.deepEqual(w.started, ['a-save', 'b-recover', 'c-stream', 'a-recover', 'a-stream']);
  assert.deepEqual(w.shardOverlaps, [], 'no two pieces of work of one shard ran together');
});

test('many shards, each queueing work back to back, varied durations: the bound and per-shard exclusivity hold throughout', async () => {
  const s = new SnapshotScheduler(3);
  let running = 0;
  let max = 0;
  const perShard = new Map<number, number>();
  const overlaps: number[] = [];
  const order = new Map<number, number[]>();
  const kinds: SnapshotWorkKind[] = ['save', 'recover', 'stream'];
  const all: Array<Promise<void>> = [];
  for (let i = 0; i < 60; i++) {
    // Shards 1,1,2,2,3,3,4,4,1,1,…: every other piece of work finds its shard busy.
    const shard = 1 + (Math.floor(i / 2) % 4);
    all.push(s.run(shard, kinds[i % 3] as SnapshotWorkKind, async () => {
      running++;
      max = Math.max(max, running);
      perShard.set(shard, (perShard.get(shard) ?? 0) + 1);
      if ((perShard.get(shard) ?? 0) > 1) overlaps.push(shard);
      order.set(shard, [...(order.get(shard) ?? []), i]);
      await new Promise((r) => setTimeout(r, (i * 7) % 5));
      perShard.set(shard, (perShard.get(shard) ?? 0) - 1);
      running--;
    }));
  }
  await Promise.all(all);
  assert.equal(max, 3, 'every worker was used, never more');
  assert.deepEqual(overlaps, []);
  for (const [, seq] of order) assert.deepEqual(seq, [...seq].sort((x, y) => x - y), 'a shard\'s work starts in the order it was queued');
});

test('failing work rejects its caller and frees its worker and its shard', async () => {
  const s = new SnapshotScheduler(1);
  const w = new FakeWorker();
  const first = s.run(1, 'save', w.work('bad', 1, 'save'));
  const thrown = s.run(2, 'save', () => { throw new Error('sync throw'); });
  const next = s.run(1, 'recover', w.work('next', 1, 'recover'));
  await settle();
  w.finish('bad', new Error('disk full'));
  await assert.rejects(first, /disk full/);
  await assert.rejects(thrown, /sync throw/);
  await settle();
  assert.deepEqual(w.started, ['bad', 'next']);
  w.finish('next');
  assert.equal(await next, 'next');
});

test('work not started when its replica stops (its signal aborts) leaves the queue with ClosedError, unrun; started work is not cut short', async () => {
  const s = new SnapshotScheduler(1);
  const w = new FakeWorker();
  const stopA = new AbortController();
  const running = s.run(1, 'save', w.work('a-save', 1, 'save'), stopA.signal);
  const queuedA = s.run(1, 'recover', w.work('a-recover', 1, 'recover'), stopA.signal);
  const queuedB = s.run(2, 'save', w.work('b-save', 2, 'save'));
  await settle();
  stopA.abort();
  await assert.rejects(queuedA, ClosedError);
  assert.equal(s.queued, 1);
  await assert.rejects(s.run(1, 'save', w.work('late', 1, 'save'), stopA.signal), ClosedError, 'an aborted signal refuses at once');
  w.finish('a-save');
  assert.equal(await running, 'a-save');
  await settle();
  w.finish('b-save');
  assert.equal(await queuedB, 'b-save');
  assert.deepEqual(w.started, ['a-save', 'b-save'], 'the dropped work never ran');
});

test('the worker count must be a positive integer (InvalidOptionError)', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new SnapshotScheduler(bad), InvalidOptionError);
});
