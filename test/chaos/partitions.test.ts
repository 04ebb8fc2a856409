/**
 * The shapes of the nemesis's partitions: a majority and a minority with every link between
 * them cut both ways; the leader isolated; a bridge (two halves cut apart, one replica in
 * touch with both); one-way cuts around one replica; and the loopback address each replica
 * dials from (what the proxies tell replicas apart by).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutsBetween, dialHostOf, type Cut } from '../../tools/chaos/network.js';
import { bridge, halves, isolate, oneWay } from '../../tools/chaos/partitions.js';
import { Rng } from '../../tools/chaos/rng.js';

const key = (c: Cut): string => `${c.from}>${c.to}`;
const sorted = (cuts: readonly Cut[]): string[] => cuts.map(key).sort();

test('halves: a strict majority and a non-empty minority, every link between them cut both ways, none inside', () => {
  for (const n of [3, 4, 5, 7]) {
    const members = Array.from({ length: n }, (_, i) => i + 1);
    for (let seed = 0; seed < 50; seed++) {
      const p = halves(members, new Rng(seed));
      const minority = members.filter((m) => !p.majority.includes(m));
      assert.ok(p.majority.length > n / 2 && minority.length >= 1, `${n}: ${p.description}`);
      assert.deepEqual(sorted(p.cuts), sorted(cutsBetween(p.majority, minority)));
      assert.equal(p.cuts.length, 2 * p.majority.length * minority.length);
    }
  }
});

test('isolate and one-way cut the links around one replica only', () => {
  const members = [1, 2, 3, 4, 5];
  assert.deepEqual(sorted(isolate(members, 3).cuts), ['1>3', '2>3', '3>1', '3>2', '3>4', '3>5', '4>3', '5>3']);
  assert.deepEqual(isolate(members, 3).majority, [1, 2, 4, 5]);
  assert.deepEqual(sorted(oneWay(members, 2, 'in').cuts), ['1>2', '3>2', '4>2', '5>2']);
  assert.deepEqual(sorted(oneWay(members, 2, 'out').cuts), ['2>1', '2>3', '2>4', '2>5']);
});

test('bridge: the halves cannot reach each other, the bridge reaches everyone', () => {
  for (const members of [[1, 2, 3], [4, 5, 6, 7, 8]]) {
    for (let seed = 0; seed < 20; seed++) {
      const p = bridge(members, new Rng(seed));
      const touched = new Set(p.cuts.flatMap((c) => [c.from, c.to]));
      const bridges = members.filter((m) => !touched.has(m));
      assert.equal(bridges.length, 1, p.description);
      assert.equal(p.cuts.length, members.length === 3 ? 2 : 8, p.description);
      for (const c of p.cuts) assert.ok(p.cuts.some((d) => d.from === c.to && d.to === c.from), 'cut both ways');
    }
  }
});

test('every replica dials from its own loopback address', () => {
  assert.equal(dialHostOf(1), '127.0.0.11');
  assert.equal(dialHostOf(245), '127.0.0.255');
  assert.equal(dialHostOf(246), '127.0.1.0');
  assert.equal(new Set(Array.from({ length: 1000 }, (_, i) => dialHostOf(i + 1))).size, 1000);
  assert.throws(() => dialHostOf(0));
});
