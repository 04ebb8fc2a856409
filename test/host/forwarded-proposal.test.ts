/**
 * A follower forwards its clients' proposals (and read requests) to the leader at once, not
 * after its own LogDB write of the same engine pass and of the passes before it: a forwarded
 * Propose promises nothing about the follower's log, so it does not wait for its sync (etcd
 * raft holds back only the answers, `msgsAfterAppend`). Shown with a follower whose LogDB
 * writes are held: the leader still appends, commits and applies the follower's proposal.
 * And a leader whose own write lags: a membership change forwarded to it meanwhile is held until
 * the leader has written the change before it (`src/core/proposal-refusal.ts`), not dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setCmd } from './support/kv.js';
import { gatedTrio, type Gate } from './support/gated-logdb.js';

test('a follower forwards a proposal to the leader while its own LogDB write is still pending', { timeout: 20000 }, async () => {
  const { c, gates, leader } = await gatedTrio();
  try {
    const f = [1, 2, 3].find((i) => i !== leader) as number;
    await c.get(f).propose(1, setCmd('warm', 'up'));
    const gate = gates.get(f) as Gate;
    gate.hold();
    // The leader's next entry reaches the follower, whose write of it now hangs (a slow disk);
    // the leader commits it with the other follower.
    await c.get(leader).propose(1, setCmd('a', '1'));
    await c.until(() => gate.waiting > 0, 3000, 'a held write on the follower');
    const p = c.get(f).propose(1, setCmd('b', '2'));
    await c.until(() => c.sm(leader, 1).map.get('b') === '2', 3000,
      'the leader to apply the follower\'s proposal while the follower\'s write is held');
    assert.equal(c.sm(f, 1).map.get('b'), undefined, 'not applied on the follower before its own write');
    gate.release();
    const r = await p;
    assert.ok(r.value > 0);
    assert.equal(c.sm(f, 1).map.get('b'), '2');
  } finally {
    for (const g of gates.values()) g.release();
    await c.closeAll();
  }
});

test('a membership change forwarded while the leader\'s write of the previous one is held waits for it, then is applied (it was dropped silently and timed out)', { timeout: 20000 }, async () => {
  const { c, gates, leader } = await gatedTrio();
  try {
    await c.get(leader).propose(1, setCmd('warm', 'up'));
    const f = [1, 2, 3].find((i) => i !== leader) as number;
    // The leader's disk is slow: the two followers commit the first change without its copy,
    // and the follower applies it (and its caller returns) before the leader has written it.
    const gate = gates.get(leader) as Gate;
    gate.hold();
    await c.get(f).requestAddNonVoting(1, 4, c.address(4), { timeoutMs: 3000 });
    assert.ok(gate.waiting > 0, 'the leader\'s write is still held');
    // The next change reaches the leader while the first is not yet handed to its host.
    const t0 = Date.now();
    const second = c.get(f).requestAddNonVoting(1, 5, c.address(5), { timeoutMs: 3000 });
    await new Promise((r) => setTimeout(r, 50));
    gate.release();
    await second;
    assert.ok(Date.now() - t0 < 3000);
    assert.deepEqual([...(await c.get(f).getShardMembership(1)).nonVoting.keys()].sort(), [4, 5]);
  } finally {
    for (const g of gates.values()) g.release();
    await c.closeAll();
  }
});
