/**
 * Issue 19: a follower checks a snapshot's data file in flight (its block checksums and the
 * checksum the leader recorded), so a snapshot damaged on the leader's disk is refused by the
 * stream itself — the leader sees the refusal — and the follower never commits or installs it.
 * Three NodeHosts over real TCP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setCmd } from './support/kv.js';
import { retryDropped } from './support/assert.js';
import { freePorts } from './support/ports.js';
import { FileKv, snapshotDirOf, until } from './support/snapshot-sm.js';
import { NodeHost } from '../../src/host/nodehost.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { dataFileName, finalDirName } from '../../src/snapshot/snapshot-names.js';

test('a snapshot damaged on the leader is refused in flight: the stream fails, the follower installs nothing', { timeout: 45_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-snap-check-'));
  const ports = await freePorts(3);
  const addr = (i: number): string => `127.0.0.1:${ports[i - 1] as number}`;
  const members = new Map([1, 2, 3].map((i) => [i, addr(i)] as const));
  const hosts = new Map<number, NodeHost>();
  const transports = new Map<number, TcpTransport>();
  const sms = new Map<number, FileKv>();
  const received: number[] = [];
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
          const t = new TcpTransport({ listenAddress: addr(i), advertiseAddress: addr(i), deploymentId: 0, handler, snapshotChunkSize: 16 * 1024 });
          transports.set(i, t);
          return t;
        },
      });
      hosts.set(i, nh);
      nh.on('snapshot:received', (e) => received.push(e.index));
      await startReplica(i, members);
    }
    const leaderOf = (): number => [...hosts].find(([, nh]) => nh.getNodeHostInfo().shards[0]?.isLeader)?.[0] ?? 0;
    await until(() => leaderOf() !== 0 && [1, 2, 3].every((i) => h(i).getLeaderId(1).leaderId === leaderOf()), 10_000, 'a leader over TCP');
    const leader = leaderOf();
    const f = [1, 2, 3].find((i) => i !== leader) as number;
    await h(f).stopShard(1);
    for (let k = 0; k < 100; k++) await retryDropped(() => h(leader).propose(1, setCmd(`k${k}`, 'z'.repeat(1000)), { timeoutMs: 3000 }));
    const index = await h(leader).requestSnapshot(1);
    // One flipped byte in the middle of the leader's data file (bit rot after it was saved).
    const file = join(snapshotDirOf(join(dir, `host-${leader}`), 1, leader), finalDirName(index), dataFileName(index));
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from([0x5a]), 0, 1, Math.floor(statSync(file).size / 2));
    closeSync(fd);
    const lt = transports.get(leader) as TcpTransport;
    const failedBefore = lt.stats().snapshotFailures;
    await startReplica(f, new Map());
    await until(() => lt.stats().snapshotFailures > failedBefore, 20_000, 'the leader sees the stream refused');
    assert.equal(lt.stats().snapshotsSent, 0, 'no stream of the damaged snapshot completed');
    assert.ok((transports.get(f) as TcpTransport).stats().snapshotFailures >= 1, 'the follower failed the stream');
    assert.deepEqual(received, [], 'the follower committed nothing');
    assert.equal(sms.get(f)?.recoveries.length ?? 0, 0, 'the follower installed nothing');
  } finally {
    for (const nh of hosts.values()) await nh.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
