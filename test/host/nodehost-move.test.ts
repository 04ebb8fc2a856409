/**
 * A host that restarts on a new address with the same directory rejoins its shards without
 * any membership change: three NodeHosts over real TCP on 127.0.0.1; a follower, then the
 * leader, is closed and started again on another port. Writes and linearizable reads succeed
 * through every host, the host id stays, and the old port (a plain TCP server counting
 * connections) is no longer dialled once the peers have learned the move.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeHost } from '../../src/host/nodehost.js';
import { retryDropped } from './support/assert.js';
import { closeWithin } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';
import { freePorts } from './support/ports.js';

async function until(fn: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A plain TCP server on a port that counts the connections made to it (and closes them). */
async function countingServer(port: number): Promise<{ count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = net.createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { count: () => n, close: () => new Promise((r) => server.close(() => r())) };
}

test('a host restarted on a new address (same directory) rejoins its shard; peers stop dialling the old one', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-move-'));
  const ports = await freePorts(5);
  const addr = (p: number): string => `127.0.0.1:${p}`;
  const at = new Map([1, 2, 3].map((i) => [i, addr(ports[i - 1]!)] as const));
  const spare = [addr(ports[3]!), addr(ports[4]!)];
  const members = new Map(at);
  const hosts = new Map<number, NodeHost>();
  const start = async (i: number, initial: ReadonlyMap<number, string>): Promise<NodeHost> => {
    const nh = await NodeHost.create({ nodeHostDir: join(dir, `host-${i}`), raftAddress: at.get(i)!, rttMillisecond: 20, transportStallTimeoutMs: 400 });
    hosts.set(i, nh);
    await nh.startReplica(initial, false, () => new KvStateMachine(), { shardId: 1, replicaId: i });
    return nh;
  };
  const h = (i: number): NodeHost => hosts.get(i)!;
  const leader = (): number => [...hosts].find(([, nh]) => nh.getNodeHostInfo().shards[0]?.isLeader === true)?.[0] ?? 0;
  let k = 0;
  const writeAndReadEverywhere = async (): Promise<void> => {
    for (const i of [1, 2, 3]) {
      const key = `k${k++}`;
      await retryDropped(() => h(i).propose(1, setCmd(key, String(i)), { timeoutMs: 5000 }));
      for (const j of [1, 2, 3]) assert.equal(await retryDropped(() => h(j).read(1, key, { timeoutMs: 5000 })), String(i));
    }
  };
  try {
    for (const i of [1, 2, 3]) await start(i, members);
    await until(() => leader() !== 0, 10000, 'a leader');
    await writeAndReadEverywhere();
    const ids = new Map([1, 2, 3].map((i) => [i, h(i).getNodeHostInfo().nodeHostId] as const));
    assert.ok([...ids.values()].every((id) => /^[0-9a-f]{16}$/.test(id)));
    assert.equal(new Set(ids.values()).size, 3);

    // First a follower moves, then the leader.
    for (const pick of [() => [1, 2, 3].find((i) => i !== leader())!, leader]) {
      const i = pick();
      const old = at.get(i)!;
      assert.ok(await closeWithin(h(i), 5000));
      hosts.delete(i);
      const oldPort = Number(old.split(':')[1]);
      const counter = await countingServer(oldPort);
      try {
        at.set(i, spare.shift()!);
        // No initial members (a resume), no membership change: the shard still lists the old address.
        await start(i, new Map());
        assert.equal(h(i).raftAddress, at.get(i));
        assert.equal(h(i).getNodeHostInfo().nodeHostId, ids.get(i), 'the host id survives the move');
        await until(() => leader() !== 0, 10000, 'a leader after the move');
        await writeAndReadEverywhere();
        assert.equal(h(i).getNodeHostInfo().shards[0]!.membership.voters.get(i), members.get(i), 'membership unchanged');
        // Every peer has stopped dialling the old address: no connection for a while, and no remote left for it.
        await until(() => [...hosts.values()].every((nh) => nh.getStats().remotes.every((r) => r.address !== old)), 5000, 'peers forget the old address');
        const seen = counter.count();
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(counter.count(), seen, `no connection to the old address ${old} once the move is known`);
      } finally {
        await counter.close();
      }
    }
    await writeAndReadEverywhere();
    const identity = JSON.parse(readFileSync(join(dir, 'host-1', 'NODEHOST.json'), 'utf8')) as { hostId: string };
    assert.equal(identity.hostId, ids.get(1));
  } finally {
    await Promise.all([...hosts.values()].map((nh) => closeWithin(nh, 5000)));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('membership may name hosts by id (nhid-…): a shard bootstrapped that way routes through the host registry', { timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-nhid-'));
  const ports = await freePorts(3);
  const addrOf = (i: number): string => `127.0.0.1:${ports[i - 1]!}`;
  const hosts = new Map<number, NodeHost>();
  try {
    for (const i of [1, 2, 3]) hosts.set(i, await NodeHost.create({ nodeHostDir: join(dir, `h${i}`), raftAddress: addrOf(i), rttMillisecond: 20 }));
    const h = (i: number): NodeHost => hosts.get(i)!;
    // Shard 1 by address: the hosts meet (handshakes) and learn each other's ids.
    const byAddress = new Map([1, 2, 3].map((i) => [i, addrOf(i)] as const));
    for (const i of [1, 2, 3]) await h(i).startReplica(byAddress, false, () => new KvStateMachine(), { shardId: 1, replicaId: i });
    await retryDropped(() => h(1).propose(1, setCmd('a', '1'), { timeoutMs: 5000 }));
    // Shard 2 names its members by host id only.
    const byId = new Map([1, 2, 3].map((i) => [i, `nhid-${h(i).getNodeHostInfo().nodeHostId}`] as const));
    for (const i of [1, 2, 3]) await h(i).startReplica(byId, false, () => new KvStateMachine(), { shardId: 2, replicaId: i });
    for (const i of [1, 2, 3]) {
      await retryDropped(() => h(i).propose(2, setCmd(`b${i}`, String(i)), { timeoutMs: 5000 }));
      for (const j of [1, 2, 3]) assert.equal(await retryDropped(() => h(j).read(2, `b${i}`, { timeoutMs: 5000 })), String(i));
    }
    const m = h(1).getNodeHostInfo().shards.find((s) => s.shardId === 2)!.membership;
    assert.deepEqual([...m.voters], [...byId]);
    // A host's own entry may be its id; another host's id in its place is refused like another address.
    await assert.rejects(h(1).startReplica(new Map([[1, byId.get(2)!], [2, byId.get(1)!]]), false, () => new KvStateMachine(), { shardId: 3, replicaId: 1 }),
      /initial members list replica 1 at nhid-/);
  } finally {
    await Promise.all([...hosts.values()].map((nh) => closeWithin(nh, 5000)));
    rmSync(dir, { recursive: true, force: true });
  }
});
