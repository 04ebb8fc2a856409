/**
 * The leader placement decision (leader-placement.ts), pure: given what a host sees of the
 * shards it hosts, which one shard (if any) goes to which replica — priority first, then
 * balance towards ⌈shards / hosts⌉ leaders per host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decidePlacement, leadersPerHost, type PlacementShard } from '../../src/host/leader-placement.js';

const ADDR = (h: number): string => `10.0.0.${h}:1`;
/** Replica i on host i, for hosts 1..n. */
const voters = (n: number): Map<number, string> => new Map(Array.from({ length: n }, (_, i) => [i + 1, ADDR(i + 1)] as const));

/** What host `me` sees of shard `id` led by `leader` (ready: the voters the leader may hand to). */
function shard(id: number, me: number, leader: number, o: Partial<PlacementShard> = {}): PlacementShard {
  const v = voters(3);
  return {
    shardId: id, replicaId: me, leaderId: leader, voters: v, priorities: new Map(),
    ready: leader === me ? new Set([...v.keys()].filter((x) => x !== me)) : new Set(), busy: false, ...o,
  };
}

/** Host `me` seeing 8 shards with the given leaders (by host). */
function view(me: number, leaders: readonly number[], o: Partial<PlacementShard> = {}): PlacementShard[] {
  return leaders.map((l, i) => shard(i + 1, me, l, o));
}

test('a host leading all 8 shards of 3 hosts moves one to the host leading fewest', () => {
  const m = decidePlacement(view(1, [1, 1, 1, 1, 1, 1, 1, 1]), { balance: true });
  assert.deepEqual(m, { shardId: 1, target: 2, reason: 'balance', leading: 8, targetLeading: 0, ceiling: 3 });
  const m2 = decidePlacement(view(1, [2, 1, 1, 1, 1, 1, 1, 1]), { balance: true });
  assert.equal(m2?.target, 3, 'host 3 leads fewer than host 2');
  assert.equal(m2?.shardId, 2, 'a shard this host leads');
});

test('nothing moves at 3/3/2, nor from a host that leads nothing; a move needs a host leading two fewer', () => {
  assert.equal(decidePlacement(view(1, [1, 1, 1, 2, 2, 2, 3, 3]), { balance: true }), null);
  assert.equal(decidePlacement(view(3, [1, 1, 1, 2, 2, 2, 3, 3]), { balance: true }), null);
  assert.equal(decidePlacement(view(2, [1, 1, 1, 1, 1, 1, 1, 1]), { balance: true }), null);
  // 4/3/1: host 1 is over 3, and host 3 (1) can take one; host 2 (3) cannot.
  const m = decidePlacement(view(1, [1, 1, 1, 1, 2, 2, 2, 3]), { balance: true });
  assert.equal(m?.target, 3);
  // 4/3/1 with host 3 not ready anywhere: host 2 is at the ceiling, so nothing.
  const notReady = view(1, [1, 1, 1, 1, 2, 2, 2, 3]).map((s) => ({ ...s, ready: new Set([...s.ready].filter((x) => x !== 3)) }));
  assert.equal(decidePlacement(notReady, { balance: true }), null);
});

test('4 shards on 3 hosts: 2/2/0 hands one to the idle host; 2/1/1 is as even as it gets', () => {
  const m = decidePlacement(view(1, [1, 1, 2, 2]), { balance: true });
  assert.deepEqual(m, { shardId: 1, target: 3, reason: 'balance', leading: 2, targetLeading: 0, ceiling: 2 });
  assert.equal(decidePlacement(view(1, [1, 1, 2, 3]), { balance: true }), null);
  assert.equal(decidePlacement(view(2, [1, 2, 3, 3]), { balance: true }), null);
});

test('balance is off with { balance: false }; busy shards and shards not ready are skipped', () => {
  assert.equal(decidePlacement(view(1, [1, 1, 1, 1, 1, 1, 1, 1]), { balance: false }), null);
  const v = view(1, [1, 1, 1, 1, 1, 1, 1, 1]);
  v[0] = { ...v[0]!, busy: true };
  v[1] = { ...v[1]!, ready: new Set() };
  assert.equal(decidePlacement(v, { balance: true })?.shardId, 3);
});

test('counts are per host address: two replicas of one host count together; unknown leaders do not count', () => {
  const shards = view(1, [1, 2, 0, 3, 3, 1, 1, 1]);
  const c = leadersPerHost(shards);
  assert.deepEqual([...c.entries()].sort(), [[ADDR(1), 4], [ADDR(2), 1], [ADDR(3), 2]]);
});

test('priority first: a ready voter of higher priority gets leadership back, whatever the balance', () => {
  const pr = new Map([[1, 1], [2, 5], [3, 1]]);
  const m = decidePlacement(view(1, [1, 2, 2, 2, 3, 3, 3, 3], { priorities: pr }), { balance: true });
  assert.deepEqual(m, { shardId: 1, target: 2, reason: 'priority', leading: 1, targetLeading: 3, ceiling: 3 });
  // The highest wins among several higher ones.
  const pr2 = new Map([[1, 1], [2, 2], [3, 3]]);
  assert.equal(decidePlacement(view(1, [1, 2, 2, 2, 3, 3, 3, 3], { priorities: pr2 }), { balance: true })?.target, 3);
  // Not ready (behind or silent): it waits.
  const s = view(1, [1, 2, 2, 2, 3, 3, 3, 3], { priorities: pr });
  s[0] = { ...s[0]!, ready: new Set([3]) };
  assert.equal(decidePlacement(s, { balance: true }), null);
  // Priority applies with balancing off.
  assert.equal(decidePlacement(view(1, [1, 2, 2, 2, 3, 3, 3, 3], { priorities: pr }), { balance: false })?.reason, 'priority');
});

test('balance moves only between equal priorities, and priority-0 hosts do not count as hosts', () => {
  // Host 3 has priority 0 in every shard: 8 shards over 2 hosts, ceiling 4.
  const pr = new Map([[3, 0]]);
  const m = decidePlacement(view(1, [1, 1, 1, 1, 1, 1, 1, 1], { priorities: pr }), { balance: true });
  assert.deepEqual(m, { shardId: 1, target: 2, reason: 'balance', leading: 8, targetLeading: 0, ceiling: 4 });
  assert.equal(decidePlacement(view(1, [1, 1, 1, 1, 2, 2, 2, 2], { priorities: pr }), { balance: true }), null);
  // A leader of priority 2 keeps its shards rather than hand them to priority-1 replicas.
  const high = new Map([[1, 2]]);
  assert.equal(decidePlacement(view(1, [1, 1, 1, 1, 1, 1, 1, 1], { priorities: high }), { balance: true }), null);
});

test('a lone host, or no shards: nothing to do', () => {
  assert.equal(decidePlacement([], { balance: true }), null);
  const alone: PlacementShard = { shardId: 1, replicaId: 1, leaderId: 1, voters: new Map([[1, ADDR(1)]]), priorities: new Map(), ready: new Set(), busy: false };
  assert.equal(decidePlacement([alone], { balance: true }), null);
});
