/**
 * Example: a multi-shard service with client sessions and a membership change. Three
 * NodeHosts in this process, on loopback TCP, each host a replica of shards 1..3; keys go to
 * a shard by a hash. A client session makes a retried increment apply once. Then a fourth
 * host joins shard 2 and replica 3 leaves it, one change at a time.
 *
 *   npm run example:shards        (= npm run build && node dist/examples/sharded-service.js)
 *
 * BASE_PORT (default 27300) sets the Raft ports BASE_PORT+1..+4; DATA_DIR a directory to keep
 * the data in (default: a temporary one, removed at the end).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NodeHost, type SMEntry, type SMResult, type SnapshotReader, type SnapshotWriter, type StateMachine,
} from 'sampan';

/** A map of strings and counters: commands are JSON {op: 'set', key, value} or {op: 'incr', key}. */
class KvStateMachine implements StateMachine {
  private map = new Map<string, string>();

  update(entries: readonly SMEntry[]): SMResult[] {
    return entries.map((e) => {
      const c = JSON.parse(new TextDecoder().decode(e.cmd)) as { op: 'set'; key: string; value: string } | { op: 'incr'; key: string };
      if (c.op === 'set') {
        this.map.set(c.key, c.value);
        return { value: e.index };
      }
      const n = Number(this.map.get(c.key) ?? 0) + 1;
      this.map.set(c.key, String(n));
      return { value: n };
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
  }

  close(): void {}
}

const SHARDS = [1, 2, 3];
/** The shard of a key: FNV-1a of its UTF-8 bytes, as `sampan kv --shards` does. */
function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(key)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return (h % SHARDS.length) + 1;
}

const basePort = Number(process.env.BASE_PORT ?? 27300);
const dataDir = process.env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'sampan-example-shards-'));
const address = (id: number): string => `127.0.0.1:${basePort + id}`;
const members = new Map([1, 2, 3].map((i) => [i, address(i)] as const));
const hosts = new Map<number, NodeHost>();
const opts = { timeoutMs: 10_000 };
const encode = (c: object): Uint8Array => new TextEncoder().encode(JSON.stringify(c));

try {
  // Three hosts, each with a replica of every shard.
  for (const id of [1, 2, 3]) {
    const nh = await NodeHost.create({ nodeHostDir: join(dataDir, `host-${id}`), raftAddress: address(id), rttMillisecond: 20 });
    hosts.set(id, nh);
    for (const shardId of SHARDS) await nh.startReplica(members, false, () => new KvStateMachine(), { shardId, replicaId: id });
  }
  const nh1 = hosts.get(1)!;
  const perShard = new Map<number, string[]>();
  for (const key of ['apple', 'banana', 'cherry', 'damson', 'elder', 'fig', 'grape', 'hazel', 'kiwi']) {
    await nh1.propose(shardOf(key), encode({ op: 'set', key, value: key.toUpperCase() }), opts);
    perShard.set(shardOf(key), [...(perShard.get(shardOf(key)) ?? []), key]);
  }
  console.log(`9 keys over 3 shards: ${SHARDS.map((s) => `shard ${s}: ${(perShard.get(s) ?? []).join(' ')}`).join('; ')}`);

  // A client session: the same proposal sent twice (a retry after a lost reply) applies once.
  const shard = shardOf('hits');
  const session = await nh1.getNewSession(shard, opts);
  const first = await nh1.propose(shard, encode({ op: 'incr', key: 'hits' }), { ...opts, session });
  const retry = await hosts.get(2)!.propose(shard, encode({ op: 'incr', key: 'hits' }), { ...opts, session });
  session.proposalCompleted();                       // the reply was seen: the next one is new
  const next = await nh1.propose(shard, encode({ op: 'incr', key: 'hits' }), { ...opts, session });
  session.proposalCompleted();
  await nh1.closeSession(session, opts);
  console.log(`session: incr -> ${first.value}, retried -> ${retry.value}, next incr -> ${next.value}; ` +
    `hits = ${String(await nh1.read(shard, 'hits', opts))}`);

  // Membership: host 4 joins shard 2 (added first, then started with join), then replica 3 leaves.
  await nh1.requestAddReplica(2, 4, address(4), opts);
  const nh4 = await NodeHost.create({ nodeHostDir: join(dataDir, 'host-4'), raftAddress: address(4), rttMillisecond: 20 });
  hosts.set(4, nh4);
  await nh4.startReplica(new Map(), true, () => new KvStateMachine(), { shardId: 2, replicaId: 4 });
  const key2 = (perShard.get(2) ?? [])[0] as string;
  console.log(`replica 4 joined shard 2 and reads ${key2} = ${String(await nh4.read(2, key2, opts))}`);
  await nh1.requestDeleteReplica(2, 3, opts);
  await hosts.get(3)!.stopReplica(2, 3);
  const m = await nh4.getShardMembership(2, opts);
  console.log(`shard 2 voters now: ${[...m.voters.keys()].sort().join(', ')}; removed: ${[...m.removed].join(', ')}`);
} finally {
  for (const nh of hosts.values()) await nh.close();
  if (process.env.DATA_DIR === undefined) rmSync(dataDir, { recursive: true, force: true });
}
