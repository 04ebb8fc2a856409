/**
 * Example: a replicated map with snapshots. Three NodeHosts in this process, on loopback TCP,
 * replicate a Map; automatic snapshots (every 20 entries) compact the log; replica 3 is
 * stopped, misses writes, and is restarted from its own snapshot plus the log tail.
 *
 *   npm run example:map        (= npm run build && node dist/examples/replicated-map.js)
 *
 * BASE_PORT (default 27100) sets the Raft ports BASE_PORT+1..+3; DATA_DIR a directory to keep
 * the data in (default: a temporary one, removed at the end).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NodeHost, type SMEntry, type SMResult, type SnapshotReader, type SnapshotWriter, type StateMachine,
} from 'sampan';

/** A replicated map: commands are JSON {key, value}; queries are keys. */
class MapStateMachine implements StateMachine {
  private map = new Map<string, string>();
  /** How many times this replica's state came from a snapshot. */
  recoveries = 0;

  update(entries: readonly SMEntry[]): SMResult[] {
    return entries.map((e) => {
      const { key, value } = JSON.parse(new TextDecoder().decode(e.cmd)) as { key: string; value: string };
      this.map.set(key, value);
      return { value: e.index };
    });
  }

  lookup(key: unknown): string | undefined {
    return this.map.get(String(key));
  }

  async saveSnapshot(w: SnapshotWriter): Promise<void> {
    await w.write(new TextEncoder().encode(JSON.stringify([...this.map])));
  }

  async recoverFromSnapshot(r: SnapshotReader): Promise<void> {
    this.map = new Map(JSON.parse(new TextDecoder().decode(await r.readAll())) as Array<[string, string]>);
    this.recoveries++;
  }

  close(): void {}
}

const basePort = Number(process.env.BASE_PORT ?? 27100);
const dataDir = process.env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'sampan-example-map-'));
const members = new Map([1, 2, 3].map((i) => [i, `127.0.0.1:${basePort + i}`] as const));
const shard = { shardId: 1, snapshotEntries: 20, compactionOverhead: 5 };
const hosts = new Map<number, NodeHost>();
const machines = new Map<number, MapStateMachine>();

/** Starts host `id` and its replica of shard 1 (a new shard, or a restart from its data). */
async function start(id: number): Promise<NodeHost> {
  const nh = await NodeHost.create({ nodeHostDir: join(dataDir, `host-${id}`), raftAddress: members.get(id)!, rttMillisecond: 20 });
  hosts.set(id, nh);
  await nh.startReplica(members, false, () => {
    const sm = new MapStateMachine();
    machines.set(id, sm);
    return sm;
  }, { ...shard, replicaId: id });
  return nh;
}

const put = (nh: NodeHost, key: string, value: string): Promise<SMResult> =>
  nh.propose(1, new TextEncoder().encode(JSON.stringify({ key, value })), { timeoutMs: 10_000 });

/** Waits until `ok()` holds (polling), or throws after `ms`. */
async function until(what: string, ms: number, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (const end = Date.now() + ms; !(await ok()); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

try {
  for (const id of [1, 2, 3]) await start(id);
  const nh1 = hosts.get(1)!;
  for (let i = 0; i < 50; i++) await put(nh1, `key-${i}`, `value-${i}`);
  const info = (id: number) => hosts.get(id)!.getNodeHostInfo().shards[0]!;
  await until('every replica to take a snapshot', 10_000, () => [1, 2, 3].every((id) => info(id).snapshotIndex > 0));
  console.log(`50 writes; snapshots at ${[1, 2, 3].map((id) => info(id).snapshotIndex).join(', ')}; ` +
    `replica 1's log now starts at ${info(1).firstLogIndex}`);
  console.log(`requested snapshot of replica 1 at index ${await nh1.requestSnapshot(1)}`);

  // Replica 3 goes away and misses 30 writes; the shard goes on with two of three.
  await hosts.get(3)!.close();
  for (let i = 50; i < 80; i++) await put(nh1, `key-${i}`, `value-${i}`);
  const nh3 = await start(3);
  await until('replica 3 to catch up', 10_000, async () => (await nh3.staleRead(1, 'key-79')) === 'value-79');
  console.log(`replica 3 restarted: recovered from a snapshot ${machines.get(3)!.recoveries} time(s), ` +
    `key-10 = ${String(await nh3.read(1, 'key-10', { timeoutMs: 10_000 }))}, key-79 = ${String(await nh3.staleRead(1, 'key-79'))}`);
} finally {
  for (const nh of hosts.values()) await nh.close();
  if (process.env.DATA_DIR === undefined) rmSync(dataDir, { recursive: true, force: true });
}
