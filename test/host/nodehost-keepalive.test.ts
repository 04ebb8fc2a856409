/**
 * A pending request must settle — by its result or its timeout — even when nothing else keeps
 * the process alive. Its own file: when the event loop empties, node:test cancels every test
 * still to run in the file, so a failure here must not take other tests with it.
 */
import { test } from 'node:test';
import { TimeoutError } from '../../src/errors.js';
import { rejectsWith } from './support/assert.js';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';

test('a pending request settles by its timeout even when nothing else keeps the process alive', { timeout: 10000 }, async () => {
  // No keep-alive handle: the in-memory network holds nothing open, like an idle process.
  const c = new HostCluster({ keepAlive: false });
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3], { config: { checkQuorum: false } });
    const leader = await c.waitLeader(1, [1, 2, 3]);
    await c.get(leader).propose(1, setCmd('warm', 'up'), { timeoutMs: 1000 });
    for (const i of [1, 2, 3]) if (i !== leader) await c.crash(i);
    await rejectsWith(c.get(leader).propose(1, setCmd('a', 'b'), { timeoutMs: 100 }), TimeoutError, 'TIMEOUT');
  } finally {
    await c.closeAll();
  }
});
