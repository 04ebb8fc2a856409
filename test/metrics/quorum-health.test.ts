/**
 * The quorum-health view (`getNodeHostInfo().shards[i].quorum`): the leader's view of which
 * voters it heard from within the last election timeout. A stopped follower shows as lost and
 * `failuresToLoss` drops; followers report no view; the view recovers when the follower returns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { attachMetrics } from '../../src/metrics/index.js';
import type { QuorumHealth } from '../../src/index.js';
import { HostCluster } from '../host/support/cluster.js';
import { parsePromText, valueOf } from './support/prom-text.js';

test('quorum health: a stopped follower is lost, failuresToLoss drops, and comes back', async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const registry = new Registry();
    attachMetrics(c.get(leader), { registry });
    const view = (): QuorumHealth | null => c.get(leader).getNodeHostInfo().shards[0]?.quorum ?? null;

    await c.until(() => view()?.active.length === 3, 5000, 'every voter active');
    assert.deepEqual(view(), { voters: 3, quorum: 2, active: [1, 2, 3], lost: [], failuresToLoss: 2 });
    for (const i of [1, 2, 3]) {
      if (i !== leader) assert.equal(c.get(i).getNodeHostInfo().shards[0]?.quorum, null, 'followers have no view');
    }

    const victim = [1, 2, 3].find((i) => i !== leader) as number;
    const survivor = [1, 2, 3].find((i) => i !== leader && i !== victim) as number;
    await c.crash(victim);
    // Election timeout: 10 ticks of 20 ms; lost once not heard from for longer than that.
    await c.until(() => view()?.lost.length === 1, 5000, `replica ${victim} seen as lost`);
    assert.deepEqual(view(), {
      voters: 3, quorum: 2, active: [leader, survivor].sort((a, b) => a - b), lost: [victim], failuresToLoss: 1,
    });
    const p = parsePromText(await registry.metrics());
    const l = { shard: '1', replica: String(leader) };
    assert.equal(valueOf(p, 'sampan_shard_quorum_failures_to_loss', l), 1, 'one failure away from losing quorum');
    assert.equal(valueOf(p, 'sampan_shard_quorum_lost', l), 1);
    assert.equal(valueOf(p, 'sampan_shard_quorum_active', l), 2);

    await c.start(victim);
    await c.startShard(1, [victim], { members: [] });
    await c.until(() => view()?.active.length === 3, 5000, `replica ${victim} active again`);
    assert.equal(view()?.failuresToLoss, 2);
  } finally {
    await c.closeAll();
  }
});
