/**
 * Client sessions: a proposal retried with the same series id is applied once and answers
 * with its first result, through any host and across a timeout; the next series applies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidOptionError, RejectedError, TimeoutError } from '../../src/errors.js';
import { rejectsWith } from './support/assert.js';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';

const count = (xs: readonly string[], x: string): number => xs.filter((y) => y === x).length;

test('a retried session proposal is applied once and returns the first result; the next series applies', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    await c.startShard(2, [1, 2, 3]);
    await c.waitLeader(1, [1, 2, 3]);
    const session = await c.get(1).getNewSession(1);
    assert.equal(session.shardId, 1);

    const first = await c.get(1).propose(1, setCmd('a', '1'), { session });
    // The client did not see the reply and retries, through another host: same answer, one apply.
    const retry = await c.get(2).propose(1, setCmd('a', '1'), { session });
    assert.deepEqual(retry, first);
    // Two copies in flight at once (one may land in the same apply batch): still once.
    const both = await Promise.all([c.get(3).propose(1, setCmd('a', '1'), { session }), c.get(1).propose(1, setCmd('a', '1'), { session })]);
    assert.deepEqual(both, [first, first]);
    await c.until(() => [1, 2, 3].every((i) => c.sm(i, 1).commands.length >= 1), 2000, 'applied everywhere');
    await c.get(1).readIndex(1);
    for (const i of [1, 2, 3]) await c.get(i).readIndex(1);
    for (const i of [1, 2, 3]) assert.equal(count(c.sm(i, 1).commands, 'set a 1'), 1, `host ${i} applied it once`);

    session.proposalCompleted();
    const second = await c.get(2).propose(1, setCmd('a', '1'), { session });
    assert.notDeepEqual(second, first, 'the next series is a new command with its own result');
    for (const i of [1, 2, 3]) await c.get(i).readIndex(1);
    for (const i of [1, 2, 3]) assert.equal(count(c.sm(i, 1).commands, 'set a 1'), 2);

    // A session belongs to its shard.
    await rejectsWith(c.get(1).propose(2, setCmd('x', 'y'), { session }), InvalidOptionError, 'INVALID_OPTION');
    // A closed session is unknown to the shard: its proposals are rejected, not applied.
    session.proposalCompleted();
    await c.get(1).closeSession(session);
    await rejectsWith(c.get(1).propose(1, setCmd('b', '2'), { session }), RejectedError, 'REJECTED');
    for (const i of [1, 2, 3]) await c.get(i).readIndex(1);
    for (const i of [1, 2, 3]) assert.equal(count(c.sm(i, 1).commands, 'set b 2'), 0);
  } finally {
    await c.closeAll();
  }
});

test('a session proposal that timed out on a cut-off leader is applied exactly once after retries', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const session = await c.get(leader).getNewSession(1);
    await c.get(leader).propose(1, setCmd('before', 'x'), { session });
    session.proposalCompleted();

    // The leader appends the entry but cannot commit it: the caller times out.
    c.network.isolate(c.address(leader));
    await rejectsWith(c.get(leader).propose(1, setCmd('once', 'v'), { session, timeoutMs: 100 }), TimeoutError, 'TIMEOUT');
    c.network.heal();
    // The client retries the same series anywhere until it gets an answer.
    const others = [1, 2, 3].filter((i) => i !== leader);
    let result;
    for (let attempt = 0; result === undefined; attempt++) {
      assert.ok(attempt < 50, 'the retry never succeeded');
      try {
        result = await c.get(others[attempt % 2] as number).propose(1, setCmd('once', 'v'), { session, timeoutMs: 500 });
      } catch (e) {
        if (!(e instanceof TimeoutError) && !(e instanceof Error && 'code' in e && e.code === 'DROPPED')) throw e;
      }
    }
    const again = await c.get(leader).propose(1, setCmd('once', 'v'), { session, timeoutMs: 3000 });
    assert.deepEqual(again, result);
    for (const i of [1, 2, 3]) await c.get(i).readIndex(1, { timeoutMs: 3000 });
    for (const i of [1, 2, 3]) assert.equal(count(c.sm(i, 1).commands, 'set once v'), 1, `host ${i} applied it once`);
  } finally {
    await c.closeAll();
  }
});
