/**
 * SNAPSHOTS.md §6: a follower that was stopped while the leader compacted past it catches up
 * by snapshot — for regular and concurrent state machines whose snapshots carry an external
 * file (the follower's recoverFromSnapshot sees the file with the leader's contents), and for
 * an on-disk state machine (the leader streams a full image of its live state). Then the same
 * over real TCP, with small chunks so the files cross in many pieces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { HostCluster } from './support/cluster.js';
import { OnDiskKv, setCmd } from './support/kv.js';
import { retryDropped } from './support/assert.js';
import { freePorts } from './support/ports.js';
import {
  ConcurrentFileKv, EXTERNAL_FILE_ID, FileKv, finalIndexes, snapshotDirOf, snapshotEntries, tempNames, until,
} from './support/snapshot-sm.js';
import { NodeHost } from '../../src/host/nodehost.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { dataFileName, finalDirName } from '../../src/snapshot/snapshot-names.js';

type Kind = 'regular' | 'concurrent' | 'on-disk';
type Disk = { map: Array<[string, string]>; index: number };
type AnyKv = FileKv | ConcurrentFileKv | OnDiskKv;

const VALUE = 'v'.repeat(100);

function mapOf(sm: AnyKv, disk: Disk | undefined): Map<string, string> {
  if (sm instanceof OnDiskKv) return new Map(disk?.map ?? []);
  return new Map(sm.map);
}

async function catchUp(kind: Kind): Promise<void> {
  const c = new HostCluster();
  try {
    const sms = new Map<number, AnyKv>();
    const disks = new Map<number, Disk>();
    const received = new Map<number, Array<{ index: number; from: number }>>();
    const recovered = new Map<number, number[]>();
    const cfg = (i: number): { shardId: number; replicaId: number; electionRTT: number; compactionOverhead: number } =>
      ({ shardId: 1, replicaId: i, electionRTT: 20, compactionOverhead: 2 });
    const startOn = async (i: number, members: ReadonlyMap<number, string>): Promise<void> => {
      const nh = c.get(i);
      const scratch = join(c.dir, `sm-files-${i}`);
      if (kind === 'regular') await nh.startReplica(members, false, () => { const sm = new FileKv(scratch); sms.set(i, sm); return sm; }, cfg(i));
      else if (kind === 'concurrent') await nh.startConcurrentReplica(members, false, () => { const sm = new ConcurrentFileKv(scratch); sms.set(i, sm); return sm; }, cfg(i));
      else {
        if (!disks.has(i)) disks.set(i, { map: [], index: 0 });
        await nh.startOnDiskReplica(members, false, () => { const sm = new OnDiskKv(disks.get(i) as Disk); sms.set(i, sm); return sm; }, cfg(i));
      }
    };
    for (const i of [1, 2, 3]) {
      const nh = await c.start(i);
      received.set(i, []);
      recovered.set(i, []);
      nh.on('snapshot:received', (e) => received.get(i)?.push({ index: e.index, from: e.from }));
      nh.on('snapshot:recovered', (e) => recovered.get(i)?.push(e.index));
      await startOn(i, c.members([1, 2, 3]));
    }
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const l = c.get(leader);
    const f = [1, 2, 3].find((i) => i !== leader) as number;
    for (let k = 0; k < 5; k++) await l.propose(1, setCmd(`early${k}`, VALUE));
    await until(() => c.applied(f, 1) >= c.applied(leader, 1), 3000, 'follower has the early entries');
    const followerAt = c.applied(f, 1);
    await c.get(f).stopShard(1);

    for (let k = 0; k < 40; k++) await l.propose(1, setCmd(`k${k}`, VALUE));
    const snap = await l.requestSnapshot(1);
    const first = l.getNodeHostInfo().shards[0]?.firstLogIndex ?? 0;
    assert.ok(first > followerAt + 1, `leader compacted past the follower: first ${first}, follower at ${followerAt}`);
    if (kind === 'on-disk') {
      // The leader's own snapshot of an on-disk state machine is metadata only.
      const own = statSync(join(snapshotDirOf(c.hostDir(leader), 1, leader), finalDirName(snap), dataFileName(snap))).size;
      assert.ok(own < 40 * VALUE.length, `on-disk local snapshot holds no data (${own} bytes)`);
    }

    await startOn(f, new Map());
    const fsm = sms.get(f) as AnyKv;
    await until(() => mapOf(fsm, disks.get(f)).get('k39') === VALUE, 8000, `${kind}: follower caught up`);
    const got = received.get(f) ?? [];
    assert.ok(got.length >= 1, `${kind}: the follower received a snapshot`);
    const rx = got[0] as { index: number; from: number };
    assert.ok(rx.index >= snap, `${kind}: received snapshot ${rx.index} >= leader's ${snap}`);
    assert.equal(rx.from, c.get(leader).getNodeHostInfo().shards[0]?.replicaId);
    assert.ok((recovered.get(f) ?? []).includes(rx.index), `${kind}: recovered from the received snapshot`);
    // The follower's snapshot directory holds the received snapshot, committed, no temp dir.
    await until(() => tempNames(snapshotEntries(c.hostDir(f), 1, f)).length === 0, 2000, 'no temp dirs on the follower');
    assert.ok(finalIndexes(snapshotEntries(c.hostDir(f), 1, f)).includes(rx.index));

    if (fsm instanceof OnDiskKv) {
      // A full image of the leader's live state crossed: the received data file holds the map.
      const img = statSync(join(snapshotDirOf(c.hostDir(f), 1, f), finalDirName(rx.index), dataFileName(rx.index))).size;
      assert.ok(img > 40 * VALUE.length, `the streamed image holds the data (${img} bytes)`);
      assert.ok(fsm.applied.every((i) => i > rx.index), 'entries under the image were not replayed');
      // The leader's temporary image is removed once the stream ends.
      const streams = join(snapshotDirOf(c.hostDir(leader), 1, leader), 'streams');
      await until(() => !existsSync(streams) || readdirSync(streams).length === 0, 3000, 'leader stream image removed');
    } else {
      const rec = fsm.recoveries.at(-1);
      assert.ok(rec !== undefined, `${kind}: recoverFromSnapshot was called`);
      assert.equal(rec.files.length, 1);
      const file = rec.files[0] as { fileId: number; content: string; metadata: string; path: string };
      assert.equal(file.fileId, EXTERNAL_FILE_ID);
      const content = new Map(JSON.parse(file.content) as Array<[string, string]>);
      assert.equal(file.metadata, `keys=${content.size}`);
      assert.ok(content.size >= 45 && content.get('k39') === VALUE && content.get('early0') === VALUE, `${kind}: file holds the leader's state`);
      assert.equal(dirname(file.path), join(snapshotDirOf(c.hostDir(f), 1, f), finalDirName(rx.index)), 'the file is in the follower\'s snapshot dir');
      // Its own log (up to where it stopped) may be replayed at restart; nothing the leader
      // compacted reached update: that state came from the snapshot.
      assert.ok(fsm.applied.every((i) => i <= followerAt || i > rx.index), `entries under the snapshot were not replayed: ${fsm.applied.join(',')}`);
    }
    // It keeps up from the log afterwards, and ends with the leader's state.
    await l.propose(1, setCmd('after', 'snapshot'));
    await until(() => mapOf(fsm, disks.get(f)).get('after') === 'snapshot', 5000, `${kind}: follower follows the log`);
    assert.deepEqual(mapOf(fsm, disks.get(f)), mapOf(sms.get(leader) as AnyKv, disks.get(leader)));
    assert.ok((c.get(f).getNodeHostInfo().shards[0]?.snapshotIndex ?? 0) >= rx.index);
  } finally {
    await c.closeAll();
  }
}

test('§6 follower catch-up by snapshot: regular state machine with an external file', async () => {
  await catchUp('regular');
});

test('§6 follower catch-up by snapshot: concurrent state machine with an external file', async () => {
  await catchUp('concurrent');
});

test('§6 follower catch-up by snapshot: on-disk state machine (full image streamed from live state)', async () => {
  await catchUp('on-disk');
});

test('§6 follower catch-up by snapshot over real TCP, in chunks (regular state machine with an external file)', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-snap-tcp-'));
  const ports = await freePorts(3);
  const addr = (i: number): string => `127.0.0.1:${ports[i - 1] as number}`;
  const members = new Map([1, 2, 3].map((i) => [i, addr(i)] as const));
  const hosts = new Map<number, NodeHost>();
  const transports = new Map<number, TcpTransport>();
  const created: NodeHost[] = [];
  const sms = new Map<number, FileKv>();
  const received = new Map<number, number[]>();
  const CHUNK = 16 * 1024;
  const h = (i: number): NodeHost => hosts.get(i) as NodeHost;
  const startReplica = async (i: number, m: ReadonlyMap<number, string>): Promise<void> => {
    await h(i).startReplica(m, false, () => { const sm = new FileKv(join(dir, `sm-${i}`)); sms.set(i, sm); return sm; },
      { shardId: 1, replicaId: i, electionRTT: 20, compactionOverhead: 2 });
  };
  try {
    for (const i of [1, 2, 3]) {
      const nh = await NodeHost.create({
        nodeHostDir: join(dir, `host-${i}`), raftAddress: addr(i), rttMillisecond: 20,
        transportFactory: (handler) => {
          const t = new TcpTransport({ listenAddress: addr(i), advertiseAddress: addr(i), deploymentId: 0, handler, snapshotChunkSize: CHUNK });
          transports.set(i, t);
          return t;
        },
      });
      created.push(nh);
      hosts.set(i, nh);
      received.set(i, []);
      nh.on('snapshot:received', (e) => received.get(i)?.push(e.index));
      await startReplica(i, members);
    }
    const leaderOf = (): number => [...hosts].find(([, nh]) => nh.getNodeHostInfo().shards[0]?.isLeader)?.[0] ?? 0;
    await until(() => leaderOf() !== 0 && [1, 2, 3].every((i) => h(i).getLeaderId(1).leaderId === leaderOf()), 10_000, 'a leader over TCP');
    const leader = leaderOf();
    const f = [1, 2, 3].find((i) => i !== leader) as number;
    await h(f).stopShard(1);
    const big = 'z'.repeat(1000);
    for (let k = 0; k < 200; k++) await retryDropped(() => h(leader).propose(1, setCmd(`k${k}`, big), { timeoutMs: 3000 }));
    const snap = await h(leader).requestSnapshot(1);
    const sentBefore = transports.get(leader)?.stats().snapshotsSent ?? 0;
    await startReplica(f, new Map());
    await until(() => sms.get(f)?.map.get('k199') === big, 15_000, 'the TCP follower caught up');
    assert.ok((received.get(f) ?? []).some((i) => i >= snap), 'the follower received the snapshot');
    assert.ok((transports.get(leader)?.stats().snapshotsSent ?? 0) > sentBefore, 'sent as a snapshot stream');
    const rec = sms.get(f)?.recoveries.at(-1);
    assert.ok(rec !== undefined);
    const file = rec.files[0];
    assert.ok(file !== undefined && file.content.length > 10 * CHUNK, `the external file spans many ${CHUNK}-byte chunks (${file?.content.length})`);
    assert.equal(new Map(JSON.parse(file.content) as Array<[string, string]>).get('k150'), big);
    assert.equal(sms.get(f)?.map.size, 200);
  } finally {
    for (const nh of created) await nh.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
