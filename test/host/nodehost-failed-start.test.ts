/**
 * A failed first start leaves nothing behind (issue #14 §2): NodeHost.create failing on a
 * fresh directory leaves it as it was; a replica start failing for a replica with no data
 * leaves no bootstrap record; and a bootstrap record without bootstrap entries (what older
 * versions left) is bootstrapped again instead of sitting at term 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { StateMachineType } from '../../src/core/types.js';
import { ClosedError, InvalidOptionError, ShardAlreadyExistsError } from '../../src/errors.js';
import { NodeHost } from '../../src/host/nodehost.js';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import type { OnDiskStateMachine } from '../../src/contracts/state-machine.js';
import { rejectsWith } from './support/assert.js';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, OnDiskKv, setCmd } from './support/kv.js';
import { freePorts } from './support/ports.js';

const kv = (): KvStateMachine => new KvStateMachine();

async function holdPort(port: number): Promise<Server> {
  const s = createServer();
  await new Promise<void>((res, rej) => { s.once('error', rej); s.listen(port, '127.0.0.1', () => res()); });
  return s;
}

/** The stored bootstrap record of (shard, replica) in a closed host's directory. */
async function storedBootstrap(hostDir: string, shardId: number, replicaId: number): Promise<unknown> {
  const db = await WalLogDB.open({ dir: join(hostDir, 'wal') });
  try {
    return db.getBootstrap(shardId, replicaId);
  } finally {
    await db.close();
  }
}

test('NodeHost.create failing on a fresh directory (raft port in use) leaves it as it was; a used one keeps its data', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const [busy, free] = await freePorts(2) as [number, number];
  const holder = await holdPort(busy);
  try {
    const busyAddr = `127.0.0.1:${busy}`;
    // Absent, two levels deep, with a separate WAL directory also absent.
    const absent = join(c.dir, 'new', 'host');
    const wal = join(c.dir, 'wal-elsewhere', 'wal');
    await assert.rejects(NodeHost.create({ nodeHostDir: absent, walDir: wal, raftAddress: busyAddr }), { code: 'EADDRINUSE' });
    assert.ok(!existsSync(join(c.dir, 'new')), 'the absent directory and its created parent are gone');
    assert.ok(!existsSync(join(c.dir, 'wal-elsewhere')), 'the absent WAL directory is gone');
    // Present and empty: still empty.
    const empty = join(c.dir, 'empty');
    mkdirSync(empty);
    await assert.rejects(NodeHost.create({ nodeHostDir: empty, raftAddress: busyAddr }), { code: 'EADDRINUSE' });
    assert.deepEqual(readdirSync(empty), []);
    // The corrected retry (another raft address) is not refused as "belongs to raft address …".
    const nh = await NodeHost.create({ nodeHostDir: empty, raftAddress: `127.0.0.1:${free}`, rttMillisecond: 20 });
    await nh.startReplica(new Map([[1, `127.0.0.1:${free}`]]), false, kv, { shardId: 1, replicaId: 1 });
    await nh.close();
    const before = readdirSync(empty).sort();
    // A directory with data whose host fails to start keeps everything.
    holder.close();
    const holder2 = await holdPort(free);
    try {
      await assert.rejects(NodeHost.create({ nodeHostDir: empty, raftAddress: `127.0.0.1:${free}` }), { code: 'EADDRINUSE' });
    } finally {
      holder2.close();
    }
    assert.deepEqual(readdirSync(empty).sort(), before);
    assert.ok(before.includes('NODEHOST.json') && before.includes('wal'));
  } finally {
    holder.close();
    await c.closeAll();
  }
});

test('abandonFirstStart removes what a first start wrote, and only then', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    await c.startShard(1, [1]);
    assert.equal(await nh.abandonFirstStart(), true);
    assert.ok(!existsSync(c.hostDir(1)), 'the directory create made is gone');
    // A host of a directory that held data: abandoning just closes.
    await c.start(1);
    await c.startShard(1, [1]);
    await c.waitLeader(1, [1]);
    await c.get(1).propose(1, setCmd('a', 'b'));
    await c.get(1).close();
    const again = await c.start(1);
    assert.equal(await again.abandonFirstStart(), false);
    const back = await c.start(1);
    await c.startShard(1, [1], { members: [] });
    await c.waitLeader(1, [1]);
    assert.equal(await back.read(1, 'a'), 'b');
  } finally {
    await c.closeAll();
  }
});

test('a replica start that fails with no prior data leaves no bootstrap record or snapshot dir; the next start bootstraps', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    const members = c.members([1]);
    const snapDir = join(c.hostDir(1), 'snapshots', 'shard-1-replica-1');
    // The factory throws.
    await assert.rejects(nh.startReplica(members, false, () => { throw new Error('factory failed'); }, { shardId: 1, replicaId: 1 }), /factory failed/);
    // open() of an on-disk state machine rejects (after the snapshot dir was made).
    const failing = (): OnDiskStateMachine => Object.assign(new OnDiskKv({ map: [], index: 0 }), {
      open: () => Promise.reject(new Error('open failed')),
    });
    await assert.rejects(nh.startOnDiskReplica(members, false, failing, { shardId: 1, replicaId: 1 }), /open failed/);
    assert.ok(!existsSync(snapDir), 'the snapshot directory of the failed start is gone');
    // The host closes while open() is pending: the start fails with ClosedError, records nothing.
    let opened!: () => void;
    const slow = (): OnDiskStateMachine => Object.assign(new OnDiskKv({ map: [], index: 0 }), {
      open: () => new Promise<number>((res) => { opened = () => res(0); }),
    });
    const start = nh.startOnDiskReplica(members, false, slow, { shardId: 1, replicaId: 1 });
    while (opened === undefined) await new Promise((r) => setTimeout(r, 5));
    const closing = nh.close();
    opened();
    await rejectsWith(start, ClosedError, 'CLOSED');
    await closing;
    assert.equal(await storedBootstrap(c.hostDir(1), 1, 1), null);
    assert.ok(!existsSync(snapDir));
    // The next start with members takes the bootstrap path and elects itself.
    const again = await c.start(1);
    await c.startShard(1, [1]);
    await c.waitLeader(1, [1]);
    await again.propose(1, setCmd('k', 'v'));
    assert.equal(await again.read(1, 'k'), 'v');
  } finally {
    await c.closeAll();
  }
});

test('a failed start never removes a running replica\'s data (concurrent start, restart refused)', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    const members = c.members([1]);
    const [a, b] = await Promise.allSettled([
      nh.startReplica(members, false, kv, { shardId: 1, replicaId: 1 }),
      nh.startReplica(members, false, kv, { shardId: 1, replicaId: 1 }),
    ]);
    assert.equal(a.status, 'fulfilled');
    assert.ok(b.status === 'rejected' && b.reason instanceof ShardAlreadyExistsError, String(b.status));
    await c.waitLeader(1, [1]);
    await nh.propose(1, setCmd('x', 'y'));
    await nh.stopShard(1);
    // A restart with another state machine kind fails; the data it had stays.
    await rejectsWith(nh.startOnDiskReplica(new Map(), false, () => new OnDiskKv({ map: [], index: 0 }), { shardId: 1, replicaId: 1 }),
      InvalidOptionError, 'INVALID_OPTION');
    await nh.startReplica(new Map(), false, kv, { shardId: 1, replicaId: 1 });
    await c.waitLeader(1, [1]);
    assert.equal(await nh.read(1, 'x'), 'y');
  } finally {
    await c.closeAll();
  }
});

for (const withMembers of [false, true]) {
  test(`a bootstrap record without bootstrap entries (left by older versions) bootstraps again (${withMembers ? 'members given' : 'no members'})`, { timeout: 20000 }, async () => {
    const c = new HostCluster();
    try {
      // The state a first start that stopped before its bootstrap entries were written left.
      mkdirSync(c.hostDir(1), { recursive: true });
      const db = await WalLogDB.open({ dir: join(c.hostDir(1), 'wal') });
      await db.saveBootstrap(1, 1, { members: c.members([1]), join: false, smType: StateMachineType.Regular });
      await db.close();
      const nh = await c.start(1);
      await c.startShard(1, [1], { members: withMembers ? [1] : [] });
      await c.waitLeader(1, [1]);
      await nh.propose(1, setCmd('k', 'v'));
      assert.equal(await nh.read(1, 'k'), 'v');
      assert.deepEqual([...(await nh.getShardMembership(1)).voters.keys()], [1]);
    } finally {
      await c.closeAll();
    }
  });
}
