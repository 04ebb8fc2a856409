/**
 * The dragonboat calls applications build on (issue #17 §3), at the host: tracked proposals
 * (committed, then applied; membership changes too), hasNodeInfo / listReplicas after a
 * restart, per-follower in-flight counts, queryRaftLog, verifyShard with getHash, and
 * disableProposalForwarding / forgetLeader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';
import { rejectsWith } from './support/assert.js';
import {
  EntriesCompactedError, InvalidOperationError, LogUnavailableError, NotLeaderError,
} from '../../src/errors.js';
import type { SMEntry, SMResult, SnapshotReader, StateMachine } from '../../src/contracts/state-machine.js';
import type { NodeHost } from '../../src/host/nodehost.js';
import type { ReplicaInfo } from '../../src/host/nodehost-info.js';

/** KV with getHash over the sorted map; `salt` makes one replica diverge on purpose. */
class HashKv extends KvStateMachine {
  constructor(private readonly salt = '') { super(); }
  getHash(): bigint {
    const h = createHash('sha256');
    for (const [k, v] of [...this.map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) h.update(`${k}\0${v}\0`);
    h.update(this.salt);
    return h.digest().readBigUInt64BE(0);
  }
}

/** A KV whose update takes a while: commit and apply are far apart in time. */
class SlowKv implements StateMachine {
  readonly inner = new KvStateMachine();
  get map(): Map<string, string> { return this.inner.map; }
  get applied(): number[] { return this.inner.applied; }
  async update(entries: readonly SMEntry[]): Promise<SMResult[]> {
    await new Promise((r) => setTimeout(r, 200));
    return this.inner.update(entries);
  }
  lookup(q: unknown): unknown { return this.inner.lookup(q); }
  saveSnapshot(...a: Parameters<StateMachine['saveSnapshot']>): Promise<void> { return this.inner.saveSnapshot(...a); }
  recoverFromSnapshot(r: SnapshotReader): Promise<void> { return this.inner.recoverFromSnapshot(r); }
  close(): void { this.inner.close(); }
}

/** What the tests read of a state machine. */
type Sm = StateMachine & { readonly map: Map<string, string>; readonly applied: number[] };

function info(nh: NodeHost, shardId = 1): ReplicaInfo {
  const i = nh.getNodeHostInfo().shards.find((s) => s.shardId === shardId);
  assert.ok(i !== undefined);
  return i;
}

async function three(c: HostCluster, make: (i: number) => Sm = () => new HashKv(), extra: Record<string, unknown> = {},
  host: Record<string, unknown> = {}): Promise<Map<number, Sm>> {
  const sms = new Map<number, Sm>();
  for (const i of [1, 2, 3]) {
    const nh = await c.start(i, host);
    await nh.startReplica(c.members([1, 2, 3]), false, () => { const sm = make(i); sms.set(i, sm); return sm; }, { shardId: 1, replicaId: i, ...extra });
  }
  return sms;
}

test('proposeTracked: committed resolves with the index before the slow apply; applied with the result', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    // notifyCommit on: the tracked form still gets the applied result, not { value: 0 }.
    const sms = await three(c, () => new SlowKv(), {}, { notifyCommit: true });
    const l = await c.waitLeader(1, [1, 2, 3], 10000);
    const t = c.get(l).proposeTracked(1, setCmd('k', 'v'));
    const { index } = await t.committed;
    assert.ok(index > 0);
    assert.equal(sms.get(l)?.map.get('k'), undefined, 'committed, not yet applied');
    const res = await t.applied;
    assert.equal(new TextDecoder().decode(res.data), String(index), 'applied at the committed index');
    assert.equal(sms.get(l)?.map.get('k'), 'v');
    // At a follower, through the shard handle.
    const f = [1, 2, 3].find((i) => i !== l) ?? 0;
    const t2 = c.get(f).shard(1).proposeTracked(setCmd('k2', 'v2'));
    const [c2, r2] = await Promise.all([t2.committed, t2.applied]);
    assert.equal(new TextDecoder().decode(r2.data), String(c2.index));
  } finally {
    await c.closeAll();
  }
});

test('onCommitted: a membership change is told its index at commit, then resolves once applied', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    await three(c);
    const l = await c.waitLeader(1, [1, 2, 3], 10000);
    let at = 0;
    await c.get(l).requestAddNonVoting(1, 4, c.address(4), { onCommitted: (i) => { at = i; } });
    assert.ok(at > 0, 'told at commit');
    const got = c.get(l).queryRaftLog(1, at, at + 1).entries[0];
    assert.equal(got?.type, 'config-change');
    assert.equal(got?.configChange?.replicaId, 4);
    assert.ok(info(c.get(l)).membership.nonVoting.has(4));
  } finally {
    await c.closeAll();
  }
});

test('a failed tracked proposal rejects committed and applied alike (no unhandled rejection)', async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    await nh.startReplica(c.members([1, 2]), false, () => new KvStateMachine(), { shardId: 1, replicaId: 1 });
    const t = nh.proposeTracked(1, setCmd('a', 'b'), { timeoutMs: 200 }); // no quorum: never commits
    await assert.rejects(t.applied, (e: Error) => e.name === 'DroppedError' || e.name === 'TimeoutError');
    await assert.rejects(t.committed);
  } finally {
    await c.closeAll();
  }
});

test('hasNodeInfo / listReplicas: what is on disk after a restart, before any replica starts', async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    for (const shardId of [3, 1]) {
      await nh.startReplica(c.members([1]), false, () => new KvStateMachine(), { shardId, replicaId: 1 });
    }
    await c.until(() => nh.getNodeHostInfo().shards.every((s) => s.isLeader), 5000, 'leaders');
    await nh.propose(3, setCmd('x', 'y'));
    await c.crash(1);
    const again = await c.start(1);
    assert.equal(again.getNodeHostInfo().shards.length, 0, 'nothing running');
    assert.deepEqual(again.listReplicas(), [{ shardId: 1, replicaId: 1 }, { shardId: 3, replicaId: 1 }]);
    assert.equal(again.hasNodeInfo(1, 1), true);
    assert.equal(again.hasNodeInfo(3, 1), true);
    assert.equal(again.hasNodeInfo(2, 1), false);
    assert.equal(again.hasNodeInfo(1, 2), false);
    // Restart what is on disk, the way an application that adds shards dynamically would.
    for (const r of again.listReplicas()) await again.startReplica(new Map(), false, () => new KvStateMachine(), { shardId: r.shardId, replicaId: r.replicaId });
    await c.until(() => again.getNodeHostInfo().shards.length === 2 && again.getNodeHostInfo().shards.every((s) => s.isLeader), 5000, 'restarted');
    assert.equal(await again.read(3, 'x'), 'y');
  } finally {
    await c.closeAll();
  }
});

test('getNodeHostInfo: the leader reports each follower\'s in-flight messages and bytes', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    await three(c);
    const l = await c.waitLeader(1, [1, 2, 3], 10000);
    const f = [1, 2, 3].find((i) => i !== l) ?? 0;
    await c.get(l).propose(1, setCmd('warm', 'up')); // every follower streams (replicate)
    await c.until(() => info(c.get(l)).followers.every((p) => p.state === 'replicate'), 5000, 'replicating');
    // The follower's answers are lost; the leader's messages still go out and stay in flight.
    c.network.blockOneWay(c.address(f), c.address(l));
    const writes = [];
    for (let i = 0; i < 5; i++) writes.push(c.get(l).propose(1, setCmd(`k${i}`, 'x'.repeat(100))));
    await Promise.all(writes);
    const fp = info(c.get(l)).followers.find((p) => p.replicaId === f);
    assert.ok(fp !== undefined);
    assert.equal(typeof fp.inflightMsgs, 'number');
    assert.equal(fp.state, 'replicate');
    assert.ok(fp.inflightMsgs > 0 && fp.inflightBytes >= 5 * 100, `a cut-off follower has the writes in flight: ${JSON.stringify(fp)}`);
    c.network.heal();
    await c.until(() => info(c.get(l)).followers.every((p) => p.inflightMsgs === 0 && p.match === info(c.get(l)).lastLogIndex), 10000, 'drained');
  } finally {
    await c.closeAll();
  }
});

test('queryRaftLog: committed entries with types, maxBytes, compacted and unavailable ranges', async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    await nh.startReplica(c.members([1]), false, () => new KvStateMachine(), { shardId: 1, replicaId: 1, compactionOverhead: 2 });
    await c.until(() => info(nh).isLeader, 5000, 'leader');
    const idx: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t = nh.proposeTracked(1, setCmd(`k${i}`, `v${i}`));
      idx.push((await t.committed).index);
      await t.applied;
    }
    const last = info(nh).commitIndex;
    const all = nh.queryRaftLog(1, 1, last + 1);
    assert.equal(all.firstIndex, 1);
    assert.equal(all.lastIndex, last);
    assert.deepEqual(all.entries.map((e) => e.index), Array.from({ length: last }, (_, i) => i + 1));
    assert.equal(all.entries[0]?.type, 'config-change', 'the bootstrap entry');
    assert.equal(all.entries[0]?.configChange?.replicaId, 1);
    const mine = all.entries.find((e) => e.index === idx[2]);
    assert.equal(mine?.type, 'application');
    assert.equal(new TextDecoder().decode(mine?.cmd), 'set k2 v2');
    assert.equal(nh.queryRaftLog(1, idx[0] ?? 0, last + 1, 0).entries.length, 1, 'at least one entry');
    // Each command entry counts 9 bytes of payload + 48 (entrySize): 120 bytes hold two.
    assert.equal(nh.shard(1).queryRaftLog(idx[0] ?? 0, last + 1, 120).entries.length, 2, 'as many as fit maxBytes');
    await rejectsWith(() => nh.queryRaftLog(1, 1, last + 2), LogUnavailableError, 'LOG_UNAVAILABLE');
    await nh.requestSnapshot(1);
    const first = info(nh).firstLogIndex;
    assert.ok(first > 1);
    await rejectsWith(() => nh.queryRaftLog(1, first - 1, last + 1), EntriesCompactedError, 'ENTRIES_COMPACTED');
    assert.equal(nh.queryRaftLog(1, first, last + 1).entries[0]?.index, first);
  } finally {
    await c.closeAll();
  }
});

test('verifyShard: replicas agree at the marker\'s index; the marker never reaches update', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    const sms = await three(c);
    const l = await c.waitLeader(1, [1, 2, 3], 10000);
    for (let i = 0; i < 5; i++) await c.get(l).propose(1, setCmd(`k${i}`, `v${i}`));
    const f = [1, 2, 3].find((i) => i !== l) ?? 0;
    const mine = await c.get(f).verifyShard(1);
    assert.match(mine.hash, /^[0-9a-f]{16}$/);
    await c.until(() => [1, 2, 3].every((i) => info(c.get(i)).stateHash?.index === mine.index), 5000, 'every replica hashed');
    for (const i of [1, 2, 3]) assert.deepEqual(info(c.get(i)).stateHash, mine, `replica ${i} agrees`);
    for (const sm of sms.values()) assert.ok(!sm.applied.includes(mine.index), 'the marker is not given to update');
    // Writes after the marker: a new marker, a new (agreeing) hash.
    await c.get(l).propose(1, setCmd('later', 'x'));
    const next = await c.get(l).shard(1).verifyShard();
    assert.ok(next.index > mine.index);
    assert.notEqual(next.hash, mine.hash);
    await c.until(() => [1, 2, 3].every((i) => info(c.get(i)).stateHash?.hash === next.hash), 5000, 'agree again');
  } finally {
    await c.closeAll();
  }
});

test('verifyShard: a state machine that diverges is seen as a mismatch at the same index', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    await three(c, (i) => new HashKv(i === 3 ? 'diverged' : ''));
    const l = await c.waitLeader(1, [1, 2, 3], 10000);
    await c.get(l).propose(1, setCmd('a', 'b'));
    const v = await c.get(l).verifyShard(1);
    await c.until(() => [1, 2, 3].every((i) => info(c.get(i)).stateHash?.index === v.index), 5000, 'every replica hashed');
    const hashes = [1, 2, 3].map((i) => info(c.get(i)).stateHash?.hash);
    assert.equal(hashes[0], hashes[1]);
    assert.notEqual(hashes[2], hashes[0], 'replica 3 diverged');
  } finally {
    await c.closeAll();
  }
});

test('verifyShard without getHash: InvalidOperationError, nothing proposed', async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    await nh.startReplica(c.members([1]), false, () => new KvStateMachine(), { shardId: 1, replicaId: 1 });
    await c.until(() => info(nh).isLeader, 5000, 'leader');
    const before = info(nh).lastLogIndex;
    await rejectsWith(nh.verifyShard(1), InvalidOperationError, 'INVALID_OPERATION');
    assert.equal(info(nh).lastLogIndex, before);
    assert.equal(info(nh).stateHash, null);
  } finally {
    await c.closeAll();
  }
});

test('disableProposalForwarding: a follower refuses with NotLeaderError naming the leader; the leader takes it', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    await three(c, () => new HashKv(), { disableProposalForwarding: true });
    const l = await c.waitLeader(1, [1, 2, 3], 10000);
    const f = [1, 2, 3].find((i) => i !== l) ?? 0;
    const t0 = Date.now();
    const e = await rejectsWith(c.get(f).propose(1, setCmd('a', 'b')), NotLeaderError, 'NOT_LEADER');
    assert.equal(e.leaderId, l, 'names the leader (replica i on host i)');
    assert.ok(Date.now() - t0 < 1000, 'at once');
    await rejectsWith(c.get(f).requestAddNonVoting(1, 4, c.address(4)), NotLeaderError, 'NOT_LEADER');
    await c.get(l).propose(1, setCmd('a', 'b'));
    assert.equal(await c.get(f).read(1, 'a'), 'b', 'reads are still forwarded');
  } finally {
    await c.closeAll();
  }
});

test('forgetLeader: a follower forgets, a no-op on the leader; the leader\'s heartbeat restores it', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    await three(c);
    const l = await c.waitLeader(1, [1, 2, 3], 10000);
    const f = [1, 2, 3].find((i) => i !== l) ?? 0;
    assert.equal(c.get(l).forgetLeader(1), false);
    assert.equal(c.get(f).shard(1).forgetLeader(), true);
    assert.equal(c.get(f).getLeaderId(1).valid, false);
    await c.until(() => c.get(f).getLeaderId(1).leaderId === l, 5000, 'leader learnt again');
    assert.equal(c.get(l).getLeaderId(1).leaderId, l, 'still the leader');
  } finally {
    await c.closeAll();
  }
});
