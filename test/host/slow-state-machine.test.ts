/**
 * A slow state machine beside healthy shards on the same hosts: its `update` calls are paced
 * (`apply-budget.ts`), so the healthy shards keep committing promptly and never campaign.
 * (A throwing state machine failing only its replica: nodehost-statemachines.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplyBudget } from '../../src/host/apply-budget.js';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';
import type { SMEntry, SMResult } from '../../src/contracts/state-machine.js';

const BLOCK_MS = 30;

/** A KV state machine whose every `update` call busy-waits {@link BLOCK_MS}. */
class SlowKv extends KvStateMachine {
  calls = 0;
  override update(entries: readonly SMEntry[]): SMResult[] {
    this.calls++;
    const end = performance.now() + BLOCK_MS;
    while (performance.now() < end) { /* a slow state machine holds the thread */ }
    return super.update(entries);
  }
}

test('a state machine blocking 30 ms per update does not stall the healthy shards of its host: no campaigns, commits stay prompt', { timeout: 30000 }, async (t) => {
  const c = new HostCluster();
  const healthy = [2, 3, 4, 5];
  let slow: SlowKv | undefined;
  try {
    for (const i of [1, 2, 3]) await c.start(i, { leaderBalancing: false });
    // Shard 1's replica on host 1 is slow (a slow disk, a costly command: host 1's thread is
    // the one held); its other replicas and every other shard are quick.
    const members = c.members([1, 2, 3]);
    for (const i of [1, 2, 3]) {
      await c.get(i).startReplica(members, false, () => {
        if (i !== 1) return new KvStateMachine();
        slow = new SlowKv();
        return slow;
      }, { shardId: 1, replicaId: i });
    }
    for (const s of healthy) await c.startShard(s, [1, 2, 3]);
    for (const s of [1, ...healthy]) await c.waitLeader(s, [1, 2, 3]);
    for (const s of [1, ...healthy]) await c.get(1).propose(s, setCmd('warm', 'up'));
    const campaigns = (): number => [1, 2, 3].reduce((sum, i) => sum + c.get(i).getStats().shards
      .filter((s) => s.shardId !== 1).reduce((a, s) => a + s.campaigns, 0), 0);
    const before = campaigns();

    let slowDone = 0;
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Infinity;
    /** Drives the healthy shards for `ms` (and the slow one beside them if `withSlow`); their latencies. */
    const phase = async (ms: number, withSlow: boolean): Promise<number[]> => {
      const end = Date.now() + ms;
      const lat: number[] = [];
      const slowClient = async (): Promise<void> => {
        while (Date.now() < end) {
          await c.get(1).propose(1, setCmd('s', String(slowDone)), { timeoutMs: 10000 });
          slowDone++;
        }
      };
      const healthyClient = async (s: number): Promise<void> => {
        while (Date.now() < end) {
          const t0 = performance.now();
          await c.get(1).propose(s, setCmd('h', 'x'), { timeoutMs: 10000 });
          lat.push(performance.now() - t0);
        }
      };
      await Promise.all([...(withSlow ? [slowClient(), slowClient(), slowClient()] : []), ...healthy.map((s) => healthyClient(s))]);
      return lat;
    };
    // The healthy shards alone first: the baseline of this machine at this moment (a loaded
    // machine slows both phases alike).
    const base = median(await phase(1000, false));
    const lat = await phase(2500, true);
    const p50 = median(lat);
    lat.sort((a, b) => a - b);
    t.diagnostic(`slow shard: ${slowDone} proposals, ${slow?.calls} updates of ${BLOCK_MS} ms; healthy: ${lat.length} proposals, p50 ${p50.toFixed(1)} ms (alone ${base.toFixed(1)} ms), p90 ${(lat[Math.floor(lat.length * 0.9)] ?? Infinity).toFixed(1)} ms`);
    assert.ok((slow?.calls ?? 0) >= 10, `the slow state machine was kept busy (${slow?.calls} updates)`);
    assert.equal(campaigns(), before, 'no healthy shard campaigned');
    // Held for a whole update at a time, a healthy proposal would wait several of them (one per
    // engine pass it needs); paced, the slow shard has at most about half of the thread.
    // (Measured on 2 busy cores: about 2 ms paced, 38 ms unpaced.)
    assert.ok(p50 - base < BLOCK_MS / 2, `healthy proposals' median ${p50.toFixed(1)} ms is less than half a slow update (${BLOCK_MS} ms) above their median alone (${base.toFixed(1)} ms)`);
  } finally {
    await c.closeAll();
  }
});

test('the apply budget: past the slice, the next update waits for a later event-loop turn, in which due timers run; a call longer than the slice makes its replica rest', async () => {
  const budget = new ApplyBudget(5);
  const a = budget.forReplica();
  const b = budget.forReplica();
  const order: string[] = [];
  // Charged in a check phase, as an engine pass's applies are: the due timer runs before the reset.
  await new Promise((r) => setImmediate(r));
  const timer = new Promise<void>((res) => setTimeout(() => { order.push('timer'); res(); }, 0));
  for (const t = performance.now(); performance.now() - t < 2;) { /* the timer is due */ }
  await a.admit();
  a.charge(3);
  order.push('a1');
  await b.admit();
  b.charge(3);
  order.push('b1');
  // 6 ms charged in this turn: b must wait, the due timer runs first.
  await b.admit();
  order.push('b2');
  await timer;
  assert.deepEqual(order, ['a1', 'b1', 'timer', 'b2']);
  assert.equal(budget.yields, 1);

  // A call of 20 ms (longer than the slice) makes its replica rest about as long; others do not.
  a.charge(20);
  const t0 = performance.now();
  await b.admit();
  const bWaited = performance.now() - t0;
  await a.admit();
  const aWaited = performance.now() - t0;
  assert.equal(budget.rests, 1);
  assert.ok(bWaited < 15, `b did not rest (${bWaited.toFixed(1)} ms)`);
  assert.ok(aWaited >= 15, `a rested after its long call (${aWaited.toFixed(1)} ms)`);
});
