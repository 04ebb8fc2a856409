/**
 * Scale benchmark (issue 4). Not a timed test: run with `npm run bench:scale`.
 *
 * Every NodeHost runs in its own child process (`host-child.ts`), with the default
 * TcpTransport on 127.0.0.1 and the WAL LogDB (fsync on) in a temporary directory.
 *
 * Part 1, three hosts × --shards regular (counter) state machines, one replica per host:
 *   - start-up: from `NodeHost.create` on all three until every replica on every host knows
 *     its shard's leader;
 *   - one proposal per shard, all in flight at once, each sent by the shard's leader host;
 *   - CPU of each host while the shards idle (heartbeats, not quiesced), over --idle-seconds;
 *   - restart: close all three, fork three new processes on the same directories, time from
 *     `NodeHost.create` until every replica knows a leader again.
 * Part 2, one host × --quiesced single-replica shards with `quiesce: true`:
 *   - start-up (until every shard has elected itself), then wait until all are quiesced
 *     (10 election timeouts of idleness: 10 × electionRTT × rttMillisecond);
 *   - RSS per shard: (RSS once quiesced − RSS after `NodeHost.create`) / shards, both after a
 *     full GC (the child runs with --expose-gc); the heap delta too;
 *   - idle CPU: `process.cpuUsage` over --idle-seconds once every shard is quiesced, as % of
 *     one core;
 *   - restart: close, fork a new process, time `NodeHost.create` + restarting every replica
 *     from disk, and until every shard has a leader again.
 * Targets (issue 4): 10,000 quiesced shards in under 2 GiB, restart under 10 s, an idle host
 * under 5% of a core.
 *
 * Flags: --shards=<1000> --quiesced=<10000> --rtt=<rttMillisecond, 100>
 *   --idle-seconds=<10> --concurrency=<replica starts in flight per host, 64>
 *   --only=<three|single> --profile (CPU-profile the idle period and the restart of part 2,
 *   and print the top self-time functions; files kept in --profile-dir, default
 *   $TMPDIR/sampan-bench-profiles) --dir=<os.tmpdir()> --timeout-min=<30>
 *   --close-timeout-s=<60> (a host whose close takes longer is diagnosed and killed)
 *   --quick (100 shards, 1,000 quiesced, 5 s idle).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  HostProcess, defaultBase, freePorts, killAll, parseArgs, tempDir, topSelfTime, wallNow,
} from './host-rpc.js';

const args = parseArgs(process.argv.slice(2));
const QUICK = args.has('quick');
const num = (k: string, d: number): number => (args.has(k) ? Number(args.get(k)) : d);
const SHARDS = num('shards', QUICK ? 100 : 1000);
const QUIESCED = num('quiesced', QUICK ? 1000 : 10000);
const RTT = num('rtt', 100);
const IDLE_SECONDS = num('idle-seconds', QUICK ? 5 : 10);
const CONCURRENCY = num('concurrency', 64);
const ONLY = args.get('only');
const PROFILE = args.has('profile');
const TIMEOUT_MIN = num('timeout-min', 30);
const CLOSE_TIMEOUT_MS = num('close-timeout-s', 60) * 1000;
const BASE = tempDir(args.get('dir') ?? defaultBase(), 'scale');
const PROFILE_DIR = args.get('profile-dir') ?? path.join(defaultBase(), 'sampan-bench-profiles');
/** The default electionRTT (ticks) and the core's quiesce threshold (election timeouts). */
const ELECTION_RTT = 10;
const QUIESCE_ELECTIONS = 10;

const MIB = 1024 * 1024;
const fmtS = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const fmtMiB = (b: number): string => `${(b / MIB).toFixed(1)} MiB`;

/**
 * Closes the hosts (in parallel); a host whose `close` has not finished within `ms` is
 * diagnosed (its state printed) and killed. Returns each close's time, or NaN for a hang.
 */
async function closeHosts(hosts: readonly HostProcess[], ms = CLOSE_TIMEOUT_MS): Promise<number[]> {
  return await Promise.all(hosts.map(async (h) => {
    try {
      const c = await h.call('close', {}, ms);
      await h.exit();
      return c.ms as number;
    } catch (e) {
      console.log(`!! ${h.label}: ${(e as Error).message}; its state: ${JSON.stringify(await h.call('diag', {}, 10000).catch((d: unknown) => String(d)))}`);
      h.kill();
      await h.exited;
      return NaN;
    }
  }));
}

function cleanup(): void {
  killAll();
  fs.rmSync(BASE, { recursive: true, force: true });
}

/**
 * Which host leads each shard, waiting up to 10 s for shards without a leader; every shard
 * goes to exactly one host.
 */
async function assignByLeader(hosts: readonly HostProcess[]): Promise<{ assigned: number[][]; led: number[][]; orphans: number }> {
  const end = Date.now() + 10000;
  for (;;) {
    const led = await Promise.all(hosts.map((h) => h.call<number[]>('ledShards')));
    const seen = new Set<number>();
    const assigned = led.map((l) => l.filter((s) => (seen.has(s) ? false : (seen.add(s), true))));
    const orphans = SHARDS - seen.size;
    if (orphans === 0 || Date.now() > end) return { assigned, led, orphans };
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Three hosts holding SHARDS shards each. */
async function threeHosts(): Promise<void> {
  console.log(`\n== three hosts × ${SHARDS} shards (regular state machines, 3 replicas each), rtt ${RTT} ms ==`);
  const ports = await freePorts(3);
  const ids = [1, 2, 3];
  const addr = (i: number): string => `127.0.0.1:${ports[i - 1] as number}`;
  const members = ids.map((i) => [i, addr(i)] as [number, string]);
  const dir = (i: number): string => path.join(BASE, 'three', `host-${i}`);
  const timeoutMs = 600000;

  const boot = async (restart: boolean): Promise<{ hosts: HostProcess[]; create: number; started: number; leaders: number; missing: number }> => {
    const hosts = await Promise.all(ids.map((i) => HostProcess.spawn(`host-${i}`, ['--expose-gc'])));
    const t0 = wallNow();
    const created = await Promise.all(ids.map((i) => (hosts[i - 1] as HostProcess).call('create', { dir: dir(i), raftAddress: addr(i), rttMillisecond: RTT })));
    const tc = wallNow();
    const starts = await Promise.all(ids.map((i) => (hosts[i - 1] as HostProcess).call('startShards', {
      from: 1, to: SHARDS, replicaId: i, members: restart ? [] : members, sm: 'counter', concurrency: CONCURRENCY,
    }, timeoutMs)));
    const ls = await Promise.all(hosts.map((h) => h.call('waitLeaders', { timeoutMs: 120000 }, timeoutMs)));
    void created;
    return {
      hosts, create: tc - t0, started: Math.max(...starts.map((s) => s.at as number)) - t0,
      leaders: Math.max(...ls.map((l) => l.at as number)) - t0, missing: ls.reduce((n, l) => n + (l.missing as number), 0),
    };
  };

  const first = await boot(false);
  const hosts = first.hosts;
  console.log(`start-up: NodeHost.create ${fmtS(first.create)}; all replicas started ${fmtS(first.started)}; `
    + `every replica knows a leader ${fmtS(first.leaders)}${first.missing > 0 ? ` (${first.missing} still without one)` : ''}`);

  // One proposal per shard, each from the host that leads it (a follower's forwarded proposal
  // is refused by the TCP transport today: see BENCHMARKS.md).
  const { assigned, led, orphans } = await assignByLeader(hosts);
  const tp = wallNow();
  const props = await Promise.all(hosts.map((h, i) => h.call('proposeEach', { shards: assigned[i], timeoutMs: 60000 }, timeoutMs)));
  const propWall = wallNow() - tp;
  const count = props.reduce((n, p) => n + (p.count as number), 0);
  console.log(`one proposal per shard: ${count} proposals in ${fmtS(propWall)} (${(count / (propWall / 1000)).toFixed(0)}/s); `
    + `leaders per host ${led.map((l) => l.length).join('/')}${orphans > 0 ? ` (${orphans} shards without a leader, not proposed to)` : ''}; `
    + `latency p50 ${Math.max(...props.map((p) => p.p50 as number)).toFixed(0)} ms, p99 ${Math.max(...props.map((p) => p.p99 as number)).toFixed(0)} ms (worst host)`);

  const mems = await Promise.all(hosts.map((h) => h.call('mem')));
  console.log(`RSS per host (after GC): ${mems.map((m) => fmtMiB(m.rss as number)).join(', ')}; heap used ${mems.map((m) => fmtMiB(m.heapUsed as number)).join(', ')}`);
  const idle = await Promise.all(hosts.map((h) => h.call('idleCpu', { seconds: IDLE_SECONDS }, (IDLE_SECONDS + 30) * 1000)));
  console.log(`idle CPU (${IDLE_SECONDS} s, shards heartbeating, quiesce off): ${idle.map((c) => `${(c.pctOfCore as number).toFixed(1)}%`).join(', ')} of a core; `
    + `event-loop utilisation ${idle.map((c) => `${((c.elu as number) * 100).toFixed(0)}%`).join(', ')}`);

  const closes = await closeHosts(hosts);
  console.log(`close: ${closes.map((c) => (Number.isNaN(c) ? 'HUNG' : fmtS(c))).join(', ')}`);

  const again = await boot(true);
  console.log(`restart (new processes, same dirs): NodeHost.create ${fmtS(again.create)}; all replicas restarted ${fmtS(again.started)}; `
    + `every replica knows a leader ${fmtS(again.leaders)}${again.missing > 0 ? ` (${again.missing} still without one)` : ''}`);
  const after = await assignByLeader(again.hosts);
  const l1 = after.assigned.findIndex((a) => a.includes(1));
  const check = l1 < 0 ? undefined : await again.hosts[l1]?.call('propose', { shardId: 1, cmd: 'x' });
  console.log(`after restart, shard 1's counter (2 = the first proposal survived): ${String(check?.value)}`);
  const closes2 = await closeHosts(again.hosts);
  console.log(`close after restart: ${closes2.map((c) => (Number.isNaN(c) ? 'HUNG' : fmtS(c))).join(', ')}`);
}

/** One host holding QUIESCED single-replica shards with quiesce on. */
async function singleHost(): Promise<void> {
  console.log(`\n== one host × ${QUIESCED} single-replica shards, quiesce on, rtt ${RTT} ms ==`);
  const [port] = await freePorts(1);
  const raftAddress = `127.0.0.1:${port as number}`;
  const dir = path.join(BASE, 'single');
  const quiesceMs = QUIESCE_ELECTIONS * ELECTION_RTT * RTT;
  const timeoutMs = 900000;

  let h = await HostProcess.spawn('single', ['--expose-gc']);
  const m0 = await h.call('mem');
  const t0 = wallNow();
  const created = await h.call('create', { dir, raftAddress, rttMillisecond: RTT });
  const st = await h.call('startShards', {
    from: 1, to: QUIESCED, replicaId: 1, members: [[1, raftAddress]], sm: 'counter', concurrency: CONCURRENCY, config: { quiesce: true },
  }, timeoutMs);
  const ld = await h.call('waitLeaders', { timeoutMs: 120000 }, timeoutMs);
  console.log(`start-up: NodeHost.create ${fmtS(created.ms as number)}; ${QUIESCED} replicas started ${fmtS((st.at as number) - t0)}; `
    + `every shard has a leader ${fmtS((ld.at as number) - t0)}${(ld.missing as number) > 0 ? ` (${String(ld.missing)} without)` : ''}`);
  const mLeaders = await h.call('mem');
  const q = await h.call('waitQuiesced', { timeoutMs: quiesceMs * 3 + 60000 }, timeoutMs);
  console.log(`quiesced: ${String(q.quiesced)}/${String(q.shards)} after a further ${fmtS(q.ms as number)} (threshold ${fmtS(quiesceMs)} of idleness)`);
  const m1 = await h.call('mem');
  const rssDelta = (m1.rss as number) - (m0.rss as number);
  console.log(`memory (after GC): RSS ${fmtMiB(m0.rss as number)} before create → ${fmtMiB(mLeaders.rss as number)} with leaders → ${fmtMiB(m1.rss as number)} quiesced; `
    + `${(rssDelta / QUIESCED / 1024).toFixed(1)} KiB RSS per shard; heap used ${fmtMiB(m0.heapUsed as number)} → ${fmtMiB(m1.heapUsed as number)} `
    + `(${(((m1.heapUsed as number) - (m0.heapUsed as number)) / QUIESCED / 1024).toFixed(1)} KiB per shard); `
    + `projected for 10,000 shards: ${fmtMiB((m0.rss as number) + (rssDelta / QUIESCED) * 10000)}`);

  const prof = (tag: string): string => {
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
    return path.join(PROFILE_DIR, `scale-${tag}-${QUIESCED}-${Date.now()}.cpuprofile`);
  };
  const idle = await h.call('idleCpu', { seconds: IDLE_SECONDS }, (IDLE_SECONDS + 30) * 1000);
  console.log(`idle CPU over ${IDLE_SECONDS} s, all quiesced: ${(idle.pctOfCore as number).toFixed(2)}% of a core `
    + `(user ${(idle.userMs as number).toFixed(0)} ms, system ${(idle.systemMs as number).toFixed(0)} ms); event-loop utilisation ${((idle.elu as number) * 100).toFixed(1)}%`);
  if (PROFILE) {
    // A second idle period under the profiler (its own sampling costs CPU, so not the figure above).
    await h.call('profileStart');
    await h.call('idleCpu', { seconds: IDLE_SECONDS }, (IDLE_SECONDS + 30) * 1000);
    const file = prof('idle');
    await h.call('profileStop', { path: file });
    console.log(`idle profile (a second ${IDLE_SECONDS} s): ${file}\n  ${topSelfTime(file).join('\n  ')}`);
  }

  const [closed] = await closeHosts([h]);
  console.log(`close: ${Number.isNaN(closed) ? 'HUNG' : fmtS(closed as number)}`);

  h = await HostProcess.spawn('single-restart', ['--expose-gc']);
  if (PROFILE) await h.call('profileStart');
  const t1 = wallNow();
  const created2 = await h.call('create', { dir, raftAddress, rttMillisecond: RTT }, timeoutMs);
  const st2 = await h.call('startShards', {
    from: 1, to: QUIESCED, replicaId: 1, members: [], sm: 'counter', concurrency: CONCURRENCY, config: { quiesce: true },
  }, timeoutMs);
  if (PROFILE) {
    const file = prof('restart');
    await h.call('profileStop', { path: file });
    console.log(`restart profile (create + replica starts): ${file}\n  ${topSelfTime(file).join('\n  ')}`);
  }
  const ld2 = await h.call('waitLeaders', { timeoutMs: 120000 }, timeoutMs);
  console.log(`restart (new process, same dir): NodeHost.create (WAL open) ${fmtS(created2.ms as number)}; `
    + `every replica restarted ${fmtS((st2.at as number) - t1)}; every shard has a leader ${fmtS((ld2.at as number) - t1)}`
    + `${(ld2.missing as number) > 0 ? ` (${String(ld2.missing)} without)` : ''}`);
  const m2 = await h.call('mem');
  console.log(`RSS after restart (after GC, not yet quiesced): ${fmtMiB(m2.rss as number)}`);
  const [closed2] = await closeHosts([h]);
  console.log(`close after restart: ${Number.isNaN(closed2) ? 'HUNG' : fmtS(closed2 as number)}`);
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`bench:scale: over ${TIMEOUT_MIN} min, giving up`);
    cleanup();
    process.exit(2);
  }, TIMEOUT_MIN * 60000);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { cleanup(); process.exit(130); });
  console.log(`bench:scale  ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} CPUs  `
    + `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM  load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}  dir ${BASE}`);
  try {
    if (ONLY === undefined || ONLY === 'three') await threeHosts();
    if (ONLY === undefined || ONLY === 'single') await singleHost();
    console.log(`\nload at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    clearTimeout(watchdog);
    cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  cleanup();
  process.exit(1);
});
