/**
 * Lease-based reads (`readMode: 'lease'`) on three NodeHosts: reads work on every host; an
 * isolated leader keeps answering reads only by its lease (a ReadIndex round cannot complete
 * while it is cut off), never with a value older than a write the majority acknowledged
 * before the read began; the host's tick clock keeps a lease-mode leader's ticks up with real
 * time after a stall.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { rejectsWith, retryDropped } from './support/assert.js';
import { setCmd } from './support/kv.js';
import { InvalidOptionError } from '../../src/errors.js';
import { TickClock } from '../../src/host/tick-clock.js';

test('lease reads on three hosts: every host reads its writes; an isolated old leader serves only within its lease, never stale', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i, { rttMillisecond: 50 });
    await c.startShard(1, [1, 2, 3], { config: { readMode: 'lease' } });
    const old = await c.waitLeader(1, [1, 2, 3]);
    for (const i of [1, 2, 3]) {
      await retryDropped(() => c.get(i).propose(1, setCmd('k', `v${i}`)));
      for (const j of [1, 2, 3]) assert.equal(await retryDropped(() => c.get(j).read(1, 'k')), `v${i}`, `host ${j} reads host ${i}'s write`);
    }
    await new Promise((r) => setTimeout(r, 200)); // heartbeats acknowledged: the lease is fresh

    c.network.isolate(c.address(old));
    const reads: Array<{ start: number; end: number; value: unknown }> = [];
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        const start = performance.now();
        try {
          const value = await c.get(old).read(1, 'k', { timeoutMs: 100 });
          reads.push({ start, end: performance.now(), value });
        } catch { /* not confirmed within 100 ms: the lease ran out */ }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const others = [1, 2, 3].filter((i) => i !== old);
    await c.until(() => others.some((i) => c.leaderOf(1) === i), 5000, 'a new leader on the majority side');
    await retryDropped(() => c.get(others[0] as number).propose(1, setCmd('k', 'new'), { timeoutMs: 2000 }));
    const acked = performance.now();
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await reader;

    assert.ok(reads.length > 0, 'the isolated leader answered reads by its lease (ReadIndex cannot confirm while cut off)');
    const stale = reads.filter((r) => r.start > acked && r.value !== 'new');
    assert.deepEqual(stale, [], 'no read begun after the write was acknowledged returned an older value');
    assert.ok(reads.every((r) => r.value === `v3` || r.value === 'new'), JSON.stringify(reads.slice(0, 5)));
  } finally {
    c.network.heal();
    await c.closeAll();
  }
});

test('lease mode with quiesce: an idle shard wakes for a read without a backlog of ticks (no step-down, no new term)', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i, { rttMillisecond: 5 });
    await c.startShard(1, [1, 2, 3], { config: { readMode: 'lease', quiesce: true } });
    const leader = await c.waitLeader(1, [1, 2, 3]);
    await retryDropped(() => c.get(leader).propose(1, setCmd('q', 'v')));
    const term = c.get(leader).getLeaderId(1).term;
    // Idle for 10 election timeouts (100 ticks of 5 ms) the shard quiesces; then 1.5 s more.
    const quiesced = (): boolean => (c.get(leader) as unknown as { replicas: Map<number, { peer: { quiesced: boolean } }> }).replicas.get(1)?.peer.quiesced === true;
    await c.until(quiesced, 10000, 'the shard quiesced');
    await new Promise((r) => setTimeout(r, 1500));
    // Woken by a message (a follower's write), then a read at the leader.
    const follower = leader === 1 ? 2 : 1;
    await retryDropped(() => c.get(follower).propose(1, setCmd('q', 'w')));
    assert.equal(await c.get(leader).read(1, 'q'), 'w');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(c.get(leader).getLeaderId(1), { leaderId: leader, term, valid: true }, 'the leader woke without a backlog of 300 ticks');
  } finally {
    await c.closeAll();
  }
});

test('lease mode needs checkQuorum and a lease of at least one tick: InvalidOptionError at start', async () => {
  const c = new HostCluster();
  try {
    await c.start(1);
    await rejectsWith(() => c.startShard(1, [1], { config: { readMode: 'lease', checkQuorum: false } }), InvalidOptionError, 'INVALID_OPTION');
    await rejectsWith(() => c.startShard(2, [1], { config: { readMode: 'lease', electionRTT: 10, leaseDriftTicks: 9 } }), InvalidOptionError, 'INVALID_OPTION');
  } finally {
    await c.closeAll();
  }
});

test('tick clock: a lease-mode leader takes every tick it missed (a stall), others one per timer firing', () => {
  let now = 1000;
  const clock = new TickClock(10, () => now);
  now += 10;
  assert.equal(clock.atTimer(false), 1, 'a follower: one tick');
  now += 9;
  assert.equal(clock.atTimer(true), 0, 'a leader whose timer fired early: nothing yet');
  now += 1;
  assert.equal(clock.atTimer(true), 1);
  now += 250; // the event loop stalled for 25 ticks
  assert.equal(clock.owed(), 25, 'before reads: the missed ticks, all of them');
  assert.equal(clock.atTimer(true), 0, 'counted once');
  now += 35;
  assert.equal(clock.atTimer(true), 3);
  now += 5;
  assert.equal(clock.atTimer(true), 1, 'the fraction left over counts toward the next tick');
});
