/**
 * Example: an on-disk state machine. Each replica keeps named counters in one JSON file that
 * it replaces atomically after every batch (write a temporary file, fsync it, rename it over
 * the old one, fsync the directory), together with the last log index applied. After a
 * restart `open` reports that index, so sampan replays only the entries after it.
 *
 *   npm run example:disk        (= npm run build && node dist/examples/on-disk-counters.js)
 *
 * BASE_PORT (default 27200) sets the Raft ports BASE_PORT+1..+3; DATA_DIR a directory to keep
 * the data in (default: a temporary one, removed at the end).
 */
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NodeHost, type OnDiskStateMachine, type SMEntry, type SMResult, type SnapshotReader, type SnapshotWriter,
} from 'sampan';

/** What the file holds. */
interface State {
  applied: number;
  counters: Record<string, number>;
}

/** Replaces `path` with `data` durably: temporary file, fsync, rename, fsync of the directory. */
function writeFileDurably(dir: string, name: string, data: string): void {
  const tmp = join(dir, `${name}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** Counters on disk: commands are JSON {name, add}; a query is a counter's name. */
class CounterFile implements OnDiskStateMachine<string> {
  private state: State = { applied: 0, counters: {} };
  /** The index `open` found on disk (for this example's output). */
  openedAt = 0;

  constructor(private readonly dir: string) {}

  async open(): Promise<number> {
    mkdirSync(this.dir, { recursive: true });
    try {
      this.state = JSON.parse(readFileSync(join(this.dir, 'counters.json'), 'utf8')) as State;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.openedAt = this.state.applied;
    return this.state.applied;
  }

  update(entries: readonly SMEntry[]): SMResult[] {
    const results = entries.map((e) => {
      const { name, add } = JSON.parse(new TextDecoder().decode(e.cmd)) as { name: string; add: number };
      const value = (this.state.counters[name] ?? 0) + add;
      this.state.counters[name] = value;
      this.state.applied = e.index;
      return { value };
    });
    writeFileDurably(this.dir, 'counters.json', JSON.stringify(this.state));   // durable before we return
    return results;
  }

  lookup(name: unknown): number {
    return this.state.counters[String(name)] ?? 0;
  }

  /** Every batch is already on disk when `update` returns. */
  async sync(): Promise<void> {}

  /** The state as of the last update, for a follower that needs a full image. */
  prepareSnapshot(): string {
    return JSON.stringify(this.state);
  }

  async saveSnapshot(image: string, w: SnapshotWriter): Promise<void> {
    await w.write(new TextEncoder().encode(image));
  }

  async recoverFromSnapshot(r: SnapshotReader): Promise<void> {
    const image = new TextDecoder().decode(await r.readAll());
    writeFileDurably(this.dir, 'counters.json', image);
    this.state = JSON.parse(image) as State;
  }

  close(): void {}
}

const basePort = Number(process.env.BASE_PORT ?? 27200);
const dataDir = process.env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'sampan-example-disk-'));
const members = new Map([1, 2, 3].map((i) => [i, `127.0.0.1:${basePort + i}`] as const));
const hosts = new Map<number, NodeHost>();
const machines = new Map<number, CounterFile>();

/** Starts host `id` and its replica of shard 1, whose counters live in `<dataDir>/sm-<id>`. */
async function start(id: number): Promise<NodeHost> {
  const nh = await NodeHost.create({ nodeHostDir: join(dataDir, `host-${id}`), raftAddress: members.get(id)!, rttMillisecond: 20 });
  hosts.set(id, nh);
  await nh.startOnDiskReplica(members, false, () => {
    const sm = new CounterFile(join(dataDir, `sm-${id}`));
    machines.set(id, sm);
    return sm;
  }, { shardId: 1, replicaId: id });
  return nh;
}

const add = (nh: NodeHost, name: string, n: number): Promise<SMResult> =>
  nh.propose(1, new TextEncoder().encode(JSON.stringify({ name, add: n })), { timeoutMs: 10_000 });

try {
  for (const id of [1, 2, 3]) await start(id);
  for (let i = 0; i < 10; i++) await add(hosts.get(1 + (i % 3))!, 'visits', 1);
  console.log(`visits = ${String(await hosts.get(2)!.read(1, 'visits', { timeoutMs: 10_000 }))} after 10 increments`);

  // Stop every host, then start them again on the same directories.
  for (const nh of hosts.values()) await nh.close();
  hosts.clear();
  for (const id of [1, 2, 3]) await start(id);
  console.log(`restarted: the state machines opened at applied index ${[1, 2, 3].map((id) => machines.get(id)!.openedAt).join(', ')}`);
  const { value } = await add(hosts.get(3)!, 'visits', 1);
  console.log(`visits = ${value} after one more increment`);
} finally {
  for (const nh of hosts.values()) await nh.close();
  if (process.env.DATA_DIR === undefined) rmSync(dataDir, { recursive: true, force: true });
}
