/**
 * Three NodeHosts over real TCP on 127.0.0.1 (the default TcpTransport), each with the WAL
 * LogDB in its own temporary directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeHost } from '../../src/host/nodehost.js';
import { retryDropped } from './support/assert.js';
import { closeWithin } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';
import { freePorts } from './support/ports.js';

/** Polls `fn` until true; fails after `ms`. */
async function until(fn: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('three hosts over TCP: election, proposals, follower reads, a follower and then the leader crash and restart', { timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-tcp-'));
  const ports = await freePorts(3);
  const addr = (i: number): string => `127.0.0.1:${ports[i - 1] as number}`;
  const members = new Map([1, 2, 3].map((i) => [i, addr(i)] as const));
  const hosts = new Map<number, NodeHost>();
  const created: NodeHost[] = [];
  const sms = new Map<string, KvStateMachine>();
  const startHost = async (i: number): Promise<NodeHost> => {
    const nh = await NodeHost.create({ nodeHostDir: join(dir, `host-${i}`), raftAddress: addr(i), rttMillisecond: 20 });
    created.push(nh);
    hosts.set(i, nh);
    return nh;
  };
  const startShard = async (i: number, shardId: number, initial: ReadonlyMap<number, string>): Promise<void> => {
    await (hosts.get(i) as NodeHost).startReplica(initial, false, () => {
      const sm = new KvStateMachine();
      sms.set(`${i}/${shardId}`, sm);
      return sm;
    }, { shardId, replicaId: i });
  };
  const h = (i: number): NodeHost => hosts.get(i) as NodeHost;
  const leaderOf = (shardId: number): number => {
    for (const [i, nh] of hosts) if (nh.getNodeHostInfo().shards.find((s) => s.shardId === shardId)?.isLeader) return i;
    return 0;
  };
  const known = (shardId: number, on: readonly number[]): boolean => {
    const l = leaderOf(shardId);
    return l !== 0 && on.every((i) => h(i).getLeaderId(shardId).leaderId === l);
  };
  try {
    for (const i of [1, 2, 3]) await startHost(i);
    for (const s of [1, 2]) for (const i of [1, 2, 3]) await startShard(i, s, members);
    for (const s of [1, 2]) await until(() => known(s, [1, 2, 3]), 10000, `a leader of shard ${s} over TCP`);
    assert.equal(h(1).raftAddress, addr(1));

    for (let k = 0; k < 15; k++) await retryDropped(() => h(1 + (k % 3)).propose(1 + (k % 2), setCmd(`k${k}`, String(k)), { timeoutMs: 3000 }));
    for (const i of [1, 2, 3]) {
      assert.equal(await retryDropped(() => h(i).read(1, 'k14')), '14');
      assert.equal(await retryDropped(() => h(i).read(2, 'k13')), '13');
    }

    // A follower of shard 1 crashes; the other two keep committing; it restarts and catches up.
    const leader = leaderOf(1);
    const f = [1, 2, 3].find((i) => i !== leader) as number;
    await h(f).close();
    hosts.delete(f);
    for (let k = 0; k < 10; k++) await retryDropped(() => h(leader).propose(1, setCmd(`f${k}`, String(k)), { timeoutMs: 3000 }));
    await startHost(f);
    for (const s of [1, 2]) await startShard(f, s, new Map());
    await until(() => sms.get(`${f}/1`)?.map.get('f9') === '9', 10000, 'the restarted follower catches up over TCP');
    assert.equal(await retryDropped(() => h(f).read(2, 'k13')), '13');

    // The leader of shard 1 crashes: another is elected and the data is all there.
    await h(leader).close();
    hosts.delete(leader);
    const rest = [1, 2, 3].filter((i) => i !== leader);
    await until(() => known(1, rest), 10000, 'a new leader over TCP');
    await retryDropped(() => h(rest[0] as number).propose(1, setCmd('after', 'crash'), { timeoutMs: 3000 }));
    for (const i of rest) {
      assert.equal(await retryDropped(() => h(i).read(1, 'after')), 'crash');
      assert.equal(await retryDropped(() => h(i).read(1, 'f0')), '0');
    }
  } finally {
    const hung: string[] = [];
    for (const nh of created) if (!await closeWithin(nh)) hung.push(nh.raftAddress);
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(hung, [], 'every close() resolved');
  }
});

test('connection events: established when a host reaches another, failed once when that host goes away', { timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-tcp-events-'));
  const ports = await freePorts(2);
  const addr = (i: number): string => `127.0.0.1:${ports[i - 1] as number}`;
  const members = new Map([1, 2].map((i) => [i, addr(i)] as const));
  const created: NodeHost[] = [];
  try {
    const hosts: NodeHost[] = [];
    for (const i of [1, 2]) {
      const nh = await NodeHost.create({ nodeHostDir: join(dir, `host-${i}`), raftAddress: addr(i), rttMillisecond: 20 });
      created.push(nh);
      hosts.push(nh);
    }
    const [h1, h2] = hosts as [NodeHost, NodeHost];
    const established: string[] = [];
    const failed: string[] = [];
    h1.on('connection:established', (e) => established.push(e.address));
    h1.on('connection:failed', (e) => failed.push(e.address));
    for (const [i, nh] of [[1, h1], [2, h2]] as const) {
      await nh.startReplica(members, false, () => new KvStateMachine(), { shardId: 1, replicaId: i });
    }
    await until(() => established.includes(addr(2)), 10000, 'host 1 connected to host 2');
    await closeWithin(h2, 10000);
    await until(() => failed.includes(addr(2)), 10000, 'host 1 saw the connection to host 2 fail');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(failed.filter((a) => a === addr(2)).length, 1, 'one failure event per outage, not one per retry');
  } finally {
    for (const nh of created) await closeWithin(nh, 10000);
    rmSync(dir, { recursive: true, force: true });
  }
});
