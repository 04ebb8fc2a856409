/**
 * How long a follower cut off by a silent partition takes to serve again once the network
 * heals. Three `sampan kv` processes behind the chaos proxies; a follower is blackholed from
 * both others (bytes and closes discarded both ways, the TCP connections left open, as a
 * firewall's drop would); the leader writes a new value meanwhile; after the cut the network
 * heals and the follower is asked for a linearizable read every 50 ms (each request bounded)
 * until one returns the value written during the cut. Also collected: what the leader's
 * metrics and log said about the follower during the cut.
 */
import { rmSync } from 'node:fs';
import { ChaosCluster } from './cluster.js';
import { send, sleep } from './http-client.js';
import { cutsBetween } from './network.js';

/** Settings of one measurement. */
export interface PartitionHealOptions {
  /** How long the follower is cut off (ms). */
  readonly cutMs: number;
  /** Milliseconds per Raft tick of the replicas (`--rtt-ms`). Default 50. */
  readonly rttMs?: number;
  /** Give up waiting for the follower after the heal after this long (ms). Default 60000. */
  readonly giveUpMs?: number;
  /** Progress lines (default: none). */
  readonly say?: (line: string) => void;
  /** Keep the replicas' data and logs (default: removed). */
  readonly keep?: boolean;
}

/** What one measurement found. */
export interface PartitionHealResult {
  readonly cutMs: number;
  /** From the heal to the follower's first linearizable read of the value written during the cut; null if it never came. */
  readonly healToServeMs: number | null;
  /** `sampan_transport_remote_connected` on the leader for the follower, sampled near the end of the cut. */
  readonly leaderConnectedDuringCut: number | null;
  /** `sampan_transport_remote_connection_stalls_total` on the leader for the follower, sampled near the end of the cut. */
  readonly leaderStallsDuringCut: number | null;
  /** The leader's log lines that name the follower's address and say it stalled, up to the heal. */
  readonly leaderStallWarnings: readonly string[];
  /** The follower's own warnings about the leader's address, up to the heal. */
  readonly followerStallWarnings: readonly string[];
  /** Where the replicas' data were (removed unless `keep`). */
  readonly dir: string;
}

/** One metric's value for a label set, from a Prometheus exposition; null if absent. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number | null {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.indexOf('}');
    const got = line.slice(name.length + 1, close).split(',');
    if (want.every((w) => got.includes(w))) return Number(line.slice(close + 1).trim());
  }
  return null;
}

const stallLines = (log: string, address: string): string[] =>
  log.split('\n').filter((l) => l.startsWith('warn ') && l.includes('stalled') && l.includes(`"remote":"${address}"`));

/**
 * Runs one measurement on a fresh cluster and shuts it down.
 * @throws if the cluster does not start, or no leader or write succeeds before the cut
 */
export async function measurePartitionHeal(o: PartitionHealOptions): Promise<PartitionHealResult> {
  const say = o.say ?? (() => {});
  const problems: string[] = [];
  const cluster = new ChaosCluster({
    shards: 1, rttMs: o.rttMs ?? 50, snapshotEntries: 0, stateMachine: 'memory',
    onUnexpectedExit: (id, code, err) => problems.push(`replica ${id} exited (${String(code)}): ${err.trim().split('\n').slice(-2).join(' | ')}`),
    onPortRetry: () => {},
  });
  try {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(await cluster.create());
    for (const id of ids) cluster.addMember(id);
    for (const id of ids) cluster.start(id, ['--initial-members', cluster.membersFlag(ids)]);
    for (const id of ids) {
      if (!(await cluster.ready(id, 60_000))) throw new Error(`replica ${id} not ready: ${problems.join('; ')}`);
    }
    const leader = await cluster.leaderOf(1);
    if (leader === 0) throw new Error('no leader');
    const follower = ids.find((id) => id !== leader)!;
    const others = ids.filter((id) => id !== follower);
    const put = async (value: string): Promise<void> => {
      for (let i = 0; i < 50; i++) {
        const a = await send(cluster.node(leader).httpAddr, 'PUT', '/kv/heal', value, 3000);
        if (a.status === 200) return;
        await sleep(100);
      }
      throw new Error(`PUT ${value} failed on the leader`);
    };
    await put('before');
    // Let every connection carry traffic (and answer pings) before the cut.
    await sleep(1000);

    say(`  cutting replica ${follower} (a follower) off from ${others.join(',')} for ${o.cutMs} ms (blackhole); leader ${leader}`);
    cluster.net.cut(cutsBetween([follower], others), 'blackhole');
    const cutAt = Date.now();
    await put('during');
    await sleep(Math.max(0, o.cutMs - 1000 - (Date.now() - cutAt)));
    const metrics = await send(cluster.node(leader).httpAddr, 'GET', '/metrics', undefined, 2000);
    const remote = { remote: cluster.node(follower).raft };
    const leaderConnectedDuringCut = metricValue(metrics.text, 'sampan_transport_remote_connected', remote);
    const leaderStallsDuringCut = metricValue(metrics.text, 'sampan_transport_remote_connection_stalls_total', remote);
    await sleep(Math.max(0, o.cutMs - (Date.now() - cutAt)));
    const leaderLog = cluster.node(leader).child?.err ?? '';
    const followerLog = cluster.node(follower).child?.err ?? '';
    cluster.net.heal();
    const healedAt = Date.now();
    say(`  healed after ${healedAt - cutAt} ms; asking replica ${follower} for a linearizable read`);

    const giveUp = healedAt + (o.giveUpMs ?? 60_000);
    let servedAt: number | null = null;
    const pending = new Set<Promise<void>>();
    while (servedAt === null && Date.now() < giveUp) {
      const p = send(cluster.node(follower).httpAddr, 'GET', '/kv/heal', undefined, 2500).then((a) => {
        if (a.status === 200 && a.text === 'during' && servedAt === null) servedAt = Date.now();
      });
      pending.add(p);
      void p.finally(() => pending.delete(p));
      await sleep(50);
    }
    await Promise.all(pending);
    if (problems.length > 0) throw new Error(problems.join('; '));
    return {
      cutMs: o.cutMs, healToServeMs: servedAt === null ? null : servedAt - healedAt,
      leaderConnectedDuringCut, leaderStallsDuringCut,
      leaderStallWarnings: stallLines(leaderLog, cluster.node(follower).raft),
      followerStallWarnings: stallLines(followerLog, cluster.node(leader).raft),
      dir: cluster.root,
    };
  } finally {
    await cluster.shutdown();
    if (o.keep !== true) rmSync(cluster.root, { recursive: true, force: true });
  }
}
