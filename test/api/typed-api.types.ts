/**
 * Type-level checks of the TypeScript-shaped API, compiled by `tsc` with the rest of the tests
 * (never run): every `@ts-expect-error` line must fail to compile, or the build fails with
 * "Unused '@ts-expect-error' directive". The lines without one must compile: plain numbers
 * stay valid ids, and the options form of a start types its handle's `read`.
 */
import {
  replicaId, shardId, type NodeHost, type ReplicaId, type ShardHandle, type ShardId, type SMEntry, type SMResult,
  type SnapshotReader, type SnapshotWriter, type StateMachine,
} from '../../src/index.js';

/** A state machine whose lookup says what it takes and returns: keys to values. */
class MapSM implements StateMachine<string, string | undefined> {
  private readonly map = new Map<string, string>();
  update(entries: readonly SMEntry[]): SMResult[] { return entries.map((e) => ({ value: e.index })); }
  lookup(key: string): string | undefined { return this.map.get(key); }
  async saveSnapshot(_w: SnapshotWriter): Promise<void> {}
  async recoverFromSnapshot(_r: SnapshotReader): Promise<void> {}
  close(): void {}
}

/** One that does not say (the interface's defaults): its handle reads `unknown`. */
class UntypedSM implements StateMachine {
  update(entries: readonly SMEntry[]): SMResult[] { return entries.map((e) => ({ value: e.index })); }
  lookup(query: unknown): unknown { return query; }
  async saveSnapshot(_w: SnapshotWriter): Promise<void> {}
  async recoverFromSnapshot(_r: SnapshotReader): Promise<void> {}
  close(): void {}
}

/** Never called: only compiled. */
export async function typeChecks(nh: NodeHost, cmd: Uint8Array): Promise<void> {
  const s: ShardId = shardId(1);
  const r: ReplicaId = replicaId(2);

  // Plain numbers stay valid wherever an id is asked for (every dragonboat-style call).
  await nh.propose(1, cmd);
  await nh.requestAddReplica(1, 4, '127.0.0.1:26004');
  nh.shard(1);
  // Branded ids are numbers.
  const n: number = s + r;
  await nh.propose(s, cmd);
  await nh.requestAddReplica(s, r, '127.0.0.1:26004');
  // Results carry brands: a leader id is a replica id.
  const leader: ReplicaId = nh.getLeaderId(s).leaderId;
  await nh.requestLeaderTransfer(s, leader);

  // @ts-expect-error a replica id where a shard id is asked for
  await nh.propose(r, cmd);
  // @ts-expect-error a replica id where a shard id is asked for
  nh.shard(r);
  // @ts-expect-error a shard id where a replica id is asked for
  await nh.requestAddReplica(s, s, '127.0.0.1:26004');
  // @ts-expect-error a shard id where a replica id is asked for
  await nh.shard(s).requestLeaderTransfer(s);
  // @ts-expect-error the leader's id is a replica id, not a shard id
  nh.shard(nh.getLeaderId(s).leaderId);

  // A handle typed by hand.
  const h: ShardHandle<string, number> = nh.shard<string, number>(s);
  const count: number = await h.read('k');
  // @ts-expect-error the result is a number
  const wrongResult: string = await h.read('k');
  // @ts-expect-error the query is a string
  await h.read(42);
  // NodeHost.read typed alike; its defaults keep `unknown`.
  const viaHost: number = await nh.read<string, number>(s, 'k');
  const untyped: unknown = await nh.read(s, 'k');
  // @ts-expect-error unknown is not a string
  const notString: string = await nh.read(s, 'k');

  // The options form resolves with a handle typed by the state machine's lookup.
  const kv = await nh.startReplica({ initialMembers: new Map([[1, 'a:1']]), create: () => new MapSM(), config: { shardId: 1, replicaId: 1 } });
  const v: string | undefined = await kv.read('k');
  // @ts-expect-error lookup returns string | undefined
  const wrongKv: number = await kv.read('k');
  // @ts-expect-error lookup takes a string
  await kv.read(1);
  const any = await nh.startReplica({ join: true, create: () => new UntypedSM(), config: { shardId: 2, replicaId: 1 } });
  const u: unknown = await any.read({ anything: true });
  // The positional form is unchanged and resolves with nothing.
  const nothing: void = await nh.startReplica(new Map([[1, 'a:1']]), false, () => new MapSM(), { shardId: 3, replicaId: 1 });
  // @ts-expect-error a start's options need a config
  await nh.startReplica({ create: () => new MapSM() });

  void [n, count, wrongResult, viaHost, untyped, notString, v, wrongKv, u, nothing];
}
