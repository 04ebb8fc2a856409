/**
 * One seed of the host simulator: builds a {@link World}, starts the hosts and shards, runs
 * client workers (sessions and plain proposals, ReadIndex or lease reads, stale reads) beside a
 * nemesis (crashes, half of them right after a write so that it may tear; restarts; symmetric
 * and one-way partitions; lossy/duplicating/slow networks; fsync EIO; ENOSPC; bit flips;
 * snapshots with and without export; leader transfers; single and joint membership changes),
 * then heals everything and checks liveness, the client history (linearizable, no
 * acknowledged write lost) and the checks the world ran all along.
 *
 * In about half the seeds (their own random stream, so the choice does not shift the others)
 * the shards read by lease and every host's clock runs at its own rate within ±drift (0–10%),
 * with `leaseDriftTicks` the bound that drift calls for ({@link driftTicksFor}).
 */
import { checkHistory, lostWrites, type KvOp } from '../chaos/linearizability.js';
import type { ClientSession } from '../../src/host/session.js';
import type { NodeHost } from '../../src/host/nodehost.js';
import { decodeResult, encodeCmd, type KvCmd, type ReadProbe } from './kv-sm.js';
import { calmNet } from './sim-network.js';
import { World, type HostSlot } from './world.js';
import { SimRandom } from './sim-random.js';
import { driftTicksFor } from './drift-runtime.js';
import { MembershipNemesis } from './membership-nemesis.js';

/** Parameters of one seed. */
export interface SeedOptions {
  readonly seed: number;
  readonly hosts: number;
  readonly shards: number;
  /** Nemesis steps. */
  readonly steps: number;
  /** Print every step. */
  readonly verbose?: boolean;
  /**
   * How the shards read: 'random' (default) leases with drifting clocks in about half the
   * seeds; 'lease' in every seed; 'read-index' never.
   */
  readonly readMode?: 'random' | 'lease' | 'read-index';
  /** Lease seeds: this `leaseDriftTicks` instead of the bound the drift calls for (a negative control). */
  readonly leaseDriftTicks?: number;
  /** The clocks' drift bound (a rate ratio, 0.1 = ±10%) instead of a draw of 0–10% in lease seeds; given, every seed drifts. */
  readonly drift?: number;
}

/** What one seed did and found. */
export interface SeedResult {
  readonly seed: number;
  readonly digest: string;
  readonly violations: readonly string[];
  readonly stats: Record<string, number>;
  /** Virtual milliseconds simulated. */
  readonly virtualMs: number;
}

const KEYS = 3;
const CALL_TIMEOUT_MS = 1500;

/** Races `p` against a virtual-time timeout (undefined on timeout). */
function within<T>(w: World, p: Promise<T>, ms: number): Promise<{ v: T } | { err: unknown } | undefined> {
  return new Promise((resolve) => {
    let done = false;
    w.sched.schedule(ms, () => { if (!done) { done = true; resolve(undefined); } }, 'client-timeout', 'sim');
    p.then((v) => { if (!done) { done = true; resolve({ v }); } }, (err: unknown) => { if (!done) { done = true; resolve({ err }); } });
  });
}

/** Runs one seed. */
export async function runSeed(o: SeedOptions): Promise<SeedResult> {
  const w = new World(o.seed, o.hosts);
  const r = w.random.fork();
  const stats: Record<string, number> = {};
  const count = (k: string): void => { stats[k] = (stats[k] ?? 0) + 1; };
  // Lease and clock-drift choices draw from their own stream.
  const lr = new SimRandom(o.seed * 7 + 3);
  const mode = o.readMode ?? 'random';
  const lease = mode === 'lease' || (mode === 'random' && lr.chance(0.5));
  const drift = o.drift ?? (lease ? lr.int(0, 11) / 100 : 0);
  if (drift > 0) for (const h of w.hosts) w.clockRates.set(h.id, 1 + (lr.float() * 2 - 1) * drift);
  if (lease) {
    w.reads = { readMode: 'lease', leaseDriftTicks: o.leaseDriftTicks ?? driftTicksFor(10, drift) };
    stats.leaseDriftTicks = w.reads.leaseDriftTicks;
  }
  if (drift > 0) stats.driftPercent = Math.round(drift * 100);
  const history: KvOp[] = [];
  let opId = 0;
  let valueSeq = 0;
  let stopClients = false;

  const voters = Math.min(3, o.hosts);
  const members = new Map<number, Map<number, string>>();
  for (let s = 1; s <= o.shards; s++) {
    const m = new Map<number, string>();
    for (let i = 1; i <= voters; i++) { m.set(i, w.hosts[i - 1]!.address); w.hosts[i - 1]!.replicas.set(s, i); }
    members.set(s, m);
  }
  const startHost = (h: HostSlot): void => { w.start(h, members).catch(() => undefined); };
  for (const h of w.hosts) startHost(h);

  const pickHost = (): HostSlot | undefined => {
    const live = w.live().filter((h) => h.replicas.size > 0);
    return live.length === 0 ? undefined : r.pick(live);
  };

  /** The live hosts whose replica of `shard` believes it leads (an old leader cut off among them). */
  const leaderHosts = (shard: number): HostSlot[] => w.live().filter((x) => {
    const rid = x.replicas.get(shard);
    try { return rid !== undefined && x.nh!.getLeaderId(shard).leaderId === rid; } catch { return false; }
  });

  // A client op through host h; records call and outcome in virtual time.
  async function clientOp(client: number, session: ClientSession | null, readOnly = false): Promise<void> {
    let h = pickHost();
    if (h === undefined) return;
    const shard = session?.shardId ?? r.int(1, o.shards + 1);
    const k = `k${r.int(0, KEYS)}`;
    const key = `${shard}/${k}`;
    const roll = readOnly ? 1 : r.int(0, 10);
    const call = w.sched.now;
    const id = opId++;
    if (roll < 3) {
      const stale = roll === 0;
      count(stale ? 'staleReads' : 'reads');
      // Lease seeds: half the reads go to a replica that believes it leads (maybe a stale one);
      // the lease reader's to the one of the oldest term (a leader cut off, while it believes).
      if (lease && !stale && (readOnly || lr.chance(0.5))) {
        const ls = leaderHosts(shard);
        const term = (x: HostSlot): number => x.nh!.getLeaderId(shard).term;
        if (ls.length > 0) h = readOnly ? ls.reduce((a, b) => (term(b) < term(a) ? b : a)) : ls[lr.int(0, ls.length)]!;
      }
      const nh = h.nh!;
      // A linearizable read sees every command applied anywhere before it began (the core
      // simulator's read check); its probe tells which index the state it read reflects.
      const floor = w.appliedFloor(shard);
      let seen = -1;
      const probe: ReadProbe = { k, seen: (i) => { seen = i; } };
      const res = await within(w, w.asHost(h, `read ${key}`, () => (stale ? nh.staleRead<string, string | null>(shard, k) : nh.read<ReadProbe, string | null>(shard, probe, { timeoutMs: CALL_TIMEOUT_MS }))), CALL_TIMEOUT_MS);
      // Stale reads are not linearizable; they are only exercised.
      if (!stale && res !== undefined && 'v' in res) {
        if (seen < floor) w.violation(`linearizable read${lease ? ' (lease mode)' : ''}: shard ${shard} read through ${h.address} saw the state as of index ${seen}, but index ${floor} was applied before the read began`);
        history.push({ id, client, key, f: 'get', call, ret: w.sched.now, status: 'ok', read: res.v });
        // Answered within the virtual millisecond it was asked: no heartbeat round, so by lease.
        if (lease && w.sched.now === call) count('leaseReads');
      }
      return;
    }
    const v = `v${valueSeq++}`;
    const cmd: KvCmd = roll < 6 ? { op: 'put', k, v } : roll < 7 ? { op: 'del', k } : { op: 'cas', k, e: r.chance(0.5) ? null : `v${r.int(Math.max(0, valueSeq - 6), valueSeq)}`, v };
    const f = cmd.op === 'put' ? 'put' : cmd.op === 'del' ? 'delete' : 'cas';
    count(session === null ? 'writes' : 'sessionWrites');
    const base = { id, client, key, f, value: cmd.op === 'del' ? undefined : cmd.v, expected: cmd.op === 'cas' ? cmd.e : undefined, call } as const;
    // With a session a write is retried (same series) through live hosts until answered: exactly once.
    for (let attempt = 0; ; attempt++) {
      const target = attempt === 0 ? h : pickHost();
      const tnh = target?.nh;
      const res = target === undefined || tnh === undefined ? undefined
        : await within(w, w.asHost(target, `propose ${key}`, () => tnh.propose(shard, encodeCmd(cmd), { timeoutMs: CALL_TIMEOUT_MS, ...(session === null ? {} : { session }) })), CALL_TIMEOUT_MS);
      if (res !== undefined && 'v' in res) {
        const out = decodeResult(res.v);
        history.push({ ...base, ret: w.sched.now, status: 'ok', ok: cmd.op === 'cas' ? out.ok : undefined, current: cmd.op === 'cas' && !out.ok ? out.prev : undefined });
        session?.proposalCompleted();
        return;
      }
      count(res === undefined ? 'err.client-timeout' : `err.${(res.err as { code?: string }).code ?? String(res.err)}`);
      if (session === null || attempt >= 6 || stopClients) {
        history.push({ ...base, ret: null, status: 'info' });
        if (session !== null) session.proposalCompleted();
        return;
      }
      count('sessionRetries');
      await within(w, new Promise(() => undefined), 50);
    }
  }

  async function clientLoop(client: number, withSession: boolean): Promise<void> {
    let session: ClientSession | null = null;
    while (!stopClients) {
      await within(w, new Promise(() => undefined), r.int(5, 60));
      if (stopClients) break;
      if (withSession && session === null) {
        const h = pickHost();
        if (h === undefined) continue;
        const nh = h.nh!;
        const shard = 1;
        const res = await within(w, w.asHost(h, 'session', () => nh.getNewSession(shard, { timeoutMs: CALL_TIMEOUT_MS })), CALL_TIMEOUT_MS);
        if (res !== undefined && 'v' in res) { session = res.v; count('sessions'); }
        continue;
      }
      // A session belongs to shard 1: its client writes there only.
      await clientOp(client, session);
    }
  }
  /** Lease seeds: a fourth client reads only, often, half the time at a replica that believes it leads. */
  async function leaseReader(): Promise<void> {
    while (!stopClients) {
      await within(w, new Promise(() => undefined), lr.int(5, 30));
      if (!stopClients) await clientOp(4, null, true);
    }
  }
  const clients = [clientLoop(1, false), clientLoop(2, false), clientLoop(3, true), ...(lease ? [leaseReader()] : [])];
  void clients;

  // ---- the nemesis -----------------------------------------------------------------------
  const down = (): HostSlot[] => w.hosts.filter((h) => !h.up);
  const restartable = (): HostSlot[] => down().filter((h) => !h.retired);
  const trace = (s: string): void => { w.sched.trace(`nemesis ${s}`); if (o.verbose === true) console.log(`t=${w.sched.now} ${s}`); };
  /** Hosts whose crash is armed to land after their next write (counted as down). */
  const crashing = new Set<HostSlot>();
  const membership = new MembershipNemesis({
    w, r, shards: o.shards, timeoutMs: CALL_TIMEOUT_MS, trace, count, within: (p, ms) => within(w, p, ms),
  });

  await w.sched.runUntil(w.sched.now + 1500);
  for (let step = 0; step < o.steps && w.violations.length === 0 && w.sched.stalledAt === undefined; step++) {
    const roll = r.int(0, 100);
    if (roll < 12) {
      const live = w.live().filter((h) => !crashing.has(h));
      if (down().length + crashing.size < Math.floor((voters - 1) / 2) + (o.hosts - voters) && live.length > 0) {
        const h = r.pick(live);
        count('crashes');
        if (r.chance(0.5)) {
          // The power fails during one of the host's next syncs (most are the WAL's), so what
          // it was syncing may tear (sim-fs keeps a random prefix of the first unsynced write
          // of a file half the time). No sync within 300 ms: the crash lands then.
          const tag = h.tag;
          trace(`crash ${tag} during its next sync`); count('crashesInSync');
          crashing.add(h);
          const go = (): boolean => {
            if (!crashing.delete(h) || h.tag !== tag || !h.up) return false;
            w.crash(h);
            return true;
          };
          w.fs.crashDuringNextSync(h.dir, go);
          w.sched.schedule(300, go, 'crash-deadline', 'sim');
        } else {
          trace(`crash ${h.tag}`);
          w.crash(h);
        }
      }
    } else if (roll < 24) {
      const d = restartable();
      if (d.length > 0) { const h = r.pick(d); trace(`restart h${h.id}`); count('restarts'); startHost(h); }
    } else if (roll < 32) {
      let h = r.pick(w.hosts);
      // Lease seeds: often cut off a leader, the case its lease must survive.
      if (lease && lr.chance(0.5)) {
        const ls = leaderHosts(lr.int(1, o.shards + 1));
        if (ls.length > 0) h = ls[lr.int(0, ls.length)]!;
      }
      const rest = w.hosts.filter((x) => x !== h).map((x) => x.address);
      if (r.int(0, 3) === 0) {
        // One-way (a third of the partitions, as the core simulator): h cannot send, or cannot hear.
        const out = r.chance(0.5);
        trace(out ? `cut ${h.address} > rest` : `cut rest > ${h.address}`); count('oneWayPartitions');
        if (out) w.net.partitionOneWay([h.address], rest);
        else w.net.partitionOneWay(rest, [h.address]);
      } else {
        trace(`isolate ${h.address}`); count('partitions');
        w.net.partition([h.address], rest);
      }
    } else if (roll < 40) {
      trace('heal'); w.net.heal();
    } else if (roll < 48) {
      w.net.faults = { dropRate: r.chance(0.5) ? 0.05 : 0, duplicateRate: r.chance(0.5) ? 0.05 : 0, minLatencyMs: 1, maxLatencyMs: r.pick([3, 10, 40]) };
      trace(`net ${JSON.stringify(w.net.faults)}`); count('netFaults');
    } else if (roll < 56) {
      const h = pickHost();
      if (h !== undefined) {
        const nh = h.nh!;
        const shard = r.int(1, o.shards + 1);
        const exp = r.chance(0.3);
        trace(`snapshot ${h.address} shard ${shard}${exp ? ' export' : ''}`); count('snapshots');
        const exportPath = `${h.dir}-exports`;
        if (exp) w.fs.mkdirDurable(exportPath);
        void within(w, w.asHost(h, 'snapshot', () => nh.requestSnapshot(shard, { timeoutMs: CALL_TIMEOUT_MS, ...(exp ? { exportPath } : {}) })), CALL_TIMEOUT_MS);
      }
    } else if (roll < 62) {
      const h = pickHost();
      if (h !== undefined) {
        const nh: NodeHost = h.nh!;
        const shard = r.int(1, o.shards + 1);
        const target = r.int(1, voters + 1);
        trace(`transfer shard ${shard} to ${target} via ${h.address}`); count('transfers');
        void within(w, w.asHost(h, 'transfer', () => nh.requestLeaderTransfer(shard, target)), CALL_TIMEOUT_MS);
      }
    } else if (roll < 65) {
      const live = w.live();
      if (live.length > 0 && down().length === 0 && crashing.size === 0) {
        // fsyncgate: the next fsync of this host fails and its unsynced data is gone. The host
        // must fail-stop; the operator restarts it (a crash + restart here).
        const h = r.pick(live);
        trace(`eio ${h.address}`); count('eio');
        const tag = h.tag;
        w.faulted.add(tag);
        let walHit = '';
        w.fs.failNextFsync(h.dir, (p) => { if (p.startsWith(`${h.dir}/wal`)) walHit = p; });
        w.sched.schedule(r.int(200, 600), () => {
          if (h.tag !== tag || !h.up) return;
          // fsyncgate: a host whose WAL sync failed must have stopped (the replica or the host).
          if (walHit !== '' && !w.failStops.has(tag)) w.violation(`host ${h.id} (${tag}) went on after fsync of ${walHit} failed with EIO`);
          w.crash(h);
          startHost(h);
        }, 'eio-restart', 'sim');
      }
    } else if (roll >= 71 && roll < 77 && o.hosts > voters) {
      // Membership: single adds and removes, and joint changes (membership-nemesis.ts).
      membership.step();
    } else if (roll >= 68 && roll < 71 && restartable().length > 0 && w.hosts.every((h) => !h.retired && !h.flipped)) {
      // Bit rot at rest: a byte of a down host's WAL or snapshot flips. Its next start must
      // refuse with a clear error (then it stays down for good, so one host at most) or be
      // unharmed; the checks judge.
      const h = r.pick(restartable());
      const hit = w.fs.flipByte(h.dir, (p) => /\/wal\/|snapshot/.test(p));
      if (hit !== undefined) {
        h.flipped = true;
        trace(`flip ${hit.path}@${hit.offset}`); count('flips');
      }
    } else if (roll < 68) {
      const live = w.live();
      if (live.length > 0 && down().length === 0 && crashing.size === 0) {
        // A full disk: writes that grow files fail with ENOSPC (WAL appends, snapshot saves).
        // The host may fail a replica or itself; the operator frees space and restarts it.
        const h = r.pick(live);
        const tag = h.tag;
        trace(`enospc ${h.address}`); count('enospc');
        w.faulted.add(tag);
        w.fs.setQuota(h.dir, w.fs.usedBytes(h.dir) + r.int(0, 4096));
        w.sched.schedule(r.int(200, 600), () => {
          w.fs.setQuota(h.dir, undefined);
          if (h.tag !== tag || !h.up) return;
          w.crash(h);
          startHost(h);
        }, 'enospc-restart', 'sim');
      }
    }
    await w.sched.runUntil(w.sched.now + r.int(50, 400));
  }

  // ---- heal and check liveness -------------------------------------------------------------
  trace('final heal');
  crashing.clear();
  w.net.heal();
  w.net.faults = { ...calmNet };
  for (const h of restartable()) startHost(h);
  stopClients = true;
  await w.sched.runUntil(w.sched.now + 3 * CALL_TIMEOUT_MS + 500);
  const finals = new Map<string, string | null>();
  for (let s = 1; s <= o.shards && w.violations.length === 0 && w.sched.stalledAt === undefined; s++) {
    const deadline = w.sched.now + 20_000;
    let done = false;
    while (!done && w.sched.now < deadline && w.sched.stalledAt === undefined) {
      const h = pickHost();
      if (h === undefined) { await w.sched.runUntil(w.sched.now + 100); continue; }
      const nh = h.nh!;
      const res = await w.settle(within(w, w.asHost(h, 'final write', () => nh.propose(s, encodeCmd({ op: 'put', k: 'final', v: 'x' }), { timeoutMs: 1000 })), 1000));
      if (res !== undefined && 'v' in res) done = true;
      else await w.sched.runUntil(w.sched.now + 100);
    }
    if (w.sched.stalledAt !== undefined) break;
    if (!done) { w.violation(`liveness: shard ${s} applied no write within 20 s of virtual time after healing`); break; }
    for (let k = 0; k < KEYS; k++) {
      const key = `${s}/k${k}`;
      let got = false;
      for (let attempt = 0; attempt < 20 && !got; attempt++) {
        const h = pickHost();
        if (h === undefined) { await w.sched.runUntil(w.sched.now + 100); continue; }
        const nh = h.nh!;
        const call = w.sched.now;
        const res = await w.settle(within(w, w.asHost(h, 'final read', () => nh.read<string, string | null>(s, `k${k}`, { timeoutMs: 1000 })), 1000));
        if (res !== undefined && 'v' in res) {
          got = true;
          finals.set(key, res.v);
          history.push({ id: opId++, client: 0, key, f: 'get', call, ret: w.sched.now, status: 'ok', read: res.v });
        }
      }
      if (!got) w.violation(`liveness: no final read of ${key}`);
    }
  }
  if (w.violations.length === 0 && w.sched.stalledAt === undefined) {
    const res = checkHistory(history, { stepBudget: 200_000 });
    if (res.verdict === 'not-linearizable') {
      for (const k of res.keys.filter((x) => x.verdict === 'not-linearizable')) w.violation(`history of key ${k.key} is not linearizable (${k.ops} ops; stuck at ops ${k.stuckAt?.join(',')} with state ${JSON.stringify(k.stateAtStuck)})`);
    }
    for (const l of lostWrites(history, finals)) w.violation(`acknowledged write lost: ${l}`);
    // Every live replica catches up and agrees (the hash check runs as they apply).
    await w.sched.runUntil(w.sched.now + 2000);
  }
  if (w.sched.stalledAt !== undefined) w.violation(w.sched.eventsRun >= w.sched.maxEvents
    ? `virtual time crawled: ${w.sched.maxEvents} events ran by t=${w.sched.stalledAt} (a livelock)`
    : `virtual time stalled at t=${w.sched.stalledAt}: ${w.sched.maxEventsAtOneTime} events ran without time passing (a busy loop)`);
  stats.ops = history.length;
  if (w.refusals.length > 0) stats.refusedStarts = w.refusals.length;
  if (o.verbose === true) for (const m of w.refusals) console.log(`refused start (damaged disk): ${m}`);
  stats.messages = w.net.delivered;
  stats.leadersChecked = w.elections;
  stats.events = w.sched.eventsRun;
  for (const [k, v] of Object.entries({ ...w.fs.faults, ...w.fs.calls })) stats[`disk.${k}`] = v;
  for (const line of w.violations) w.sched.trace(`violation ${line}`);
  // Nothing of this world may run after it: kill every tag still pending.
  for (const h of w.hosts) if (h.up) w.crash(h);
  return { seed: o.seed, digest: w.sched.digest(), violations: w.violations, stats, virtualMs: w.sched.now };
}
