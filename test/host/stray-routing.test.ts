/**
 * A stray replica of another cluster (same deployment, same shard and replica ids, other
 * members: a misconfigured bootstrap) that sends vote requests to a healthy cluster's hosts
 * over real TCP must not take over the routing of the replica id it claims: the healthy
 * cluster's own replica with that id keeps receiving its leader's messages and applying.
 * (The host registry learns "replica → the host it was last heard from" only from traffic of
 * the receiving replica's own cluster.)
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

async function until(fn: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a stray replica of another cluster claiming a member\'s id does not divert that member\'s traffic', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-stray-'));
  const ports = await freePorts(4);
  const addr = (p: number): string => `127.0.0.1:${p}`;
  const members = new Map([1, 2, 3].map((i) => [i, addr(ports[i - 1]!)] as const));
  const hosts: NodeHost[] = [];
  const sms = new Map<number, KvStateMachine>();
  try {
    for (const i of [1, 2, 3]) {
      const nh = await NodeHost.create({ nodeHostDir: join(dir, `host-${i}`), raftAddress: members.get(i)!, rttMillisecond: 20 });
      hosts.push(nh);
      await nh.startReplica(members, false, () => { const sm = new KvStateMachine(); sms.set(i, sm); return sm; }, { shardId: 1, replicaId: i });
    }
    const leaderIdx = (): number => hosts.findIndex((h) => h.getNodeHostInfo().shards[0]?.isLeader === true);
    await until(() => leaderIdx() >= 0, 10000, 'a leader');
    // Make replica 1 a follower, so that it depends on the leader reaching it.
    if (leaderIdx() === 0) await hosts[0]!.requestLeaderTransfer(1, 2);
    await until(() => leaderIdx() > 0, 10000, 'a leader other than replica 1');
    await retryDropped(() => hosts[leaderIdx()]!.propose(1, setCmd('before', 'stray'), { timeoutMs: 5000 }));

    // The stray: replica 1 of shard 1 at another address, listing hosts 2 and 3 as its peers.
    const strayAt = addr(ports[3]!);
    const stray = await NodeHost.create({ nodeHostDir: join(dir, 'stray'), raftAddress: strayAt, rttMillisecond: 20 });
    hosts.push(stray);
    await stray.startReplica(new Map([[1, strayAt], [2, members.get(2)!], [3, members.get(3)!]]), false, () => new KvStateMachine(), { shardId: 1, replicaId: 1 });
    // Several of its election timeouts: its vote requests reach hosts 2 and 3 (and are refused).
    await until(() => (hosts[1]!.getNodeHostInfo().shards[0]?.identityMismatches ?? 0) + (hosts[2]!.getNodeHostInfo().shards[0]?.identityMismatches ?? 0) >= 2,
      10000, 'the stray\'s traffic reached the cluster');
    for (let k = 0; k < 10; k++) {
      await retryDropped(() => hosts[leaderIdx()]!.propose(1, setCmd(`k${k}`, String(k)), { timeoutMs: 5000 }));
    }
    // Replica 1 (the healthy one) still gets its leader's messages and applies every write.
    await until(() => sms.get(1)?.map.get('k9') === '9', 5000, 'replica 1 applies the writes made after the stray appeared');
    assert.equal(hosts[0]!.getNodeHostInfo().shards[0]?.identityConflict, null);
    // Nothing of the healthy cluster's was routed to the stray's host.
    for (const h of hosts.slice(0, 3)) {
      const toStray = h.getStats().remotes.find((r) => r.address === strayAt);
      assert.equal(toStray?.messagesSent ?? 0, 0, `${h.getNodeHostInfo().raftAddress} sent ${toStray?.messagesSent} messages to the stray`);
    }
  } finally {
    for (const h of hosts) await closeWithin(h, 5000);
    rmSync(dir, { recursive: true, force: true });
  }
});
