/**
 * Issue 19: a follower catching up from a snapshot receives it once. The receiver used to
 * acknowledge a stream as soon as the last byte was written, before the snapshot was committed
 * and handed to the follower's replica; the leader, told the stream succeeded, probed the
 * follower at the next heartbeat, the follower (not yet holding the snapshot) rejected the probe
 * with its old last index, and the leader, finding that compacted, streamed the whole snapshot
 * again. Now the acknowledgement waits for the commit and the hand-over, as etcd's receiver
 * answers only after stepping the snapshot into raft.
 *
 * Real TCP; the follower's commit is made slow (its rename of the received directory waits
 * 300 ms, fifteen heartbeat intervals) so the window the leader used to fall into is wide.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setCmd } from './support/kv.js';
import { retryDropped } from './support/assert.js';
import { freePorts } from './support/ports.js';
import { FileKv, until } from './support/snapshot-sm.js';
import { NodeHost } from '../../src/host/nodehost.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { realFileSystem, realRuntime, type FileSystem, type Runtime } from '../../src/runtime/index.js';

/** The real file system, with renames of a received snapshot directory held back `ms`. */
function slowCommitFs(ms: number): FileSystem {
  const promises = new Proxy(realFileSystem.promises, {
    get(target, prop, receiver) {
      if (prop !== 'rename') return Reflect.get(target, prop, receiver) as unknown;
      return async (from: string, to: string): Promise<void> => {
        if (from.endsWith('.receiving')) await new Promise((r) => setTimeout(r, ms));
        return target.rename(from, to);
      };
    },
  });
  return new Proxy(realFileSystem, {
    get(target, prop, receiver) {
      return prop === 'promises' ? promises : Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

test('a follower catching up over TCP receives the snapshot once, though its commit is slow', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-snap-once-'));
  const ports = await freePorts(3);
  const addr = (i: number): string => `127.0.0.1:${ports[i - 1] as number}`;
  const members = new Map([1, 2, 3].map((i) => [i, addr(i)] as const));
  const hosts = new Map<number, NodeHost>();
  const transports = new Map<number, TcpTransport>();
  const created: NodeHost[] = [];
  const sms = new Map<number, FileKv>();
  const received = new Map<number, number[]>();
  const h = (i: number): NodeHost => hosts.get(i) as NodeHost;
  const startReplica = async (i: number, m: ReadonlyMap<number, string>): Promise<void> => {
    await h(i).startReplica(m, false, () => { const sm = new FileKv(join(dir, `sm-${i}`)); sms.set(i, sm); return sm; },
      { shardId: 1, replicaId: i, electionRTT: 20, heartbeatRTT: 1, compactionOverhead: 2 });
  };
  const runtime: Runtime = { ...realRuntime, fs: slowCommitFs(300) };
  try {
    for (const i of [1, 2, 3]) {
      const nh = await NodeHost.create({
        nodeHostDir: join(dir, `host-${i}`), raftAddress: addr(i), rttMillisecond: 20, runtime,
        transportFactory: (handler) => {
          const t = new TcpTransport({ listenAddress: addr(i), advertiseAddress: addr(i), deploymentId: 0, handler, runtime });
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
    for (let k = 0; k < 100; k++) await retryDropped(() => h(leader).propose(1, setCmd(`k${k}`, big), { timeoutMs: 3000 }));
    const snap = await h(leader).requestSnapshot(1);
    const lt = transports.get(leader) as TcpTransport;
    const ft = transports.get(f) as TcpTransport;
    const sentBefore = lt.stats().snapshotsSent;
    const receivedBefore = ft.stats().snapshotsReceived;
    await startReplica(f, new Map());
    await until(() => sms.get(f)?.map.get('k99') === big, 15_000, 'the follower caught up');
    // Let a second stream, if the leader started one, show itself: a few heartbeats.
    await h(leader).propose(1, setCmd('after', 'x'));
    await until(() => sms.get(f)?.map.get('after') === 'x', 5000, 'the follower follows the log');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok((received.get(f) ?? []).some((i) => i >= snap), 'the follower received the snapshot');
    assert.equal(lt.stats().snapshotsSent - sentBefore, 1, 'the leader streamed the snapshot once');
    assert.equal(ft.stats().snapshotsReceived - receivedBefore, 1, 'the follower took in one stream');
    assert.equal(lt.stats().snapshotFailures, 0, 'no stream failed');
    assert.equal((received.get(f) ?? []).length, 1, 'one snapshot:received event');
  } finally {
    for (const nh of created) await nh.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
