/**
 * A request its replica stops waiting for after handing it to the core (the replica stopped,
 * or was removed) fails with TIMEOUT, outcome unknown, not CLOSED / REPLICA_REMOVED: its entry
 * may be in the leader's log and commit afterwards (found by the chaos suite: a write answered
 * 503 REPLICA_REMOVED had been applied). One never handed over still fails with CLOSED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';
import { rejectsWith } from './support/assert.js';
import { gatedTrio, type Gate } from './support/gated-logdb.js';
import { ClosedError, TimeoutError } from '../../src/errors.js';

test('a follower\'s forwarded write, in flight when its host closes, fails with TIMEOUT (cause CLOSED), and is then applied by the others', { timeout: 20000 }, async () => {
  const { c, gates, leader } = await gatedTrio();
  try {
    const [f, g] = [1, 2, 3].filter((i) => i !== leader) as [number, number];
    await c.get(f).propose(1, setCmd('warm', 'up'));
    // The leader's and the other follower's writes hang: the entry cannot commit for now.
    for (const i of [leader, g]) (gates.get(i) as Gate).hold();
    const p = c.get(f).propose(1, setCmd('k', 'v'), { timeoutMs: 10000 });
    p.catch(() => undefined);
    // The leader appended the forwarded write and sent it on: the other follower's copy waits for its disk.
    const cmd = setCmd('k', 'v');
    await c.until(() => (gates.get(g) as Gate).entries.some((e) => Buffer.from(e.cmd).equals(cmd)), 3000, 'the leader to replicate the write');
    await c.get(f).close({ drainTimeoutMs: 0 });
    const err = await rejectsWith(p, TimeoutError, 'TIMEOUT');
    assert.ok(err.cause instanceof ClosedError, `cause: ${String(err.cause)}`);
    assert.match(err.message, /may still be applied/);
    // And so it is: the disks recover and the two others commit and apply it.
    for (const i of [leader, g]) (gates.get(i) as Gate).release();
    await c.until(() => c.sm(leader, 1).map.get('k') === 'v', 5000, 'the write to be applied on the leader');
  } finally {
    for (const gate of gates.values()) gate.release();
    await c.closeAll();
  }
});

test('a write still held for a leader when its host closes fails with CLOSED (it is in no log)', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    await c.start(1);
    // One host of a three-member shard: no leader is ever elected, the write never leaves.
    await c.startShard(1, [1], { members: [1, 2, 3] });
    const p = c.get(1).propose(1, setCmd('k', 'v'), { timeoutMs: 10000 });
    p.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    await c.get(1).close({ drainTimeoutMs: 0 });
    await rejectsWith(p, ClosedError, 'CLOSED');
  } finally {
    await c.closeAll();
  }
});
