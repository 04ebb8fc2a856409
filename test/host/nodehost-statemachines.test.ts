/**
 * The three state machine kinds through the NodeHost (regular is covered by the other
 * files), the on-disk kind's restart from its own applied index, and a state machine that
 * throws: only its replica stops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidOperationError, InvalidOptionError, ShardNotFoundError, StateMachineError } from '../../src/errors.js';
import { rejectsWith, settle } from './support/assert.js';
import { HostCluster } from './support/cluster.js';
import { ConcurrentKv, OnDiskKv, failCmd, setCmd } from './support/kv.js';

test('concurrent state machines replicate, apply in order and serve linearizable reads', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const sms = new Map<number, ConcurrentKv>();
  try {
    for (const i of [1, 2, 3]) {
      await (await c.start(i)).startConcurrentReplica(c.members([1, 2, 3]), false, () => {
        const sm = new ConcurrentKv();
        sms.set(i, sm);
        return sm;
      }, { shardId: 1, replicaId: i });
    }
    await c.waitLeader(1, [1, 2, 3]);
    const rs = await Promise.all(Array.from({ length: 20 }, (_, k) => c.get(1 + (k % 3)).propose(1, setCmd(`k${k}`, String(k)))));
    assert.equal(rs.length, 20);
    for (const i of [1, 2, 3]) assert.equal(await c.get(i).read(1, 'k19'), '19');
    await c.until(() => [1, 2, 3].every((i) => sms.get(i)?.map.size === 20), 3000, 'applied everywhere');
    const order = sms.get(1)?.applied;
    assert.deepEqual(order, [...(order ?? [])].sort((a, b) => a - b));
    for (const i of [2, 3]) assert.deepEqual(sms.get(i)?.applied, order);
  } finally {
    await c.closeAll();
  }
});

test('on-disk state machines: a restart reopens at the stored applied index and never re-applies entries up to it', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const disks = new Map([1, 2, 3].map((i) => [i, { map: [] as Array<[string, string]>, index: 0 }] as const));
  const current = new Map<number, OnDiskKv>();
  const startOnDisk = async (i: number, members: ReadonlyMap<number, string>): Promise<void> => {
    await c.get(i).startOnDiskReplica(members, false, () => {
      const sm = new OnDiskKv(disks.get(i) as { map: Array<[string, string]>; index: number });
      current.set(i, sm);
      return sm;
    }, { shardId: 1, replicaId: i });
  };
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    for (const i of [1, 2, 3]) await startOnDisk(i, c.members([1, 2, 3]));
    const leader = await c.waitLeader(1, [1, 2, 3]);
    for (let k = 0; k < 10; k++) await c.get(1 + (k % 3)).propose(1, setCmd(`k${k}`, String(k)));
    assert.equal(await c.get(leader).read(1, 'k9'), '9');
    // On-disk state machines take no client sessions.
    await rejectsWith(async () => {
      const session = await c.get(leader).getNewSession(1);
      await c.get(leader).propose(1, setCmd('s', 's'), { session });
    }, InvalidOperationError, 'INVALID_OPERATION');

    // Restart one follower: its state machine reopens where it stopped.
    const f = [1, 2, 3].find((i) => i !== leader) as number;
    const lastUserIndex = current.get(leader)?.applied.at(-1) ?? 0;
    await c.until(() => disks.get(f)?.index === lastUserIndex, 3000, 'the follower applied every write');
    await c.crash(f);
    const stored = disks.get(f)?.index ?? 0;
    assert.ok(stored > 0);
    await c.start(f);
    await startOnDisk(f, new Map());
    const reopened = current.get(f) as OnDiskKv;
    assert.equal(reopened.openedAt, stored);
    await c.waitLeader(1, [1, 2, 3]);
    await c.get(f).propose(1, setCmd('after', 'restart'));
    assert.equal(await c.get(f).read(1, 'after'), 'restart');
    assert.equal(await c.get(f).read(1, 'k0'), '0');
    assert.ok(reopened.applied.length >= 1, 'the new entry was applied');
    assert.ok(reopened.applied.every((ix) => ix > stored), `re-applied an entry at or below ${stored}: ${reopened.applied.join(',')}`);

    // Every host restarts: the same holds on each.
    for (const i of [1, 2, 3]) await c.crash(i);
    const storedAll = new Map([1, 2, 3].map((i) => [i, disks.get(i)?.index ?? 0] as const));
    for (const i of [1, 2, 3]) await c.start(i);
    for (const i of [1, 2, 3]) await startOnDisk(i, new Map());
    await c.waitLeader(1, [1, 2, 3]);
    await c.get(1).propose(1, setCmd('all', 'restarted'));
    for (const i of [1, 2, 3]) {
      assert.equal(await c.get(i).read(1, 'all'), 'restarted');
      assert.equal(await c.get(i).read(1, 'after'), 'restart');
      const sm = current.get(i) as OnDiskKv;
      assert.equal(sm.openedAt, storedAll.get(i));
      assert.ok(sm.applied.every((ix) => ix > (storedAll.get(i) ?? 0)), `host ${i} re-applied: ${sm.applied.join(',')}`);
    }
  } finally {
    await c.closeAll();
  }
});

test('a restarted replica must use the kind of state machine it was created with', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    await c.start(1);
    await c.startShard(1, [1]);
    await c.waitLeader(1, [1]);
    await c.get(1).propose(1, setCmd('a', 'b'));
    await c.get(1).stopShard(1);
    await rejectsWith(c.get(1).startOnDiskReplica(new Map(), false, () => new OnDiskKv({ map: [], index: 0 }), { shardId: 1, replicaId: 1 }),
      InvalidOptionError, 'INVALID_OPTION');
    await c.startShard(1, [1], { members: [] });
    await c.waitLeader(1, [1]);
    assert.equal(await c.get(1).read(1, 'a'), 'b');
  } finally {
    await c.closeAll();
  }
});

test('a state machine that throws stops only its replica: replica:failed, StateMachineError for pending requests, other shards keep working', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const failed = new Map<number, Array<{ shardId: number; replicaId: number; error: Error }>>();
  try {
    for (const i of [1, 2, 3]) {
      const nh = await c.start(i);
      failed.set(i, []);
      nh.on('replica:failed', (p) => failed.get(i)?.push(p));
    }
    await c.startShard(1, [1, 2, 3]);
    await c.startShard(2, [1, 2, 3]);
    const leader = await c.waitLeader(1, [1, 2, 3]);
    await c.waitLeader(2, [1, 2, 3]);
    await c.get(leader).propose(1, setCmd('ok', 'before'));

    // The failing command and one queued behind it: both fail with StateMachineError.
    const [bad, behind] = await Promise.all([
      settle(c.get(leader).propose(1, failCmd())),
      settle(c.get(leader).propose(1, setCmd('never', 'x'))),
    ]);
    for (const r of [bad, behind]) {
      assert.ok(!r.ok && r.error instanceof StateMachineError, `expected StateMachineError, got ${r.ok ? 'success' : String(r.error)}`);
      assert.equal((r.error as StateMachineError).code, 'STATE_MACHINE');
    }
    // The command is replicated, so every replica of shard 1 fails, each reported on its host.
    await c.until(() => [1, 2, 3].every((i) => (failed.get(i)?.length ?? 0) >= 1), 3000, 'replica:failed everywhere');
    for (const i of [1, 2, 3]) {
      const e = failed.get(i)?.[0];
      assert.equal(e?.shardId, 1);
      assert.equal(e?.replicaId, i);
      assert.ok(e?.error instanceof Error);
      assert.match(e?.error.message ?? '', /told to fail/);
    }
    assert.equal(c.sm(leader, 1).map.has('never'), false);
    // New requests to the failed replica fail at once.
    await rejectsWith(c.get(leader).propose(1, setCmd('x', 'y')), StateMachineError, 'STATE_MACHINE');
    await rejectsWith(c.get(leader).read(1, 'ok'), StateMachineError, 'STATE_MACHINE');

    // The hosts and their other shard are unaffected.
    await c.get(1).propose(2, setCmd('fine', 'yes'));
    for (const i of [1, 2, 3]) assert.equal(await c.get(i).read(2, 'fine'), 'yes');
    // The failed replica can be stopped (its state machine closed) and the shard id is free.
    await c.get(leader).stopShard(1);
    assert.equal(c.sm(leader, 1).closed, true);
    await rejectsWith(c.get(leader).propose(1, setCmd('x', 'y')), ShardNotFoundError, 'SHARD_NOT_FOUND');
    assert.deepEqual(c.get(leader).getNodeHostInfo().shards.map((s) => s.shardId), [2]);
  } finally {
    await c.closeAll();
  }
});
