import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deadlines } from '../../src/host/deadlines.js';

test('Deadlines: expire no earlier than asked, in order, once; a removed one never fires; the timer stops when none is left', async () => {
  const d = new Deadlines(5);
  const fired: Array<{ name: string; after: number }> = [];
  const t0 = performance.now();
  const item = (name: string): { expire(): void } => ({ expire: () => fired.push({ name, after: performance.now() - t0 }) });
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
