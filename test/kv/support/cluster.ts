/**
 * Test support: a cluster of `sampan kv` processes on loopback, one replica per process.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, http, run, until, type Child } from './procs.js';

/** One replica process and its addresses. */
export interface Node {
  readonly id: number;
  readonly raft: string;
  readonly httpAddr: string;
  readonly url: string;
  readonly dataDir: string;
  child: Child | null;
}

/** A set of replicas sharing a temp root. */
export class Cluster {
  readonly nodes = new Map<number, Node>();
  readonly root = mkdtempSync(join(tmpdir(), 'sampan-kv-'));

  constructor(private readonly extra: readonly string[] = []) {}

  /** Allocates addresses for replicas `ids`. */
  async allocate(ids: readonly number[]): Promise<void> {
    const ports = await freePorts(ids.length * 2);
    ids.forEach((id, i) => {
      const raft = `127.0.0.1:${ports[2 * i] as number}`;
      const httpAddr = `127.0.0.1:${ports[2 * i + 1] as number}`;
      this.nodes.set(id, { id, raft, httpAddr, url: `http://${httpAddr}`, dataDir: join(this.root, `r${id}`), child: null });
    });
  }

  /** `1=H:P,2=H:P,…` of `ids`. */
  members(ids: readonly number[]): string {
    return ids.map((id) => `${id}=${this.node(id).raft}`).join(',');
  }

  node(id: number): Node {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Starts replica `id` with extra flags (e.g. `--initial-members …` or `--join`). */
  start(id: number, flags: readonly string[] = []): Child {
    const n = this.node(id);
    n.child = run(['kv', '--replica-id', String(id), '--raft-address', n.raft, '--http-address', n.httpAddr,
      '--data-dir', n.dataDir, '--rtt-ms', '20', ...this.extra, ...flags]);
    return n.child;
  }

  /** Waits until replica `id` answers /status and knows a leader of every shard. */
  async ready(id: number, ms = 20000): Promise<void> {
    await until(`replica ${id} ready`, ms, async () => {
      const r = await http('GET', `${this.node(id).url}/status`, undefined, 1000);
      const st = r.json<{ replicaId: number; shards: Array<{ leaderId: number }> }>();
      // Another test file's server on a reused port must not pass for this replica.
      if (st.replicaId !== id) throw new Error(`replica ${id}'s port answers as replica ${st.replicaId}: another process holds it`);
      return st.shards.length > 0 && st.shards.every((s) => s.leaderId > 0) ? true : undefined;
    });
  }

  /** The replica that leads shard 1, as replica `askId` sees it. */
  async leader(askId: number, shard = 1): Promise<number> {
    const r = await http('GET', `${this.node(askId).url}/status`);
    return r.json<{ shards: Array<{ shardId: number; leaderId: number }> }>().shards.find((s) => s.shardId === shard)?.leaderId ?? 0;
  }

  /** Kills replica `id` with `signal` and waits for its exit. */
  async stop(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string> {
    const c = this.node(id).child;
    if (c === null) return -1;
    c.proc.kill(signal);
    const code = await c.exited;
    this.node(id).child = null;
    return code;
  }
}
