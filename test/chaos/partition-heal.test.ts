/**
 * Issue 14 §4: a follower cut off by a silent partition (the chaos proxy's blackhole: TCP
 * connections left open, every byte and close discarded both ways) serves a linearizable read
 * of a value written during the cut within 3 s of the heal; during the cut the leader's metrics
 * show the follower disconnected with stalls counted, and each side logged one stall warning
 * for the outage. Without stall detection the follower never serves again through a proxy
 * blackhole (its connections stay dark), and through a real firewall only when TCP's
 * retransmission timer next fires (seconds to minutes). The longer runs (10 s and 45 s cuts)
 * are `npm run measure:partition-heal`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measurePartitionHeal } from '../../tools/chaos/partition-heal.js';

test('a follower blackholed for 10 s serves a linearizable read within 3 s of the heal; the outage is visible', { timeout: 90_000 }, async () => {
  const r = await measurePartitionHeal({ cutMs: 10_000, rttMs: 50, giveUpMs: 15_000 });
  const why = JSON.stringify(r);
  assert.ok(r.healToServeMs !== null, `the follower never served after the heal: ${why}`);
  assert.ok(r.healToServeMs <= 3000, `served ${r.healToServeMs} ms after the heal: ${why}`);
  assert.equal(r.leaderConnectedDuringCut, 0, `the leader still reported the follower connected: ${why}`);
  assert.ok((r.leaderStallsDuringCut ?? 0) >= 1, `no stall counted on the leader: ${why}`);
  assert.equal(r.leaderStallWarnings.length, 1, `want one stall warning on the leader for the outage: ${why}`);
  assert.match(r.leaderStallWarnings[0]!, /"stalledMs":\d+/);
  assert.equal(r.followerStallWarnings.length, 1, `want one stall warning on the follower for the outage: ${why}`);
});
