/**
 * `npm run measure:slow-sm -- [--seconds 8] [--slow-ms 50] [--kind regular|ondisk] [--shards 16]
 *   [--rtt-ms 100] [--clients 2]`
 * Does one slow state machine stall the other shards of its hosts? Three NodeHosts in ONE
 * process over the in-memory network (WAL LogDB on real files in a temporary directory), so
 * the three replicas of the slow shard block the same event loop: three times the stall a
 * host of a real three-process deployment sees, a worst case. `--shards` shards, each with
 * `--clients` closed-loop clients proposing through host 1 for `--seconds`; run twice on fresh
 * hosts: all healthy, then shard 1 slow (`--kind regular`: `update` busy-waits `--slow-ms` per
 * call; `--kind ondisk`: an on-disk state machine whose `update` awaits a `--slow-ms` sleep).
 * Prints, side by side, for the healthy shards: campaigns started during the load (getStats),
 * proposals completed, p50/p99/max latency, and the event loop's max delay.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { NodeHost } from '../src/host/nodehost.js';
import { MemoryNetwork } from '../src/transport/memory-network.js';
import type { OnDiskStateMachine, SMEntry, SMResult, SnapshotReader, SnapshotWriter, StateMachine } from '../src/contracts/state-machine.js';

const { values } = parseArgs({
  options: {
    'seconds': { type: 'string', default: '8' },
    'slow-ms': { type: 'string', default: '50' },
    'kind': { type: 'string', default: 'regular' },
    'shards': { type: 'string', default: '16' },
    'rtt-ms': { type: 'string', default: '100' },
    'clients': { type: 'string', default: '2' },
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

interface PhaseResult {
  readonly label: string;
  readonly campaigns: number;
  readonly proposals: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly slowProposals: number;
  readonly loopMaxMs: number;
}

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

async function phase(label: string, slow: boolean): Promise<PhaseResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-slowsm-'));
  const net = new MemoryNetwork({ seed: 1 });
  const addr = (i: number): string => `127.0.0.1:${21000 + i}`;
  const hosts: NodeHost[] = [];
  const keep = setInterval(() => {}, 1000);
  try {
    for (const i of [1, 2, 3]) {
      hosts.push(await NodeHost.create({
        nodeHostDir: join(dir, `host-${i}`), raftAddress: addr(i), rttMillisecond: rttMs,
        transportFactory: (handler) => net.createTransport({ address: addr(i), handler }),
      }));
    }
    const members = new Map([1, 2, 3].map((i) => [i, addr(i)] as const));
    for (let s = 1; s <= shards; s++) {
      const delay = slow && s === 1 ? slowMs : 0;
      for (const i of [1, 2, 3]) {
        const h = hosts[i - 1] as NodeHost;
        if (kind === 'ondisk') await h.startOnDiskReplica(members, false, () => new SleepyDisk(delay), { shardId: s, replicaId: i });
        else await h.startReplica(members, false, () => new Counter(delay), { shardId: s, replicaId: i });
      }
    }
    const h1 = hosts[0] as NodeHost;
    // Every shard has a leader and has committed once before the clock starts.
    await Promise.all(Array.from({ length: shards }, (_, k) => h1.propose(k + 1, new Uint8Array([1]), { timeoutMs: 20000 })));
    const campaignsOf = (): number => hosts.reduce((sum, h) => sum + h.getStats().shards
      .filter((s) => s.shardId !== 1).reduce((a, s) => a + s.campaigns, 0), 0);
    const before = campaignsOf();
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
    const campaigns = campaignsOf() - before;
    lat.sort((a, b) => a - b);
    return {
      label, campaigns, proposals: lat.length, errors, slowProposals,
      p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: lat[lat.length - 1] ?? NaN, loopMaxMs: loop.max / 1e6,
    };
  } finally {
    for (const h of hosts) await h.close({ drainTimeoutMs: 0 }).catch(() => {});
    clearInterval(keep);
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`slow state machine: 3 hosts in one process (MemoryNetwork), ${shards} shards, ${clients} clients/shard, ${seconds} s per run, rtt ${rttMs} ms (election timeout ${10 * rttMs} ms), shard 1 ${kind} ${slowMs} ms per update`);
const results = [await phase('all healthy', false), await phase(`shard 1 slow (${kind} ${slowMs} ms)`, true)];
const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
console.log(['run'.padEnd(30), 'campaigns(healthy)', 'proposals', 'errors', 'p50 ms', 'p99 ms', 'max ms', 'slow-shard ops', 'loop max ms'].join('\t'));
for (const r of results) {
  console.log([r.label.padEnd(30), r.campaigns, r.proposals, r.errors, f(r.p50), f(r.p99), f(r.max), r.slowProposals, f(r.loopMaxMs)].join('\t'));
}
console.log(JSON.stringify({ shards, clients, seconds, rttMs, kind, slowMs, results }));
