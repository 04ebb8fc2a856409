/**
 * The chaos runner's cluster: real `sampan kv` processes on loopback, one replica per process,
 * each behind its proxy. Replica `i` advertises its proxy's address as its raft address, binds
 * its real port with `--listen-address`, and dials from its own loopback address
 * (`--dial-from-host`), so its raft port is reachable only through the proxy and every proxy
 * knows where a connection comes from. The member set changes as the nemesis replaces
 * replicas; every process ever started (each incarnation) is kept for the logs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, run, type Child } from '../../test/kv/support/procs.js';
import { send, sleep } from './http-client.js';
import { ChaosNetwork, dialHostOf } from './network.js';

/** One replica: its addresses, data dir and processes. */
export interface ChaosNode {
  readonly id: number;
  /** The advertised raft address: its proxy's (moves with the `move` fault). */
  raft: string;
  /** Where the replica really listens (only its proxy connects there); moves if the port was taken. */
  listen: string;
  /** Its HTTP API; moves if the port was taken. */
  httpAddr: string;
  readonly dataDir: string;
  /** The loopback address it dials from. */
  readonly dialHost: string;
  /** The running process, or null. */
  child: Child | null;
  /** Every process started for it, in order. */
  readonly incarnations: Child[];
}

/** One shard in a replica's `GET /status`. */
export interface ShardStatus {
  readonly shardId: number;
  readonly leaderId: number;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly isLeader: boolean;
  readonly membership: { readonly voters: Record<string, string> };
  /** The newest state hash (`POST /admin/verify`), or null. */
  readonly stateHash?: { readonly index: number; readonly hash: string } | null;
}

/** A replica's `GET /status`. */
export interface Status {
  readonly shards: ShardStatus[];
}

/** Settings of the replicas' processes. */
export interface ClusterOptions {
  readonly shards: number;
  readonly rttMs: number;
  readonly snapshotEntries: number;
  readonly stateMachine: 'memory' | 'disk';
  /** `--read-mode` of the replicas (default `read-index`). */
  readonly readMode?: 'read-index' | 'lease';
  /** A replica process that exits when nobody killed it and no exit was allowed. */
  readonly onUnexpectedExit: (id: number, code: number | string, stderr: string) => void;
  /** A replica process found its port taken and is started again on new ports. */
  readonly onPortRetry: (id: number, error: string) => void;
}

/** The replicas of a chaos run, their proxies, and the current member set. */
export class ChaosCluster {
  /** The run's directory (replica data dirs, history, logs). */
  readonly root = mkdtempSync(join(tmpdir(), 'sampan-chaos-'));
  readonly net = new ChaosNetwork();
  private readonly nodes = new Map<number, ChaosNode>();
  private memberIds: number[] = [];
  private readonly killedByUs = new Set<Child>();
  private readonly mayExit = new Set<Child>();
  private readonly paused = new Set<number>();
  private readonly portRetrying = new Set<number>();
  private nextId = 1;

  constructor(private readonly o: ClusterOptions) {}

  /** The current members, in the order they joined. */
  get members(): readonly number[] {
    return this.memberIds;
  }

  /** Every replica ever created (members and replaced ones). */
  get all(): readonly ChaosNode[] {
    return [...this.nodes.values()];
  }

  /** Replica `id`. @throws if unknown */
  node(id: number): ChaosNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no replica ${id}`);
    return n;
  }

  /** Allocates a new replica id, its ports and its proxy (not yet a member, not started). */
  async create(): Promise<number> {
    const id = this.nextId++;
    const [proxyPort, listenPort, httpPort] = await freePorts(3) as [number, number, number];
    const listen = `127.0.0.1:${listenPort}`;
    const raft = await this.net.add(id, `127.0.0.1:${proxyPort}`, listen);
    this.nodes.set(id, {
      id, raft, listen, httpAddr: `127.0.0.1:${httpPort}`, dataDir: join(this.root, `r${id}`), dialHost: dialHostOf(id),
      child: null, incarnations: [],
    });
    return id;
  }

  /** Makes `id` a member (the runner's view; the shard's membership is changed over HTTP). */
  addMember(id: number): void {
    if (!this.memberIds.includes(id)) this.memberIds.push(id);
  }

  /** Drops `id` from the member set, stops its proxy and wipes its data dir (its process must be gone). */
  async forget(id: number): Promise<void> {
    this.memberIds = this.memberIds.filter((m) => m !== id);
    await this.net.remove(id);
    rmSync(this.node(id).dataDir, { recursive: true, force: true });
  }

  /** `1=H:P,2=H:P,…` (proxy addresses) of `ids`. */
  membersFlag(ids: readonly number[]): string {
    return ids.map((id) => `${id}=${this.node(id).raft}`).join(',');
  }

  /**
   * Starts a process for replica `id` with extra flags (`--initial-members …`, `--join`).
   * With `mayExit` an exit of its own is not reported (the caller judges it; see {@link allowExit}).
   * A process that exits because its listen or HTTP port was taken meanwhile (the ports were
   * free when allocated; any process's outgoing connection may grab one since) is started
   * again on new ports, its proxy retargeted: a harness race, not a fault.
   */
  start(id: number, flags: readonly string[] = [], mayExit = false, portRetries = 3): Child {
    const n = this.node(id);
    const c = run(['kv', '--replica-id', String(id), '--raft-address', n.raft, '--listen-address', n.listen,
      '--dial-from-host', n.dialHost, '--http-address', n.httpAddr, '--data-dir', n.dataDir,
      '--rtt-ms', String(this.o.rttMs), '--shards', String(this.o.shards), '--state-machine', this.o.stateMachine,
      '--snapshot-entries', String(this.o.snapshotEntries), '--compaction-overhead', '50',
      '--read-mode', this.o.readMode ?? 'read-index', ...flags]);
    n.child = c;
    n.incarnations.push(c);
    if (mayExit) this.mayExit.add(c);
    void c.exited.then(async (code) => {
      if (n.child === c) n.child = null;
      if (this.killedByUs.has(c)) return;
      if (portRetries > 0 && n.child === null && / address in use$/m.test(c.err) && this.memberIds.includes(id)) {
        this.portRetrying.add(id);
        try {
          const [listenPort, httpPort] = await freePorts(2) as [number, number];
          n.listen = `127.0.0.1:${listenPort}`;
          n.httpAddr = `127.0.0.1:${httpPort}`;
          this.net.retarget(id, n.listen);
          this.o.onPortRetry(id, c.err.trim().split('\n').pop() ?? '');
          if (n.child === null && this.memberIds.includes(id)) this.start(id, flags, this.mayExit.has(c), portRetries - 1);
        } finally {
          this.portRetrying.delete(id);
        }
        return;
      }
      if (!this.mayExit.has(c)) this.o.onUnexpectedExit(id, code, c.err);
    });
    return c;
  }

  /** Whether replica `id`'s process exited on a taken port and is being started again. */
  retrying(id: number): boolean {
    return this.portRetrying.has(id);
  }

  /** Whether an exit of `c` of its own is allowed (true) or a problem from now on (false). */
  allowExit(c: Child, allowed: boolean): void {
    if (allowed) this.mayExit.add(c);
    else this.mayExit.delete(c);
  }

  /** SIGKILLs replica `id` (waking it first if paused) and waits for the exit. */
  async kill(id: number): Promise<void> {
    const n = this.node(id);
    const c = n.child;
    if (c === null) return;
    this.killedByUs.add(c);
    if (this.paused.delete(id)) c.proc.kill('SIGCONT');
    c.proc.kill('SIGKILL');
    await c.exited;
    n.child = null;
  }

  /**
   * SIGTERMs replica `id` (a graceful stop: it drains its leadership, then exits) and waits for
   * the exit; resolves with the exit code (0 expected) or the signal's name.
   */
  async terminate(id: number): Promise<number | string> {
    const n = this.node(id);
    const c = n.child;
    if (c === null) return -1;
    this.killedByUs.add(c);
    if (this.paused.delete(id)) c.proc.kill('SIGCONT');
    c.proc.kill('SIGTERM');
    const code = await c.exited;
    n.child = null;
    return code;
  }

  /**
   * Gives stopped replica `id` a new raft address: a new proxy on a new port, the old one
   * closed. Its next start advertises the new address (same data dir); returns the old one.
   */
  async moveRaft(id: number): Promise<string> {
    const n = this.node(id);
    if (n.child !== null) throw new Error(`replica ${id} must be stopped to move`);
    const old = n.raft;
    n.raft = await this.net.move(id, n.listen);
    return old;
  }

  /** SIGSTOPs replica `id`. */
  pause(id: number): void {
    const c = this.node(id).child;
    if (c === null) return;
    this.paused.add(id);
    c.proc.kill('SIGSTOP');
  }

  /** SIGCONTs replica `id` if it is paused. */
  resume(id: number): void {
    const c = this.node(id).child;
    if (this.paused.delete(id) && c !== null) c.proc.kill('SIGCONT');
  }

  /** Whether replica `id` runs and is not paused. */
  alive(id: number): boolean {
    return this.nodes.get(id)?.child != null && !this.paused.has(id);
  }

  /** The live members. */
  live(): number[] {
    return this.memberIds.filter((id) => this.alive(id));
  }

  /** Replica `id`'s `GET /status`, or undefined. */
  async status(id: number, timeoutMs = 1000): Promise<Status | undefined> {
    const a = await send(this.node(id).httpAddr, 'GET', '/status', undefined, timeoutMs);
    if (a.status !== 200) return undefined;
    return JSON.parse(a.text) as Status;
  }

  /** The leader of `shard` as the live members see it (the highest term wins), or 0 after ~3 s of asking. */
  async leaderOf(shard: number, attempts = 15): Promise<number> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      let best = { term: -1, leader: 0 };
      for (const id of this.live()) {
        const s = (await this.status(id))?.shards.find((x) => x.shardId === shard);
        if (s !== undefined && s.leaderId > 0 && s.term > best.term) best = { term: s.term, leader: s.leaderId };
      }
      if (best.leader > 0 && this.memberIds.includes(best.leader)) return best.leader;
      await sleep(200);
    }
    return 0;
  }

  /**
   * Waits until replica `id` answers `/status` and knows a leader of every shard; false after
   * `ms`, or as soon as its process is gone (and not being started again on new ports).
   */
  async ready(id: number, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (this.node(id).child === null && !this.portRetrying.has(id)) return false;
      const s = await this.status(id);
      if (s !== undefined && s.shards.length === this.o.shards && s.shards.every((x) => x.leaderId > 0)) return true;
      await sleep(100);
    }
    return false;
  }

  /** Kills every process, wakes paused ones first, stops the proxies. */
  async shutdown(): Promise<void> {
    for (const n of this.nodes.values()) {
      for (const c of n.incarnations) this.killedByUs.add(c);
      const c = n.child;
      if (c !== null && c.proc.exitCode === null && c.proc.signalCode === null) {
        c.proc.kill('SIGCONT');
        c.proc.kill('SIGKILL');
      }
    }
    this.paused.clear();
    await Promise.all(this.all.flatMap((n) => n.incarnations.map((c) => c.exited)));
    await this.net.close();
  }
}
