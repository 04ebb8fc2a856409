/**
 * Shard handles (`nh.shard(id)`), the options form of the three starts, and the id helpers,
 * on real NodeHosts over the in-memory network (the WAL LogDB on real files).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClosedError, InvalidOptionError, ShardAlreadyExistsError, ShardNotFoundError, replicaId, shardId, type NodeHost,
  type ShardConfig, type ShardHandle, type StartOptions,
} from '../../src/index.js';
import { HostCluster } from './support/cluster.js';
import { ConcurrentKv, KvStateMachine, OnDiskKv, setCmd } from './support/kv.js';

const dec = new TextDecoder();

test('every call of a shard handle works, and a handle to a stopped shard throws ShardNotFoundError', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    const handles: ShardHandle[] = [];
    for (const i of [1, 2, 3]) {
      const nh = await c.start(i);
      // The options form resolves with the handle.
      handles.push(await nh.startReplica({ initialMembers: c.members([1, 2, 3]), create: () => new KvStateMachine(), config: { shardId: 1, replicaId: i } }));
    }
    assert.ok(handles.every((h) => h.shardId === 1));
    await c.until(() => handles.every((h) => h.leader().valid), 5000, 'a leader known everywhere');
    const leader = handles[0]!.leader().leaderId;
    const follower = c.get([1, 2, 3].find((i) => i !== leader)!).shard(1);
    assert.equal(follower.leader().leaderId, leader);

    // Proposals and the three reads.
    const res = await follower.propose(setCmd('a', '1'));
    assert.equal(res.value, 1);
    assert.equal(await follower.read('a'), '1');
    await follower.readIndex();
    assert.equal(await follower.readLocal('a'), '1');
    await c.until(() => c.get(leader).getNodeHostInfo().shards[0]!.appliedIndex >= Number(dec.decode(res.data)), 3000, 'applied on the leader');
    assert.equal(await c.get(leader).shard(1).staleRead('a'), '1');

    // Sessions: a retried proposal with the same series id is applied once.
    const session = await follower.getNewSession();
    assert.equal(session.shardId, 1);
    const first = await follower.propose(setCmd('b', '2'), { session });
    const again = await follower.propose(setCmd('b', '3'), { session });
    assert.deepEqual(again, first, 'the retry returns the first result');
    assert.equal(await follower.read('b'), '2', 'and is not applied again');
    session.proposalCompleted();
    await assert.rejects(c.get(1).shard(2).closeSession(session), InvalidOptionError, 'a session of another shard');
    await follower.closeSession(session);

    // Membership: add a non-voting replica and a witness, read the membership, remove them.
    await follower.requestAddNonVoting(4, c.address(4));
    await follower.requestAddWitness(5, c.address(5));
    let m = await follower.getShardMembership();
    assert.deepEqual([...m.voters.keys()].sort(), [1, 2, 3]);
    assert.deepEqual([...m.nonVoting.keys()], [4]);
    assert.deepEqual([...m.witnesses.keys()], [5]);
    await follower.requestDeleteReplica(4);
    await follower.requestDeleteReplica(5);
    m = await follower.getShardMembership();
    assert.deepEqual([...m.nonVoting.keys(), ...m.witnesses.keys()], []);
    await follower.requestAddReplica(6, c.address(6));
    assert.deepEqual([...(await follower.getShardMembership()).voters.keys()].sort(), [1, 2, 3, 6]);
    await follower.requestDeleteReplica(6);

    // Snapshots and compaction.
    const h1 = c.get(1).shard(1);
    const index = await h1.requestSnapshot();
    assert.ok(index > 0);
    assert.equal(c.get(1).getNodeHostInfo().shards[0]!.snapshotIndex, index);
    assert.equal(await h1.requestCompaction({ compactionIndex: index }), index);

    // Leader transfer resolves once the target leads.
    const target = [1, 2, 3].find((i) => i !== leader)!;
    await c.get(leader).shard(1).requestLeaderTransfer(target, { timeoutMs: 5000 });
    assert.equal(c.get(leader).shard(1).leader().leaderId, target);

    // stop() stops this host's replica; the handle (and any other) then throws ShardNotFoundError.
    const stopped = c.get(1).shard(1);
    await stopped.stop();
    assert.throws(() => stopped.leader(), ShardNotFoundError);
    await assert.rejects(stopped.propose(setCmd('c', '4')), ShardNotFoundError);
    await assert.rejects(stopped.read('a'), ShardNotFoundError);
    await assert.rejects(stopped.requestSnapshot(), ShardNotFoundError);
    await assert.rejects(stopped.stop(), ShardNotFoundError);
    const err = await stopped.getNewSession().catch((e: unknown) => e);
    assert.ok(err instanceof ShardNotFoundError && err.code === 'SHARD_NOT_FOUND');
    // Lazy: restarting the shard makes the same handle work again.
    await c.get(1).startReplica({ create: () => new KvStateMachine(), config: { shardId: 1, replicaId: 1 } });
    assert.equal(await stopped.read('a', { timeoutMs: 5000 }), '1');
    // Once the host is closed, ClosedError.
    await c.get(1).close({ drainTimeoutMs: 0 });
    await assert.rejects(stopped.propose(setCmd('c', '4')), ClosedError);
  } finally {
    await c.closeAll();
  }
});

/** What a host shows of a shard: membership, applied state, the ids its factory was called with. */
async function shardView(nh: NodeHost, shard: number, sm: { map: Map<string, string> }): Promise<unknown> {
  const m = await nh.getShardMembership(shard);
  const info = nh.getNodeHostInfo().shards.find((s) => s.shardId === shard)!;
  return { voters: [...m.voters], nonVoting: [...m.nonVoting], replicaId: info.replicaId, map: [...sm.map] };
}

test('the options form of each start does what the positional form does: bootstrap, join, restart', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    // Shard 1 started positionally, shard 2 with options, by each of the three kinds.
    type Sm = KvStateMachine | ConcurrentKv;
    type Factory = (s: number, r: number) => Sm;
    const kinds = [
      {
        name: 'regular', make: (): Sm => new KvStateMachine(),
        pos: (nh: NodeHost, m: Map<number, string>, join: boolean, f: Factory, cfg: ShardConfig) => nh.startReplica(m, join, f as () => KvStateMachine, cfg),
        opt: (nh: NodeHost, o: StartOptions<Sm>) => nh.startReplica(o as StartOptions<KvStateMachine>),
      },
      {
        name: 'concurrent', make: (): Sm => new ConcurrentKv(),
        pos: (nh: NodeHost, m: Map<number, string>, join: boolean, f: Factory, cfg: ShardConfig) => nh.startConcurrentReplica(m, join, f as () => ConcurrentKv, cfg),
        opt: (nh: NodeHost, o: StartOptions<Sm>) => nh.startConcurrentReplica(o as StartOptions<ConcurrentKv>),
      },
    ] as const;
    for (const kind of kinds) {
      const base = kind.name === 'regular' ? 0 : 10;
      const sms = new Map<string, KvStateMachine | ConcurrentKv>();
      const calls: string[] = [];
      const factory = (key: string): Factory => (s, r) => { calls.push(`${key}:${s}/${r}`); const sm = kind.make(); sms.set(`${key}:${r}`, sm); return sm; };
      for (const i of [1, 2, 3]) {
        const nh = c.hosts.get(i) ?? await c.start(i);
        await kind.pos(nh, c.members([1, 2, 3]), false, factory('pos'), { shardId: base + 1, replicaId: i });
        const h = await kind.opt(nh, { initialMembers: c.members([1, 2, 3]), create: factory('opt'), config: { shardId: base + 2, replicaId: i } });
        assert.equal(h.shardId, base + 2);
      }
      for (const s of [base + 1, base + 2]) await c.get(1).propose(s, setCmd('k', `v${s}`), { timeoutMs: 5000 });
      // Join: replica 4 on host 4, positional and options.
      const h4 = c.hosts.get(4) ?? await c.start(4);
      for (const s of [base + 1, base + 2]) await c.get(1).requestAddReplica(s, 4, c.address(4), { timeoutMs: 5000 });
      await kind.pos(h4, new Map(), true, factory('pos'), { shardId: base + 1, replicaId: 4 });
      await kind.opt(h4, { join: true, create: factory('opt'), config: { shardId: base + 2, replicaId: 4 } });
      await c.until(() => sms.get('pos:4')?.map.get('k') === `v${base + 1}` && sms.get('opt:4')?.map.get('k') === `v${base + 2}`, 5000, 'the joiners caught up');
      // Restart from data: stop replica 3 of both shards, start again without members.
      for (const s of [base + 1, base + 2]) await c.get(3).stopShard(s);
      await kind.pos(c.get(3), new Map(), false, factory('pos'), { shardId: base + 1, replicaId: 3 });
      await kind.opt(c.get(3), { create: factory('opt'), config: { shardId: base + 2, replicaId: 3 } });
      await c.until(() => sms.get('pos:3')?.map.get('k') === `v${base + 1}` && sms.get('opt:3')?.map.get('k') === `v${base + 2}`, 5000, 'the restarted replicas caught up');
      // The same shards, but for the value each was given.
      for (const i of [1, 2, 3, 4]) {
        const pos = await shardView(c.get(i), base + 1, sms.get(`pos:${i}`)!);
        const opt = await shardView(c.get(i), base + 2, sms.get(`opt:${i}`)!);
        assert.deepEqual(JSON.parse(JSON.stringify(opt).replaceAll(`v${base + 2}`, `v${base + 1}`)), pos, `${kind.name} host ${i}`);
      }
      assert.deepEqual(calls.filter((x) => x.startsWith('opt')).map((x) => x.replace(`:${base + 2}/`, ':')),
        calls.filter((x) => x.startsWith('pos')).map((x) => x.replace('pos', 'opt').replace(`:${base + 1}/`, ':')), 'factories called alike');
      // Errors alike.
      await assert.rejects(kind.opt(c.get(1), { initialMembers: c.members([1, 2, 3]), create: factory('x'), config: { shardId: base + 2, replicaId: 1 } }), ShardAlreadyExistsError);
    }
    // The on-disk kind, options form.
    const store = { map: [] as Array<[string, string]>, index: 0 };
    const h = await c.get(1).startOnDiskReplica({ initialMembers: c.members([1]), create: () => new OnDiskKv(store), config: { shardId: 30, replicaId: 1 } });
    await h.propose(setCmd('d', 'on-disk'), { timeoutMs: 5000 });
    assert.equal(await h.read('d'), 'on-disk');
    // Options that are not options are refused, typed.
    const nh = c.get(1) as unknown as { startReplica(o: unknown): Promise<unknown> };
    await assert.rejects(nh.startReplica({ config: { shardId: 31, replicaId: 1 } }), InvalidOptionError);
    await assert.rejects(nh.startReplica({ create: () => new KvStateMachine() }), InvalidOptionError);
    await assert.rejects(nh.startReplica({ initialMembers: { 1: 'a:1' }, create: () => new KvStateMachine(), config: { shardId: 31, replicaId: 1 } }), InvalidOptionError);
  } finally {
    await c.closeAll();
  }
});

test('ids: shardId()/replicaId() check and brand; shard() refuses a bad id and is lazy', async () => {
  assert.equal(shardId(7), 7);
  assert.equal(replicaId(3), 3);
  for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53]) {
    assert.throws(() => shardId(bad), InvalidOptionError);
    assert.throws(() => replicaId(bad), InvalidOptionError);
  }
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    assert.throws(() => nh.shard(0), InvalidOptionError);
    const early = nh.shard(shardId(5));
    await assert.rejects(early.readIndex(), ShardNotFoundError);
    await nh.startReplica(c.members([1]), false, () => new KvStateMachine(), { shardId: 5, replicaId: 1 });
    await early.propose(setCmd('x', 'y'), { timeoutMs: 5000 });
    assert.equal(await early.read('x'), 'y');
  } finally {
    await c.closeAll();
  }
});
