/**
 * Leader balancing and leader priority on three NodeHosts over the in-memory network: leadership
 * moves by transfers only (every new term is one transfer's), until no host leads more than
 * ⌈shards / hosts⌉; a replica of higher priority gets leadership back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import type { NodeHostConfig } from '../../src/host/config.js';

const HOSTS = [1, 2, 3];

function leadersPerHost(c: HostCluster): number[] {
  return HOSTS.map((i) => c.get(i).getNodeHostInfo().shards.filter((s) => s.isLeader).length);
}

/** Sum over every replica of terms and campaigns. */
function totals(c: HostCluster, shards: readonly number[]): { terms: number; campaigns: number } {
  let terms = 0;
  let campaigns = 0;
  for (const i of HOSTS) {
    for (const s of shards) terms += c.get(i).getLeaderId(s).term;
    for (const st of c.get(i).getStats().shards) campaigns += st.campaigns;
  }
  return { terms, campaigns };
}

async function startCluster(c: HostCluster, shards: readonly number[], host: Partial<NodeHostConfig> = {}): Promise<void> {
  for (const i of HOSTS) await c.start(i, host);
  for (const s of shards) await c.startShard(s, HOSTS);
  for (const s of shards) await c.waitLeader(s, HOSTS);
}

test('8 shards all led by one host spread to 2-3 leaders per host, by transfers only (no election)', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  const shards = [1, 2, 3, 4, 5, 6, 7, 8];
  try {
    await startCluster(c, shards);
    for (const s of shards) if (c.leaderOf(s) !== 1) await c.get(1).requestLeaderTransfer(s, 1, { timeoutMs: 3000 });
    await c.until(() => shards.every((s) => HOSTS.every((i) => c.get(i).getLeaderId(s).leaderId === 1)), 3000, 'host 1 leading all, known everywhere');
    assert.deepEqual(leadersPerHost(c), [8, 0, 0]);
    const moves: Array<{ shardId: number; reason: string }> = [];
    for (const i of HOSTS) c.get(i).on('leader:placement', (p) => moves.push(p));
    const before = totals(c, shards);
    const t0 = Date.now();
    await c.until(() => leadersPerHost(c).every((n) => n >= 2 && n <= 3), 20000, 'every host leading 2-3 shards');
    const took = Date.now() - t0;
    // Let any transfer under way land, then check every new term came from one.
    await c.until(() => HOSTS.every((i) => c.get(i).getStats().placement.transfers
      === c.get(i).getStats().placement.completed + c.get(i).getStats().placement.failed), 5000, 'transfers settled');
    await c.until(() => shards.every((s) => HOSTS.every((i) => c.get(i).getLeaderId(s).leaderId === c.get(c.leaderOf(s) || 1).getLeaderId(s).leaderId)), 3000, 'leaders known everywhere');
    const after = totals(c, shards);
    const completed = HOSTS.reduce((n, i) => n + c.get(i).getStats().placement.completed, 0);
    assert.ok(moves.length >= 5 && moves.every((m) => m.reason === 'balance'), `balancing moves: ${JSON.stringify(moves)}`);
    assert.equal(completed, moves.length - HOSTS.reduce((n, i) => n + c.get(i).getStats().placement.failed, 0));
    // Each completed transfer: one campaign (by its target) and one new term seen by 3 replicas.
    assert.equal(after.campaigns - before.campaigns, completed, 'no campaign but the transfers\' (no election)');
    assert.equal(after.terms - before.terms, 3 * completed, 'every new term is a transfer\'s');
    const counts = leadersPerHost(c);
    assert.ok(Math.max(...counts) <= 3, `leaders per host ${counts.join('/')}`);
    console.log(`# balanced 8/0/0 -> ${counts.join('/')} in ${took} ms with ${moves.length} transfers`);
  } finally {
    await c.closeAll();
  }
});

test('leaderBalancing: false leaves leadership where it is', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const shards = [1, 2, 3, 4];
  try {
    await startCluster(c, shards, { leaderBalancing: false });
    for (const s of shards) if (c.leaderOf(s) !== 1) await c.get(1).requestLeaderTransfer(s, 1, { timeoutMs: 3000 });
    await new Promise((r) => setTimeout(r, 2500)); // over 3 quiet periods at rttMillisecond 20
    assert.deepEqual(leadersPerHost(c), [4, 0, 0]);
    assert.equal(c.get(1).getStats().placement.transfers, 0);
  } finally {
    await c.closeAll();
  }
});

test('priority: the replica of highest priority gets leadership back by transfer; priority 0 never leads', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of HOSTS) await c.start(i, { leaderBalancing: false });
    await c.startShard(1, HOSTS, { config: { priorities: { 1: 0, 2: 1, 3: 2 } } });
    const first = await c.waitLeader(1, HOSTS);
    assert.notEqual(first, 1, 'priority 0 did not win the first election');
    await c.until(() => c.leaderOf(1) === 3, 5000, 'replica 3 (priority 2) leading');
    // Hand it to 2 by hand: placement hands it back to 3.
    await c.get(3).requestLeaderTransfer(1, 2, { timeoutMs: 3000 });
    const moves: Array<{ reason: string; target: number }> = [];
    c.get(2).on('leader:placement', (p) => moves.push(p));
    await c.until(() => c.leaderOf(1) === 3, 5000, 'leadership back on replica 3');
    assert.deepEqual(moves.map((m) => [m.reason, m.target]), [['priority', 3]]);
    // A transfer to priority 0 is abandoned: it never campaigns.
    await assert.rejects(c.get(3).requestLeaderTransfer(1, 1, { timeoutMs: 3000 }));
    assert.equal(c.leaderOf(1), 3);
    // Stopped 3: 2 leads (1 never does, it only votes).
    await c.crash(3);
    await c.until(() => c.leaderOf(1) === 2, 5000, 'replica 2 leading without 3');
    assert.equal(c.get(1).getStats().shards[0]?.campaigns, 0, 'replica 1 never campaigned');
  } finally {
    await c.closeAll();
  }
});
