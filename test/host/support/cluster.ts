/**
 * Several NodeHosts in one process over the in-memory network, each with the write-ahead-log
 * LogDB on real files in a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeHost } from '../../../src/host/nodehost.js';
import { MemoryNetwork } from '../../../src/transport/memory-network.js';
import type { NodeHostConfig, ShardConfig } from '../../../src/host/config.js';
import { KvStateMachine } from './kv.js';

/** A set of hosts sharing one in-memory network. */
export class HostCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'sampan-host-'));
  readonly network = new MemoryNetwork({ seed: 7 });
  readonly hosts = new Map<number, NodeHost>();
  /** Every host ever created, so `closeAll` closes even those a test replaced or dropped. */
  private readonly created = new Set<NodeHost>();
  /**
   * A real deployment's listening socket keeps the process alive; the in-memory network holds
   * nothing, and the host's tick timer is unref'd. This handle stands in for the socket so a
   * test awaiting a request is not cut short by an empty event loop. (Whether a pending request
   * alone keeps the loop alive is tested separately, without this.)
   */
  private readonly keepAlive: ReturnType<typeof setTimeout> | undefined;

  /** @param opts.keepAlive hold the event loop open while the cluster lives (default true). */
  constructor(opts: { keepAlive?: boolean } = {}) {
    // A bounded timer, not an interval: a test that times out before closeAll cannot keep its
    // file's process alive for more than a minute.
    this.keepAlive = opts.keepAlive === false ? undefined : setTimeout(() => {}, 60_000);
  }

  /** The regular KV state machines made by {@link startShard}, by `host/shard`. */
  readonly sms = new Map<string, KvStateMachine>();

  /** The raft address of host `i`. */
  address(i: number): string { return `127.0.0.1:${20000 + i}`; }

  /** The data directory of host `i`. */
  hostDir(i: number): string { return join(this.dir, `host-${i}`); }

  /** Members map for replica ids `ids`, replica i living on host i. */
  members(ids: readonly number[]): Map<number, string> {
    return new Map(ids.map((i) => [i, this.address(i)] as const));
  }

  /** Creates (or re-creates, on the same directory) host `i`. */
  async start(i: number, extra: Partial<NodeHostConfig> = {}): Promise<NodeHost> {
    const nh = await NodeHost.create({
      nodeHostDir: this.hostDir(i), raftAddress: this.address(i), rttMillisecond: 20,
      transportFactory: (handler) => this.network.createTransport({ address: this.address(i), handler }),
      ...extra,
    });
    this.created.add(nh);
    this.hosts.set(i, nh);
    return nh;
  }

  /** Host `i`. @throws Error when it is not running. */
  get(i: number): NodeHost {
    const h = this.hosts.get(i);
    if (h === undefined) throw new Error(`no host ${i}`);
    return h;
  }

  /** The regular KV state machine of `shardId` on host `i` made by {@link startShard}. */
  sm(i: number, shardId: number): KvStateMachine {
    const sm = this.sms.get(`${i}/${shardId}`);
    if (sm === undefined) throw new Error(`no state machine for host ${i} shard ${shardId}`);
    return sm;
  }

  /**
   * Starts a replica of `shardId` with a fresh {@link KvStateMachine} on each host of `hostIds`
   * (replica i on host i). `members` defaults to `hostIds`; pass an empty array to restart
   * replicas from their stored data.
   */
  async startShard(shardId: number, hostIds: readonly number[], opts: {
    members?: readonly number[]; join?: boolean; config?: Partial<ShardConfig>;
  } = {}): Promise<void> {
    const members = this.members(opts.members ?? hostIds);
    for (const i of hostIds) {
      await this.get(i).startReplica(opts.join === true ? new Map() : members, opts.join ?? false, () => {
        const sm = new KvStateMachine();
        this.sms.set(`${i}/${shardId}`, sm);
        return sm;
      }, { shardId, replicaId: i, ...opts.config });
    }
  }

  /**
   * Closes host `i` abruptly (no graceful leadership hand-off) and forgets it; its directory
   * stays for a restart with {@link start}.
   */
  async crash(i: number): Promise<void> {
    const h = this.get(i);
    this.hosts.delete(i);
    if (!await closeWithin(h)) throw new Error(`close() of host ${i} did not resolve`);
  }

  /** Waits until `fn` returns true, polling; fails after `ms`. */
  async until(fn: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
    const end = Date.now() + ms;
    while (!fn()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** The host id whose replica leads `shardId`, or 0. */
  leaderOf(shardId: number): number {
    for (const [i, h] of this.hosts) {
      const info = h.getNodeHostInfo().shards.find((s) => s.shardId === shardId);
      if (info?.isLeader) return i;
    }
    return 0;
  }

  /**
   * Waits until one of `hostIds` leads `shardId` and every host in `hostIds` knows that
   * leader; returns the leader's host id.
   */
  async waitLeader(shardId: number, hostIds: readonly number[], ms = 5000): Promise<number> {
    let leader = 0;
    await this.until(() => {
      leader = this.leaderOf(shardId);
      if (leader === 0 || !hostIds.includes(leader)) return false;
      const leaderReplica = this.get(leader).getNodeHostInfo().shards.find((s) => s.shardId === shardId)?.replicaId;
      return hostIds.every((i) => this.get(i).getLeaderId(shardId).leaderId === leaderReplica);
    }, ms, `a leader of shard ${shardId} known on hosts ${hostIds.join(',')}`);
    return leader;
  }

  /** The applied index of `shardId` on host `i` (0 when it does not run there). */
  applied(i: number, shardId: number): number {
    return this.get(i).getNodeHostInfo().shards.find((s) => s.shardId === shardId)?.appliedIndex ?? 0;
  }

  /**
   * Closes every host this cluster created (idempotent) and removes the directory.
   * @throws Error naming the hosts whose close() did not resolve in time (after cleaning up).
   */
  async closeAll(): Promise<void> {
    const hung: string[] = [];
    try {
      for (const h of this.created) if (!await closeWithin(h)) hung.push(h.raftAddress);
    } finally {
      clearTimeout(this.keepAlive);
      this.hosts.clear();
      rmSync(this.dir, { recursive: true, force: true });
    }
    if (hung.length > 0) throw new Error(`close() did not resolve on ${hung.join(', ')}`);
  }
}

/**
* Closes `h` abruptly (no leadership hand-over: a crash as the cluster sees it), waiting at most `ms`; resolves false if close() had not resolved by then, so a
 * hanging close fails the test instead of hanging the run.
 */
export async function closeWithin(h: NodeHost, ms = 3000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((res) => { timer = setTimeout(() => res(false), ms); });
  try {
    return await Promise.race([h.close({ drainTimeoutMs: 0 }).then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
