/**
 * `NodeHost.propose` answers every refusal as a rejected promise, never a synchronous throw
 * (it is not an async function: the replica's own promise goes to the caller), and a proposal's
 * deadline says what is known: DroppedError when no leader took it (it was not applied),
 * TimeoutError once it was handed to one (outcome unknown).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';
import {
  ClosedError, DroppedError, InvalidOptionError, ShardNotFoundError, TimeoutError,
} from '../../src/errors.js';

/** Calls `f`, failing the test if it throws synchronously; returns the promise it gave. */
function noThrow<T>(f: () => Promise<T>): Promise<T> {
  let p: Promise<T> | undefined;
  assert.doesNotThrow(() => { p = f(); });
  assert.ok(p instanceof Promise);
  return p;
}

test('propose: unknown shard, aborted signal, a session of another shard, a closed host: rejections, not throws', async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    for (const shardId of [1, 2]) await nh.startReplica(c.members([1]), false, () => new KvStateMachine(), { shardId, replicaId: 1 });
    await c.until(() => c.leaderOf(1) === 1 && c.leaderOf(2) === 1, 5000, 'leaders');
    assert.equal((await nh.propose(1, setCmd('a', '1'))).value, 1, 'a proposal still resolves with its result');
    await assert.rejects(noThrow(() => nh.propose(99, setCmd('a', '2'))), ShardNotFoundError);
    const ac = new AbortController();
    ac.abort(new Error('caller gave up'));
    await assert.rejects(noThrow(() => nh.propose(1, setCmd('a', '3'), { signal: ac.signal })), TimeoutError);
    const other = await nh.getNewSession(2);
    await assert.rejects(noThrow(() => nh.propose(1, setCmd('a', '4'), { session: other })), InvalidOptionError);
    await nh.close();
    await assert.rejects(noThrow(() => nh.propose(1, setCmd('a', '5'))), ClosedError);
  } finally {
    await c.closeAll();
  }
});

test('a proposal no leader took ends DROPPED at its deadline; one handed to a leader that never commits it ends TIMEOUT', async () => {
  const c = new HostCluster();
  try {
    // One host of a three-member shard: no leader, so the proposal is held.
    const h1 = await c.start(1);
    await h1.startReplica(c.members([1, 2, 3]), false, () => new KvStateMachine(), { shardId: 1, replicaId: 1 });
    const t0 = Date.now();
    await assert.rejects(h1.propose(1, setCmd('k', 'v'), { timeoutMs: 300 }), (e: unknown) => {
      assert.ok(e instanceof DroppedError, String(e));
      assert.match((e as Error).message, /no leader took the request within 300 ms; it was not applied/);
      return true;
    });
    assert.ok(Date.now() - t0 >= 290, 'not before its deadline');
    // Two of three: a leader; the third never starts, and the second is closed once the
    // leader has heard it, so a proposal is appended but cannot commit.
    const h2 = await c.start(2);
    await h2.startReplica(c.members([1, 2, 3]), false, () => new KvStateMachine(), { shardId: 1, replicaId: 2 });
    await c.until(() => c.leaderOf(1) !== 0, 5000, 'a leader of two');
    const leader = c.leaderOf(1) === 1 ? h1 : h2;
    await leader.propose(1, setCmd('k', 'v'));
    await (leader === h1 ? h2 : h1).close();
    await assert.rejects(leader.propose(1, setCmd('k', 'w'), { timeoutMs: 300 }), (e: unknown) => {
      assert.ok(e instanceof TimeoutError && !(e instanceof DroppedError), String(e));
      return true;
    });
  } finally {
    await c.closeAll();
  }
});
