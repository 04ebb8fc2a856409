/**
 * The host's tick comes from its runtime's timers: on virtual time, no tick happens (so no
 * election) until the virtual tick interval fires, however long the test waits in real time;
 * advancing virtual time elects the leader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { fakeTimersRuntime } from '../support/fake-timers-runtime.js';

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a fake clock drives the tick: no tick until the fake interval fires; advancing it elects a leader', async () => {
  const c = new HostCluster();
  const { runtime, time } = fakeTimersRuntime();
  try {
    const nh = await c.start(1, { runtime, rttMillisecond: 10 });
    assert.deepEqual(time.pending().filter((t) => t.kind === 'interval' && t.ms === 10).length, 1, 'the ticker is an interval of the runtime');
    await c.startShard(1, [1]);
    // 60 election timeouts of real time: nothing ticks, so the single voter never campaigns.
    await realSleep(600);
    assert.equal(nh.getLeaderId(1).valid, false, 'no leader without ticks');
    assert.equal(time.now, 0);
    // Two election timeouts of virtual time: the replica campaigns and leads.
    assert.ok(time.advance(10 * 10 * 2) >= 20, 'the ticker fired');
    for (let i = 0; i < 200 && !nh.getLeaderId(1).valid; i++) await realSleep(10);
    assert.equal(nh.getLeaderId(1).valid, true, 'leader elected once virtual time moved');
  } finally {
    await c.closeAll();
  }
});
