import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deadlines, type Expirable } from '../../src/host/deadlines.js';
import { fakeTimersRuntime } from '../support/fake-timers-runtime.js';

test('Deadlines: expire no earlier than asked, in order, once; a removed one never fires; the timer stops when none is left', async () => {
  const d = new Deadlines(5);
  const fired: Array<{ name: string; after: number }> = [];
  const t0 = performance.now();
  const item = (name: string): Expirable => ({ expire: () => fired.push({ name, after: performance.now() - t0 }), deadlinePrev: null, deadlineNext: null });
  const a = item('a');
  const b = item('b');
  const c = item('c');
  const zero = item('zero');
  d.add(a, 40);
  const tb = d.add(b, 20);
  d.add(c, 60);
  d.add(zero, 0);
  assert.equal(d.pending, 4);
  d.remove(b, tb);
  d.remove(b, tb);
  assert.equal(d.pending, 3, 'removing twice counts once');
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(fired.map((f) => f.name), ['zero', 'a', 'c']);
  assert.ok((fired[1]?.after ?? 0) >= 40 && (fired[2]?.after ?? 0) >= 60, `fired late enough: ${JSON.stringify(fired)}`);
  assert.equal(d.pending, 0);
  // Nothing pending: no interval is left holding the process (the test runner would hang).
  assert.equal((d as unknown as { timer: unknown }).timer, null);
});

test('Deadlines: requests of one tick leave it from the front, the middle and the back; the rest expire in order, each once and counted once, even one removed during another\'s expiry', () => {
  const { runtime, time } = fakeTimersRuntime();
  const d = new Deadlines(10, runtime);
  const fired: string[] = [];
  const items = new Map<string, { x: Expirable; tick: number }>();
  const add = (name: string, onExpire?: () => void): void => {
    const x: Expirable = { expire: () => { fired.push(name); onExpire?.(); }, deadlinePrev: null, deadlineNext: null };
    items.set(name, { x, tick: d.add(x, 50) });
  };
  const remove = (name: string): void => { const it = items.get(name)!; d.remove(it.x, it.tick); };
  for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) add(n, n === 'b' ? () => remove('e') : undefined);
  assert.equal(new Set([...items.values()].map((i) => i.tick)).size, 1, 'one tick for all six');
  remove('a'); // the front
  remove('d'); // the middle
  remove('f'); // the back
  remove('f'); // again: nothing
  assert.equal(d.pending, 3);
  time.advance(100);
  // The tick's list is taken whole when it comes: b's expiry removing 'e' finds no list, and
  // 'e' gets its one call (a Pending already settled ignores it) and is counted once.
  assert.deepEqual(fired, ['b', 'c', 'e']);
  assert.equal(d.pending, 0);
  // A new deadline after all that starts a fresh list.
  add('g');
  remove('g');
  assert.equal(d.pending, 0);
  time.advance(100);
  assert.deepEqual(fired, ['b', 'c', 'e']);
});
