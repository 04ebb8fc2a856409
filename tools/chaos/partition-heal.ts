/**
 * How long a follower cut off by a silent partition takes to serve again once the network
 * heals. Three `sampan kv` processes on a {@link HealTestbed}: behind the chaos proxies in
 * blackhole mode (bytes and closes discarded both ways, the TCP connections left open, as a
 * firewall's drop would), or in network namespaces where a router drops the packets
 * (`netns-testbed.ts`). A follower is cut off from both others; the leader writes a new value
 * meanwhile; after the cut the network heals and the follower is asked for a linearizable read
 * every 50 ms (each request bounded) until one returns the value written during the cut. Also
 * collected: what the leader's metrics and both sides' logs said during the cut.
 */
import { rmSync } from 'node:fs';
import { ChaosCluster } from './cluster.js';
import { send, sleep } from './http-client.js';
import { cutsBetween } from './network.js';

/** Three replicas and a way to cut one off silently. */
export interface HealTestbed {
  /** A short name for the output (`proxy`, `netns`). */
  readonly name: string;
  /** Starts three replicas of one shard; resolves once each knows a leader. */
  start(): Promise<readonly number[]>;
  httpAddr(id: number): string;
  raftAddr(id: number): string;
  /** Drops every packet between `victim` and `others`, both ways, telling nobody. */
  cut(victim: number, others: readonly number[]): void;
  heal(): void;
  /** Replica `id`'s stderr so far (its log). */
  log(id: number): string;
  /** Problems seen so far (a replica that exited on its own). */
  problems(): readonly string[];
  /** Stops every replica and removes what was created (unless `keep`). */
  shutdown(keep: boolean): Promise<void>;
}

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
  /** Where to run; default the chaos proxies in blackhole mode ({@link proxyTestbed}). */
  readonly testbed?: (rttMs: number) => HealTestbed;
}

/** What one measurement found. */
export interface PartitionHealResult {
  readonly testbed: string;
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

/** The leader of shard 1 as the replicas see it (the highest term wins), or 0 after ~5 s. */
async function leaderOf(bed: HealTestbed, ids: readonly number[]): Promise<number> {
  for (let attempt = 0; attempt < 25; attempt++) {
    let best = { term: -1, leader: 0 };
    for (const id of ids) {
      const a = await send(bed.httpAddr(id), 'GET', '/status', undefined, 1000);
      if (a.status !== 200) continue;
      const s = (JSON.parse(a.text) as { shards: Array<{ shardId: number; leaderId: number; term: number }> }).shards.find((x) => x.shardId === 1);
      if (s !== undefined && s.leaderId > 0 && s.term > best.term) best = { term: s.term, leader: s.leaderId };
    }
    if (best.leader > 0) return best.leader;
    await sleep(200);
  }
  return 0;
}

/** The chaos proxies (`proxy.ts`) in blackhole mode, on loopback. */
export function proxyTestbed(rttMs: number): HealTestbed {
  const problems: string[] = [];
  const cluster = new ChaosCluster({
    shards: 1, rttMs, snapshotEntries: 0, stateMachine: 'memory',
    onUnexpectedExit: (id, code, err) => problems.push(`replica ${id} exited (${String(code)}): ${err.trim().split('\n').slice(-2).join(' | ')}`),
    onPortRetry: () => {},
  });
  return {
    name: 'proxy',
    async start() {
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) ids.push(await cluster.create());
      for (const id of ids) cluster.addMember(id);
      for (const id of ids) cluster.start(id, ['--initial-members', cluster.membersFlag(ids)]);
      for (const id of ids) {
        if (!(await cluster.ready(id, 60_000))) throw new Error(`replica ${id} not ready: ${problems.join('; ')}`);
      }
      return ids;
    },
    httpAddr: (id) => cluster.node(id).httpAddr,
    raftAddr: (id) => cluster.node(id).raft,
    cut: (victim, others) => cluster.net.cut(cutsBetween([victim], others), 'blackhole'),
    heal: () => cluster.net.heal(),
    log: (id) => cluster.node(id).child?.err ?? '',
    problems: () => problems,
    async shutdown(keep) {
      await cluster.shutdown();
      if (!keep) rmSync(cluster.root, { recursive: true, force: true });
    },
  };
}

/**
 * Runs one measurement on a fresh testbed and shuts it down.
 * @throws if the replicas do not start, or no leader or write succeeds before the cut
 */
export async function measurePartitionHeal(o: PartitionHealOptions): Promise<PartitionHealResult> {
  const say = o.say ?? (() => {});
  const bed = (o.testbed ?? proxyTestbed)(o.rttMs ?? 50);
  try {
    const ids = await bed.start();
    const leader = await leaderOf(bed, ids);
    if (leader === 0) throw new Error('no leader');
    const follower = ids.find((id) => id !== leader)!;
    const others = ids.filter((id) => id !== follower);
    const put = async (value: string): Promise<void> => {
      for (let i = 0; i < 50; i++) {
        const a = await send(bed.httpAddr(leader), 'PUT', '/kv/heal', value, 3000);
        if (a.status === 200) return;
        await sleep(100);
      }
      throw new Error(`PUT ${value} failed on the leader`);
    };
    await put('before');
    // Let every connection carry traffic (and answer pings) before the cut.
    await sleep(1000);

    say(`  [${bed.name}] cutting replica ${follower} (a follower) off from ${others.join(',')} for ${o.cutMs} ms; leader ${leader}`);
    bed.cut(follower, others);
    const cutAt = Date.now();
    await put('during');
    await sleep(Math.max(0, o.cutMs - 1000 - (Date.now() - cutAt)));
    const metrics = await send(bed.httpAddr(leader), 'GET', '/metrics', undefined, 2000);
    const remote = { remote: bed.raftAddr(follower) };
    const leaderConnectedDuringCut = metricValue(metrics.text, 'sampan_transport_remote_connected', remote);
    const leaderStallsDuringCut = metricValue(metrics.text, 'sampan_transport_remote_connection_stalls_total', remote);
    await sleep(Math.max(0, o.cutMs - (Date.now() - cutAt)));
    const leaderLog = bed.log(leader);
    const followerLog = bed.log(follower);
    bed.heal();
    const healedAt = Date.now();
    say(`  [${bed.name}] healed after ${healedAt - cutAt} ms; asking replica ${follower} for a linearizable read`);

    const giveUp = healedAt + (o.giveUpMs ?? 60_000);
    let servedAt: number | null = null;
    const pending = new Set<Promise<void>>();
    while (servedAt === null && Date.now() < giveUp) {
      const p = send(bed.httpAddr(follower), 'GET', '/kv/heal', undefined, 2500).then((a) => {
        if (a.status === 200 && a.text === 'during' && servedAt === null) servedAt = Date.now();
      });
      pending.add(p);
      void p.finally(() => pending.delete(p));
      await sleep(50);
    }
    await Promise.all(pending);
    if (bed.problems().length > 0) throw new Error(bed.problems().join('; '));
    return {
      testbed: bed.name, cutMs: o.cutMs, healToServeMs: servedAt === null ? null : servedAt - healedAt,
      leaderConnectedDuringCut, leaderStallsDuringCut,
      leaderStallWarnings: stallLines(leaderLog, bed.raftAddr(follower)),
      followerStallWarnings: stallLines(followerLog, bed.raftAddr(leader)),
    };
  } finally {
    await bed.shutdown(o.keep === true);
  }
}
