/**
 * Workload 1 of `npm run bench` (issue 8): the library alone. Three NodeHosts as three
 * processes on loopback TCP (`host-child.ts`), fsync on, counter state machines; closed-loop
 * clients inside the processes propose commands of a given size (or do ReadIndex reads), each
 * client on the host that leads its shard (followers do not forward proposals over TCP today),
 * spread round-robin over the shards. Latencies go into one HDR histogram per process,
 * merged here.
 */
import * as path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { HostProcess, freePorts } from './host-rpc.js';

/** A running three-host cluster with `shards` shards. */
export interface LibCluster {
  readonly shards: number;
  readonly hosts: readonly HostProcess[];
  /** Shards each host leads (index = host). */
  led: number[][];
  stop(): Promise<void>;
}

/** What one load run measured. */
export interface LoadResult {
  readonly ops: number; readonly p50: number; readonly p99: number; readonly p999: number; readonly errors: number;
  /** CPU (user + system, all threads) per process as % of one core; `userPct` the user part. */
  readonly cpuPct: readonly number[];
  readonly userPct: readonly number[];
  /** Per process, per second: engine passes, replica updates they handled, LogDB batches, transport frames and messages sent. */
  readonly rates: ReadonlyArray<{ passes: number; updates: number; logdbBatches: number; frames: number; messages: number }>;
  /** Per process: median engine pass and LogDB batch time, fdatasync time (p50, p90) and rate, entries per batch. */
  readonly timings: ReadonlyArray<{ passMs: number; batchMs: number; syncMsP50: number; syncMsP90: number; syncsPerSec: number; entriesPerBatch: number }>;
  /** Per process, with `types`: messages handed to the transport by type, and the entries they carried. */
  readonly types: ReadonlyArray<ReadonlyArray<{ type: number; n: number; entries: number }>>;
}

/**
 * Starts three hosts with shards 1..`shards`, waits until every shard has a leader and then,
 * with several shards, until the hosts' leader placement has spread the leaders (see
 * {@link waitSpread}).
 * `execArgv` are extra node flags for the children (`{i}` becomes the host's number);
 * `readMode` is every shard's `ShardConfig.readMode` (ReadIndex or lease reads).
 */
export async function startLibrary(base: string, shards: number, execArgv: readonly string[] = [], readMode: 'read-index' | 'lease' = 'read-index'): Promise<LibCluster> {
  const ports = await freePorts(3);
  const addr = (i: number): string => `127.0.0.1:${ports[i] as number}`;
  const members = [0, 1, 2].map((i) => [i + 1, addr(i)] as [number, string]);
  const hosts = await Promise.all([1, 2, 3].map((i) => HostProcess.spawn(`host-${i}`, execArgv.map((a) => a.replace("{i}", String(i))))));
  const stop = async (): Promise<void> => { await Promise.all(hosts.map((h) => h.exit())); };
  try {
    await Promise.all(hosts.map((h, i) => h.call('create', { dir: path.join(base, `lib-${shards}-${i + 1}`), raftAddress: addr(i), rttMillisecond: 100 })));
    await Promise.all(hosts.map((h, i) => h.call('startShards', { from: 1, to: shards, replicaId: i + 1, members, sm: 'counter', config: { readMode } })));
    const ls = await Promise.all(hosts.map((h) => h.call('waitLeaders', { timeoutMs: 60000 }, 90000)));
    if (ls.some((l) => (l.missing as number) > 0)) throw new Error('library: shards without a leader after 60 s');
    const c: LibCluster = { shards, hosts, led: [], stop };
    await refreshLeaders(c);
    if (shards > 1) await waitSpread(c, 60_000);
    return c;
  } catch (e) {
    for (const h of hosts) h.kill();
    throw e;
  }
}

/** Re-reads which host leads which shard (leaders may move between runs). */
export async function refreshLeaders(c: LibCluster): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    c.led = await Promise.all(c.hosts.map((h) => h.call<number[]>('ledShards')));
    if (c.led.flat().length === c.shards) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('library: not every shard has a leader');
}

/**
 * Waits until no host leads two shards more than another, which is where the hosts' leader
 * placement stops moving leaders (`NodeHostConfig.leaderBalancing`). Elections place leaders
 * by chance (9/5/2 of 16 is common), and the placement then moves one every few seconds:
 * measured before it settles, a run has one host doing most of the leaders' work and leader
 * transfers under load (proposals refused with DroppedError). Logs and gives up after
 * `timeoutMs`: the run then measures the placement it finds, and the line says so.
 */
export async function waitSpread(c: LibCluster, timeoutMs: number): Promise<void> {
  const spread = (): boolean => {
    const n = c.led.map((l) => l.length);
    return Math.max(...n) - Math.min(...n) <= 1;
  };
  const until = Date.now() + timeoutMs;
  while (!spread() && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    await refreshLeaders(c);
  }
  if (!spread()) console.error(`library: leaders still not spread after ${timeoutMs / 1000} s: ${c.led.map((l) => l.length).join('/')}`);
}

/**
 * One closed-loop run: `inflight` clients, client j on shard (j mod shards) + 1, on the host
 * leading it; commands of `size` bytes (or ReadIndex reads with `read`), for `seconds`.
 */
export async function runLoad(c: LibCluster, inflight: number, size: number, seconds: number, read = false, types = false): Promise<LoadResult> {
  await refreshLeaders(c);
  const owner = new Map<number, number>();
  c.led.forEach((ss, i) => { for (const s of ss) owner.set(s, i); });
  const workers: number[][] = c.hosts.map(() => []);
  for (let j = 0; j < inflight; j++) {
    const s = (j % c.shards) + 1;
    workers[owner.get(s) ?? 0]?.push(s);
  }
  const rs = await Promise.all(c.hosts.map((h, i) => h.call<{ count: number; errors: number; wallMs: number; cpuPct: number; userPct: number; hist: string; passesPerSec: number; updatesPerSec?: number; logdbBatchesPerSec: number; framesPerSec: number; messagesPerSec: number;
    passMsP50: number; batchMsP50: number; syncMsP50: number; syncMsP90: number; syncsPerSec: number; entriesPerBatchP50: number;
    types?: Array<{ type: number; n: number; entries: number }> }>(
    'load', { workers: workers[i], size, seconds, read, types }, (seconds + 60) * 1000)));
  const merged = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let count = 0;
  let errors = 0;
  let wall = 0;
  for (const r of rs) {
    const h = hdr.decodeFromCompressedBase64(r.hist);
    merged.add(h);
    h.destroy();
    count += r.count;
    errors += r.errors;
    wall = Math.max(wall, r.wallMs);
  }
  const out: LoadResult = {
    ops: count / (wall / 1000), errors,
    p50: merged.getValueAtPercentile(50) / 1000, p99: merged.getValueAtPercentile(99) / 1000, p999: merged.getValueAtPercentile(99.9) / 1000,
    cpuPct: rs.map((r) => r.cpuPct), userPct: rs.map((r) => r.userPct),
    rates: rs.map((r) => ({ passes: r.passesPerSec, updates: r.updatesPerSec ?? 0, logdbBatches: r.logdbBatchesPerSec, frames: r.framesPerSec, messages: r.messagesPerSec })),
    timings: rs.map((r) => ({ passMs: r.passMsP50, batchMs: r.batchMsP50, syncMsP50: r.syncMsP50, syncMsP90: r.syncMsP90, syncsPerSec: r.syncsPerSec, entriesPerBatch: r.entriesPerBatchP50 })),
    types: rs.map((r) => r.types ?? []),
  };
  merged.destroy();
  return out;
}
