/**
 * The chaos judge's state-hash check against a stand-in cluster: one marker per shard through
 * `POST /admin/verify`, then each member's `/status`. Equal hashes pass; a replica whose hash
 * differs at the marker's index is a problem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChaosCluster, Status } from '../../tools/chaos/cluster.js';
import { sameStateHash } from '../../tools/chaos/state-hash-judge.js';

async function verifyServer(): Promise<{ server: Server; addr: string; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    calls.push(`${req.method ?? ''} ${req.url ?? ''}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ index: 7, hash: '00000000000000aa' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, addr: `127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

function fakeCluster(addr: string, hashes: Record<number, { index: number; hash: string } | null>): ChaosCluster {
  const status = (id: number): Status => ({
    shards: [{ shardId: 1, leaderId: 1, term: 2, commitIndex: 7, appliedIndex: 7, isLeader: id === 1, membership: { voters: {} }, stateHash: hashes[id] ?? null }],
  });
  return {
    members: [1, 2, 3],
    node: () => ({ httpAddr: addr }),
    status: async (id: number) => status(id),
  } as unknown as ChaosCluster;
}

test('sameStateHash: equal hashes at the marker pass; a different one is a problem naming every replica\'s hash', async () => {
  const { server, addr, calls } = await verifyServer();
  try {
    const same = { index: 7, hash: '00000000000000aa' };
    const ok: string[] = [];
    const notes: Array<Record<string, unknown>> = [];
    await sameStateHash(fakeCluster(addr, { 1: same, 2: same, 3: same }), 1, ok, (e) => notes.push(e));
    assert.deepEqual(ok, []);
    assert.deepEqual(calls, ['POST /admin/verify?shard=1']);
    assert.equal(notes[0]?.['event'], 'state-hash');
    const bad: string[] = [];
    await sameStateHash(fakeCluster(addr, { 1: same, 2: same, 3: { index: 7, hash: '00000000000000bb' } }), 1, bad, () => {});
    assert.equal(bad.length, 1);
    assert.match(bad[0] ?? '', /state hashes differ at index 7: 1=0+aa 2=0+aa 3=0+bb/);
  } finally {
    server.close();
  }
});
