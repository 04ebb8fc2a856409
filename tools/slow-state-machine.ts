/**
 * `npm run measure:slow-sm -- [--seconds 8] [--slow-ms 50] [--kind regular|ondisk] [--shards 16]
 *   [--rtt-ms 100] [--clients 2] [--in-process]`
 * Does one slow state machine stall the other shards of its hosts? Three NodeHosts, by default
 * each in its own process over TCP loopback (as deployed: each host's event loop blocks only
 * for its own replica of the slow shard); with `--in-process` all three in this process over
 * the in-memory network, where the three replicas of the slow shard block one event loop (three
 * times the stall, a worst case). WAL LogDB on real files in a temporary directory.
 * `--shards` shards, each with `--clients` closed-loop clients proposing through host 1 for
 * `--seconds`; run twice on fresh hosts: all healthy, then shard 1 slow (`--kind regular`:
 * `update` busy-waits `--slow-ms` per call; `--kind ondisk`: an on-disk state machine whose
 * `update` awaits a `--slow-ms` sleep). Prints, side by side, for the healthy shards: campaigns
 * started during the load (getStats, every host), proposals completed, p50/p99/max latency,
 * and host 1's event loop max delay. Leader balancing is off, so that every campaign counted is
 * an election (a balancing transfer makes its target campaign too).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NodeHost } from '../src/host/nodehost.js';
import { MemoryNetwork } from '../src/transport/memory-network.js';
import { freePorts } from './free-ports.js';
import type { OnDiskStateMachine, SMEntry, SMResult, SnapshotReader, SnapshotWriter, StateMachine } from '../src/contracts/state-machine.js';

const { values } = parseArgs({
  options: {
    'seconds': { type: 'string', default: '8' },
    'slow-ms': { type: 'string', default: '50' },
    'kind': { type: 'string', default: 'regular' },
    'shards': { type: 'string', default: '16' },
    'rtt-ms': { type: 'string', default: '100' },
    'clients': { type: 'string', default: '2' },
    'in-process': { type: 'boolean', default: false },
    // Internal: run as host <child> of a three-process run (addresses in --ports, data in --dir).
    'child': { type: 'string' },
    'ports': { type: 'string' },
    'dir': { type: 'string' },
    'slow': { type: 'boolean', default: false },
  },
});

function int(name: string, min: number): number {
  const v = values[name as keyof typeof values];
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`measure:slow-sm: --${name} must be an integer >= ${min}, got '${String(v)}'`);
    process.exit(2);
  }
  return n;
}
const seconds = int('seconds', 1);
const slowMs = int('slow-ms', 0);
const shards = int('shards', 2);
const rttMs = int('rtt-ms', 1);
const clients = int('clients', 1);
const kind = values.kind;
if (kind !== 'regular' && kind !== 'ondisk') {
  console.error(`measure:slow-sm: --kind must be regular or ondisk, got '${String(kind)}'`);
  process.exit(2);
}

const ONE: SMResult = { value: 1 };

/** A regular state machine counting entries; `update` busy-waits `delayMs` per call. */
class Counter implements StateMachine {
  n = 0;
  constructor(private readonly delayMs: number) {}
  update(entries: readonly SMEntry[]): SMResult[] {
    if (this.delayMs > 0) {
      const end = performance.now() + this.delayMs;
      while (performance.now() < end) { /* a slow state machine */ }
    }
    this.n += entries.length;
    return entries.map(() => ONE);
  }
  lookup(): unknown { return this.n; }
  async saveSnapshot(w: SnapshotWriter): Promise<void> { await w.write(new TextEncoder().encode(String(this.n))); }
  async recoverFromSnapshot(r: SnapshotReader): Promise<void> { this.n = Number(new TextDecoder().decode(await r.readAll())); }
  close(): void {}
}

/** An on-disk state machine (state in memory, for the measurement) whose `update` awaits a sleep. */
class SleepyDisk implements OnDiskStateMachine<number> {
  n = 0;
  index = 0;
  constructor(private readonly delayMs: number) {}
  async open(): Promise<number> { return 0; }
  async update(entries: readonly SMEntry[]): Promise<SMResult[]> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    this.n += entries.length;
    this.index = entries[entries.length - 1]?.index ?? this.index;
    return entries.map(() => ONE);
  }
  lookup(): unknown { return this.n; }
  async sync(): Promise<void> {}
  prepareSnapshot(): number { return this.n; }
  async saveSnapshot(ctx: number, w: SnapshotWriter): Promise<void> { await w.write(new TextEncoder().encode(String(ctx))); }
  async recoverFromSnapshot(r: SnapshotReader): Promise<void> { this.n = Number(new TextDecoder().decode(await r.readAll())); }
  close(): void {}
}

interface LoadResult {
  readonly proposals: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly slowProposals: number;
  readonly loopMaxMs: number;
}

interface PhaseResult extends LoadResult {
  readonly label: string;
  readonly campaigns: number;
}

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** Starts a replica of every shard on `h` (replica `i`), shard 1 slow when `slow`. */
async function startShards(h: NodeHost, i: number, members: ReadonlyMap<number, string>, slow: boolean): Promise<void> {
  for (let s = 1; s <= shards; s++) {
    const delay = slow && s === 1 ? slowMs : 0;
    if (kind === 'ondisk') await h.startOnDiskReplica(members, false, () => new SleepyDisk(delay), { shardId: s, replicaId: i });
    else await h.startReplica(members, false, () => new Counter(delay), { shardId: s, replicaId: i });
  }
}

/** Every shard has a leader and committed once. */
async function warm(h1: NodeHost): Promise<void> {
  await Promise.all(Array.from({ length: shards }, (_, k) => h1.propose(k + 1, new Uint8Array([1]), { timeoutMs: 20000 })));
}

/** Campaigns started by the healthy shards' replicas on `h`. */
function healthyCampaigns(h: NodeHost): number {
  return h.getStats().shards.filter((s) => s.shardId !== 1).reduce((a, s) => a + s.campaigns, 0);
}

/** Closed-loop clients on every shard through `h1` for `seconds`. */
async function load(h1: NodeHost): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0;
  let slowProposals = 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const end = performance.now() + seconds * 1000;
  const cmd = new Uint8Array(16);
  const client = async (shardId: number): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await h1.propose(shardId, cmd, { timeoutMs: 5000 });
        if (shardId === 1) slowProposals++;
        else lat.push(performance.now() - t0);
      } catch {
        if (shardId !== 1) errors++;
      }
    }
  };
  const runs: Array<Promise<void>> = [];
  for (let s = 1; s <= shards; s++) for (let c = 0; c < clients; c++) runs.push(client(s));
  await Promise.all(runs);
  loop.disable();
  lat.sort((a, b) => a - b);
  return {
    proposals: lat.length, errors, slowProposals,
    p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: lat[lat.length - 1] ?? NaN, loopMaxMs: loop.max / 1e6,
  };
}

/** One run with the three hosts in this process over the in-memory network. */
async function inProcessPhase(label: string, slow: boolean): Promise<PhaseResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-slowsm-'));
  const net = new MemoryNetwork({ seed: 1 });
  const addr = (i: number): string => `127.0.0.1:${21000 + i}`;
  const hosts: NodeHost[] = [];
  const keep = setInterval(() => {}, 1000);
  try {
    for (const i of [1, 2, 3]) {
      hosts.push(await NodeHost.create({
        nodeHostDir: join(dir, `host-${i}`), raftAddress: addr(i), rttMillisecond: rttMs, leaderBalancing: false,
        transportFactory: (handler) => net.createTransport({ address: addr(i), handler }),
      }));
    }
    const members = new Map([1, 2, 3].map((i) => [i, addr(i)] as const));
    for (const i of [1, 2, 3]) await startShards(hosts[i - 1] as NodeHost, i, members, slow);
    const h1 = hosts[0] as NodeHost;
    await warm(h1);
    const campaigns = (): number => hosts.reduce((sum, h) => sum + healthyCampaigns(h), 0);
    const before = campaigns();
    const r = await load(h1);
    return { label, campaigns: campaigns() - before, ...r };
  } finally {
    for (const h of hosts) await h.close({ drainTimeoutMs: 0 }).catch(() => {});
    clearInterval(keep);
    rmSync(dir, { recursive: true, force: true });
  }
}

type Ask = { readonly cmd: 'warm' | 'campaigns' | 'load' | 'exit' };

/** A child: host `i` over TCP; answers the parent's asks in order. */
async function child(i: number): Promise<void> {
  const ports = String(values.ports).split(',').map(Number);
  const members = new Map([1, 2, 3].map((id) => [id, `127.0.0.1:${ports[id - 1] as number}`] as const));
  const h = await NodeHost.create({ nodeHostDir: join(String(values.dir), `host-${i}`), raftAddress: members.get(i) as string, rttMillisecond: rttMs, leaderBalancing: false });
  await startShards(h, i, members, values.slow === true);
  const send = (m: unknown): void => { process.send?.(m); };
  process.on('message', (m: Ask) => {
    void (async () => {
      if (m.cmd === 'warm') send(await warm(h).then(() => 'ok'));
      else if (m.cmd === 'campaigns') send(healthyCampaigns(h));
      else if (m.cmd === 'load') send(await load(h));
      else {
        await h.close({ drainTimeoutMs: 0 }).catch(() => {});
        process.exit(0);
      }
    })();
  });
  send('started');
}

/** One run with each host in its own process over TCP loopback. */
async function processPhase(label: string, slow: boolean): Promise<PhaseResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-slowsm-'));
  const ports = await freePorts(3);
  const kids: ChildProcess[] = [];
  const ask = <T>(k: ChildProcess, cmd: Ask['cmd']): Promise<T> => new Promise<T>((res) => {
    k.once('message', (m) => res(m as T));
    k.send({ cmd });
  });
  try {
    const forward = process.argv.slice(2).filter((a) => a !== '--in-process');
    for (const i of [1, 2, 3]) {
      const k = fork(fileURLToPath(import.meta.url), [...forward, '--child', String(i), '--ports', ports.join(','), '--dir', dir, ...(slow ? ['--slow'] : [])]);
      kids.push(k);
    }
    await Promise.all(kids.map((k) => new Promise((res) => k.once('message', res))));
    await ask(kids[0] as ChildProcess, 'warm');
    const campaigns = async (): Promise<number> => (await Promise.all(kids.map((k) => ask<number>(k, 'campaigns')))).reduce((a, b) => a + b, 0);
    const before = await campaigns();
    const r = await ask<LoadResult>(kids[0] as ChildProcess, 'load');
    return { label, campaigns: (await campaigns()) - before, ...r };
  } finally {
    for (const k of kids) {
      if (k.connected) k.send({ cmd: 'exit' });
      await new Promise((res) => { if (k.exitCode !== null) res(null); else k.once('exit', res); });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.child !== undefined) {
  await child(Number(values.child));
} else {
  const inProcess = values['in-process'] === true;
  const phase = inProcess ? inProcessPhase : processPhase;
  console.log(`slow state machine: 3 hosts ${inProcess ? 'in one process (MemoryNetwork)' : 'in 3 processes (TCP loopback)'}, ${shards} shards, ${clients} clients/shard through host 1, ${seconds} s per run, rtt ${rttMs} ms (election timeout ${10 * rttMs} ms), shard 1 ${kind} ${slowMs} ms per update`);
  const results = [await phase('all healthy', false), await phase(`shard 1 slow (${kind} ${slowMs} ms)`, true)];
  const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
  console.log(['run'.padEnd(30), 'campaigns(healthy)', 'proposals', 'errors', 'p50 ms', 'p99 ms', 'max ms', 'slow-shard ops', 'host1 loop max ms'].join('\t'));
  for (const r of results) {
    console.log([r.label.padEnd(30), r.campaigns, r.proposals, r.errors, f(r.p50), f(r.p99), f(r.max), r.slowProposals, f(r.loopMaxMs)].join('\t'));
  }
  console.log(JSON.stringify({ inProcess, shards, clients, seconds, rttMs, kind, slowMs, results }));
}
