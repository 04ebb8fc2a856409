/**
 * A NodeHost in a child process, driven by its parent over the IPC channel (see
 * `host-rpc.ts`). Used by the multi-process benchmarks (`bench:scale`, `bench:snapshot-host`)
 * so that every host has its own event loop, heap and RSS, and talks to the others over real
 * TCP on 127.0.0.1, as in production.
 *
 * Requests are `{ id, op, args }`; every one is answered with `{ id, ok, result | error }`.
 * Host events the benchmarks time (snapshots, failures) are forwarded as `{ event, payload,
 * at }`, `at` being wall-clock milliseconds (`performance.timeOrigin + performance.now()`),
 * comparable across processes on one machine.
 *
 * Not a public API: it reads two private fields of NodeHost for figures the public API does
 * not expose (how many replicas are quiesced); see {@link quiescedCount}.
 */
import * as fs from 'node:fs';
import { Session } from 'node:inspector';
import { NodeHost } from '../src/host/nodehost.js';
import type { ShardConfig } from '../src/host/config.js';
import { DroppedError } from '../src/errors.js';
import * as hdr from 'hdr-histogram-js';
import type { NodeHostEventName } from '../src/host/events.js';
import type { SMEntry, SMResult, SnapshotReader, SnapshotWriter, StateMachine } from '../src/contracts/state-machine.js';

/** A request from the parent. */
export interface ChildRequest { readonly id: number; readonly op: string; readonly args: Record<string, unknown> }

/** Bytes per chunk the blob state machine writes. */
export const CHUNK = 1024 * 1024;
const POOL_CHUNKS = 16;

/**
 * A pseudo-random pool of POOL_CHUNKS MiB (xorshift32, fixed seed, so every process builds the
 * same bytes). The blob state is this pool repeated: byte `p` of the state is `pool[p % size]`.
 */
function makePool(): Buffer {
  const words = new Uint32Array((POOL_CHUNKS * CHUNK) / 4);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer);
}

let poolCache: Buffer | null = null;
/** The shared pseudo-random pool (built on first use). */
export function pool(): Buffer {
  poolCache ??= makePool();
  return poolCache;
}

/** A counter: each command adds one; results are the new count. Snapshots are 8 bytes. */
export class CounterSM implements StateMachine {
  private count = 0;

  /** Adds one per entry. */
  update(entries: readonly SMEntry[]): readonly SMResult[] {
    return entries.map(() => ({ value: ++this.count }));
  }

  /** The count. */
  lookup(): unknown { return this.count; }

  /** Writes the count. */
  async saveSnapshot(w: SnapshotWriter): Promise<void> {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(this.count);
    await w.write(b);
  }

  /** Reads the count back. */
  async recoverFromSnapshot(r: SnapshotReader): Promise<void> {
    const b = Buffer.from(await r.readAll());
    this.count = b.length >= 8 ? b.readDoubleLE(0) : 0;
  }

  /** Nothing to release. */
  close(): void {}
}

/**
 * A large in-memory state for snapshot benchmarks. A command `"<mib>"` sets the state to that
 * many MiB of pseudo-random bytes (the pool repeated, so no memory is spent holding it).
 * `saveSnapshot` writes it in 1 MiB chunks; `recoverFromSnapshot` reads every chunk back and
 * compares it with the expected bytes, so a recovery is only counted if the data is right.
 */
export class BlobSM implements StateMachine {
  private bytes = 0;

  /** Sets the size from each command. */
  update(entries: readonly SMEntry[]): readonly SMResult[] {
    return entries.map((e) => {
      const mib = Number(Buffer.from(e.cmd).toString('utf8'));
      if (Number.isSafeInteger(mib) && mib >= 0) this.bytes = mib * CHUNK;
      return { value: this.bytes / CHUNK };
    });
  }

  /** The state size in bytes. */
  lookup(): unknown { return this.bytes; }

  /** Writes the state as 1 MiB chunks, honouring back-pressure. */
  async saveSnapshot(w: SnapshotWriter, _files: unknown, signal: AbortSignal): Promise<void> {
    const p = pool();
    for (let i = 0; i < this.bytes / CHUNK; i++) {
      signal.throwIfAborted();
      const at = (i % POOL_CHUNKS) * CHUNK;
      await w.write(p.subarray(at, at + CHUNK));
    }
  }

  /** Reads every chunk, checks it against the pool, and takes the total as the new size. */
  async recoverFromSnapshot(r: SnapshotReader, _files: unknown, signal: AbortSignal): Promise<void> {
    const p = pool();
    let pos = 0;
    for await (const c of r) {
      signal.throwIfAborted();
      const chunk = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      let off = 0;
      while (off < chunk.length) {
        const at = pos % p.length;
        const n = Math.min(chunk.length - off, p.length - at);
        if (chunk.compare(p, at, at + n, off, off + n) !== 0) {
          throw new Error(`snapshot data differs from the expected bytes at offset ${pos}`);
        }
        off += n;
        pos += n;
      }
    }
    this.bytes = pos;
  }

  /** Nothing to release. */
  close(): void {}
}

let host: NodeHost | null = null;
/** The host being closed, for {@link ops.diag}. */
let closingHost: NodeHost | null = null;

/** The private fields of NodeHost that `diag` reads (bench-only introspection). */
interface Diag {
  closed: boolean;
  replicas: Map<number, {
    stopped: boolean; applying: boolean; taking: boolean; applyQueue: unknown[]; failure: Error | null; cfg: { shardId: number };
  }>;
  engine: { running: boolean; scheduled: boolean; closed: boolean; ready: Set<unknown>; idle: unknown[] };
  transport: { state: string; inbound?: Set<unknown>; sends?: Set<unknown>; server?: { getConnections(cb: (e: Error | null, n: number) => void): void } };
  logdb: { closing: boolean; flushing: boolean; scheduled: boolean; queue?: unknown[] };
}
const shards: number[] = [];
const FORWARDED: readonly NodeHostEventName[] = [
  'snapshot:created', 'snapshot:received', 'snapshot:recovered', 'replica:failed', 'host:failed',
];

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function nh(): NodeHost {
  if (host === null) throw new Error('no host: call create first');
  return host;
}

/**
 * How many replicas on the host are quiesced. NodeHost has no public figure for it, so this
 * reads its private `replicas` map (bench-only introspection; a `quiesced` field on
 * `ReplicaInfo` would make it public).
 */
function quiescedCount(h: NodeHost): number {
  const internals = h as unknown as { replicas: Map<number, { peer: { quiesced: boolean } }> };
  let n = 0;
  for (const r of internals.replicas.values()) if (r.peer.quiesced) n++;
  return n;
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

async function retryDropped<T>(fn: () => Promise<T>, until: number): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof DroppedError) || Date.now() > until) throw e;
      await sleep(20);
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool2<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const x = items[next++] as T;
      await fn(x);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

let profiler: Session | null = null;

type Handler = (a: Record<string, unknown>) => Promise<unknown>;

const ops: Record<string, Handler> = {
  /** Creates the NodeHost: { dir, raftAddress, rttMillisecond }. */
  create: async (a) => {
    const t = performance.now();
    host = await NodeHost.create({
      nodeHostDir: a.dir as string, raftAddress: a.raftAddress as string, rttMillisecond: a.rttMillisecond as number,
      unsafeNoFsync: process.env.SAMPAN_BENCH_NO_FSYNC === "1", leaderBalancing: process.env.SAMPAN_BENCH_NO_BALANCING !== "1",
    });
    for (const name of FORWARDED) {
      host.on(name, (payload) => {
        const error = 'error' in payload ? payload.error.message : undefined;
        process.send?.({ event: name, payload: { ...payload, error }, at: now() });
      });
    }
    return { ms: performance.now() - t };
  },

  /**
   * Starts replicas of shards `from..to` (inclusive) with at most `concurrency` starts in
   * flight: { from, to, replicaId, members: [id, addr][] (empty: restart from disk), sm,
   * config }. Returns the time and the time-stamp of the end.
   */
  startShards: async (a) => {
    const h = nh();
    const ids: number[] = [];
    for (let s = a.from as number; s <= (a.to as number); s++) ids.push(s);
    const members = new Map(a.members as Array<[number, string]>);
    const cfg = (a.config ?? {}) as Partial<ShardConfig>;
    const create = (): StateMachine => (a.sm === 'blob' ? new BlobSM() : new CounterSM());
    const t = performance.now();
    await pool2(ids, (a.concurrency as number | undefined) ?? 64, async (shardId) => {
      await h.startReplica(members, false, create, { ...cfg, shardId, replicaId: a.replicaId as number });
    });
    shards.push(...ids);
    return { ms: performance.now() - t, at: now() };
  },

  /** Waits until every replica on the host knows a leader: { timeoutMs }. */
  waitLeaders: async (a) => {
    const h = nh();
    const t = performance.now();
    const end = Date.now() + (a.timeoutMs as number);
    let missing = shards.length;
    while (Date.now() < end) {
      missing = 0;
      for (const s of shards) if (!h.getLeaderId(s).valid) missing++;
      if (missing === 0) return { ms: performance.now() - t, at: now(), missing };
      await sleep(25);
    }
    return { ms: performance.now() - t, at: now(), missing };
  },

  /** Shards this host's replica leads. */
  ledShards: async () => {
    const h = nh();
    const info = h.getNodeHostInfo();
    return info.shards.filter((s) => s.isLeader).map((s) => s.shardId);
  },

  /**
   * One proposal (8 bytes) to each of `shards`, all in flight at once; retried while dropped.
   * Returns the wall time and the latency percentiles.
   */
  proposeEach: async (a) => {
    const h = nh();
    const list = a.shards as number[];
    const lat: number[] = [];
    const until = Date.now() + (a.timeoutMs as number);
    const cmd = new Uint8Array(8);
    const t = performance.now();
    await Promise.all(list.map(async (s) => {
      const t0 = performance.now();
      await retryDropped(() => h.propose(s, cmd, { timeoutMs: a.timeoutMs as number }), until);
      lat.push(performance.now() - t0);
    }));
    const ms = performance.now() - t;
    lat.sort((x, y) => x - y);
    return { ms, count: list.length, p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: lat[lat.length - 1] ?? 0 };
  },

  /**
   * Closed-loop load (issue 8): `workers` lists one shard per in-flight client; each client
   * proposes `size`-byte commands (or, with `read`, does ReadIndex reads) back to back for
   * `seconds`. Returns the count, an HDR histogram of latencies in microseconds (compressed
   * base64) and this process's CPU use.
   */
  load: async (a) => {
    const h = nh();
    const workers = a.workers as number[];
    const cmd = new Uint8Array(a.size as number).fill(7);
    const read = a.read === true;
    const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
    let count = 0;
    let errors = 0;
    const c0 = process.cpuUsage();
    const d = h as unknown as { engine: { stats: { passes: number; updates: number; logdbBatches: number } }; transport: { stats(): { batchesSent: number; messagesSent: number }; send(m: { type: number; entries: readonly unknown[] }): boolean } };
    // With `types`, every message handed to the transport is counted by type (a bench-only
    // wrapper of `send`; off by default, so it costs nothing in a measured run).
    const types = new Map<number, { n: number; entries: number }>();
    const send0 = d.transport.send;
    if (a.types === true) {
      d.transport.send = function (this: unknown, m) {
        const t = types.get(m.type) ?? { n: 0, entries: 0 };
        t.n++;
        t.entries += m.entries.length;
        types.set(m.type, t);
        return send0.call(this, m);
      };
    }
    const e0 = { ...d.engine.stats };
    const tr0 = d.transport.stats();
    const w0 = { batches: tr0.batchesSent, msgs: tr0.messagesSent };
    const timings = { passes: [] as number[], batches: [] as number[], syncs: [] as number[], batchEntries: [] as number[] };
    const removeObserver = h.observe({
      enginePass: (sec) => { timings.passes.push(sec * 1000); },
      logdbBatch: (_r, entries, sec) => { timings.batches.push(sec * 1000); timings.batchEntries.push(entries); },
      walSync: (sec) => { timings.syncs.push(sec * 1000); },
    });
    const t0 = performance.now();
    const end = t0 + (a.seconds as number) * 1000;
    await Promise.all(workers.map(async (s) => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          if (read) await h.readIndex(s, { timeoutMs: 10000 });
          else await h.propose(s, cmd, { timeoutMs: 10000 });
          hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
          count++;
        } catch {
          errors++;
          await sleep(5);
        }
      }
    }));
    // Hosts with no clients still take part (they follow): measure them over the same time.
    const rest = end - performance.now();
    if (rest > 0) await sleep(rest);
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (a.types === true) d.transport.send = send0;
    removeObserver();
    const q = (xs: number[], p: number): number => { xs.sort((x, y) => x - y); return xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0; };
    const encoded = hdr.encodeIntoCompressedBase64(hist);
    hist.destroy();
    const tr = d.transport.stats();
    const perSec = (x: number): number => Math.round(x / (wallMs / 1000));
    return {
      count, errors, wallMs, cpuPct: ((c.user + c.system) / 1000 / wallMs) * 100, userPct: (c.user / 1000 / wallMs) * 100, hist: encoded,
      passesPerSec: perSec(d.engine.stats.passes - e0.passes), updatesPerSec: perSec(d.engine.stats.updates - e0.updates), logdbBatchesPerSec: perSec(d.engine.stats.logdbBatches - e0.logdbBatches),
      framesPerSec: perSec(tr.batchesSent - w0.batches), messagesPerSec: perSec(tr.messagesSent - w0.msgs),
      passMsP50: q(timings.passes, 0.5), batchMsP50: q(timings.batches, 0.5), syncMsP50: q(timings.syncs, 0.5), syncMsP90: q(timings.syncs, 0.9),
      syncsPerSec: perSec(timings.syncs.length), entriesPerBatchP50: q(timings.batchEntries, 0.5),
      types: [...types].map(([type, t]) => ({ type, n: t.n, entries: t.entries })),
    };
  },

  /** One proposal of `cmd` (a string) to `shardId`; returns its result value. */
  propose: async (a) => {
    const res = await retryDropped(() => nh().propose(a.shardId as number, Buffer.from(a.cmd as string), { timeoutMs: 60000 }), Date.now() + 60000);
    return { value: res.value };
  },

  /** Waits until every replica is quiesced: { timeoutMs }. */
  waitQuiesced: async (a) => {
    const h = nh();
    const t = performance.now();
    const end = Date.now() + (a.timeoutMs as number);
    let q = quiescedCount(h);
    while (q < shards.length && Date.now() < end) {
      await sleep(100);
      q = quiescedCount(h);
    }
    return { ms: performance.now() - t, quiesced: q, shards: shards.length };
  },

  /** Memory figures, after a full GC when the process runs with --expose-gc. */
  mem: async () => {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g !== undefined) { g(); await sleep(50); g(); }
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, gc: g !== undefined };
  },

  /** CPU spent over `seconds` of doing nothing but the host's own work, and event-loop use. */
  idleCpu: async (a) => {
    const elu0 = performance.eventLoopUtilization();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep((a.seconds as number) * 1000);
    const c = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    const elu = performance.eventLoopUtilization(elu0);
    return { wallMs: wall, userMs: c.user / 1000, systemMs: c.system / 1000, pctOfCore: ((c.user + c.system) / 1000 / wall) * 100, elu: elu.utilization };
  },

  /** Starts the V8 CPU profiler (node:inspector) in this process. */
  profileStart: async () => {
    profiler = new Session();
    profiler.connect();
    const post = (m: string, p?: object): Promise<unknown> => new Promise((res, rej) => {
      profiler?.post(m, p, (err, r) => (err ? rej(err) : res(r)));
    });
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 1000 });
    await post('Profiler.start');
    return {};
  },

  /**
   * Watches the host's transport for the first byte of an incoming snapshot stream (polled
   * every 2 ms from the transport's counters) and sends it to the parent as the event
   * `bench:snapshot-first-byte`, so a benchmark can time a stream without the host's start.
   */
  watchSnapshotBytes: async () => {
    const t = (nh() as unknown as { transport: { stats(): { snapshotBytesReceived: number } } }).transport;
    const timer = setInterval(() => {
      if (t.stats().snapshotBytesReceived === 0) return;
      clearInterval(timer);
      process.send?.({ event: 'bench:snapshot-first-byte', payload: {}, at: now() });
    }, 2);
    return {};
  },

  /** Stops the profiler and writes the profile to `path` (a .cpuprofile file). */
  profileStop: async (a) => {
    const s = profiler;
    if (s === null) throw new Error('profiler not started');
    const r = await new Promise<{ profile: unknown }>((res, rej) => {
      s.post('Profiler.stop', (err, out) => (err ? rej(err) : res(out as { profile: unknown })));
    });
    fs.writeFileSync(a.path as string, JSON.stringify(r.profile));
    s.disconnect();
    profiler = null;
    return { path: a.path };
  },

  /** requestSnapshot on `shardId`, compacting the log up to the snapshot; returns index and time. */
  requestSnapshot: async (a) => {
    const t = performance.now();
    const index = await nh().requestSnapshot(a.shardId as number, {
      overrideCompactionOverhead: true, compactionOverhead: 0, timeoutMs: a.timeoutMs as number,
    });
    return { index, ms: performance.now() - t };
  },

  /** The local state machine's answer to a null query on `shardId` (no round trip). */
  staleRead: async (a) => ({ value: await nh().staleRead(a.shardId as number, null) }),

  /** This host's view of `shardId`. */
  shardInfo: async (a) => nh().getNodeHostInfo().shards.find((s) => s.shardId === a.shardId) ?? null,

  /** Closes the host; returns the time it took. */
  close: async () => {
    const t = performance.now();
    closingHost = host;
    if (host !== null) await host.close();
    host = null;
    closingHost = null;
    shards.length = 0;
    return { ms: performance.now() - t };
  },

  /**
   * Where a host stands, read from private fields (bench-only, to diagnose a `close` that
   * does not finish): replicas left and their apply/snapshot flags, the engine's, the
   * transport's and the LogDB's state.
   */
  diag: async () => {
    const h = (host ?? closingHost) as unknown as Diag | null;
    if (h === null) return { host: 'none' };
    const reps = [...h.replicas.values()];
    const server = h.transport.server;
    const connections = server === undefined ? -1 : await new Promise<number>((res) => server.getConnections((_e, n) => res(n)));
    return {
      closed: h.closed, replicas: reps.length,
      stopped: reps.filter((r) => r.stopped).length, applying: reps.filter((r) => r.applying).length,
      taking: reps.filter((r) => r.taking).length,
      stuck: reps.filter((r) => r.stopped && (r.applying || r.taking)).slice(0, 5)
        .map((r) => ({ shardId: r.cfg.shardId, applying: r.applying, taking: r.taking, queue: r.applyQueue.length, failure: r.failure?.message ?? null })),
      engine: { running: h.engine.running, scheduled: h.engine.scheduled, closed: h.engine.closed, ready: h.engine.ready.size, idleWaiters: h.engine.idle.length },
      transport: { state: h.transport.state, inbound: h.transport.inbound?.size, sends: h.transport.sends?.size, serverConnections: connections },
      logdb: { closing: h.logdb.closing, flushing: h.logdb.flushing, scheduled: h.logdb.scheduled, queue: h.logdb.queue?.length },
    };
  },
};

process.on('message', (msg: ChildRequest) => {
  const fn = ops[msg.op];
  if (msg.op === 'exit') {
    process.send?.({ id: msg.id, ok: true, result: {} }, () => process.exit(0));
    return;
  }
  if (fn === undefined) {
    process.send?.({ id: msg.id, ok: false, error: `unknown op ${msg.op}` });
    return;
  }
  fn(msg.args).then(
    (result) => process.send?.({ id: msg.id, ok: true, result }),
    (e: unknown) => process.send?.({ id: msg.id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
});
// Never outlive the parent.
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
