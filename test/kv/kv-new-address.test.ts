/**
 * "A restart of `sampan kv` with the same `--data-dir` and a new `--raft-address` resumes the
 * replica (its peers learn the new address)": three `sampan kv` processes over real TCP. The
 * leader is SIGKILLed and restarted on a new raft port (with its stale `--initial-members`),
 * then a follower is stopped with SIGTERM and restarted on another one (without them). After
 * each move a write and a linearizable read through every replica succeed, `/status` shows
 * the same `nodeHostId` at the new `raftAddress`, and the old port — a plain TCP server that
 * counts connections — gets none once the peers have learned the move (within a few seconds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Cluster } from './support/cluster.js';
import { freePorts, http, killAll, until } from './support/procs.js';

interface Status { raftAddress: string; nodeHostId: string; shards: Array<{ leaderId: number; membership: { voters: Record<string, string> } }> }

async function countingServer(port: number): Promise<{ times: number[]; close: () => Promise<void> }> {
  const times: number[] = [];
  const server = net.createServer((s) => {
    times.push(Date.now());
    s.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { times, close: () => new Promise((r) => server.close(() => r())) };
}

test('kv: a replica restarted with a new --raft-address (same --data-dir) resumes; the old address stops being dialled', { timeout: 90000 }, async (t) => {
  const c = new Cluster();
  try {
    await c.allocate([1, 2, 3]);
    const initial = c.members([1, 2, 3]);
    for (const id of [1, 2, 3]) c.start(id, ['--initial-members', initial]);
    for (const id of [1, 2, 3]) await c.ready(id);
    const status = async (id: number): Promise<Status> => (await http('GET', `${c.node(id).url}/status`)).json<Status>();
    const before = new Map<number, Status>();
    for (const id of [1, 2, 3]) before.set(id, await status(id));
    let n = 0;
    const writeAndReadEverywhere = async (): Promise<void> => {
      for (const id of [1, 2, 3]) {
        const key = `key-${n++}`;
        const put = await http('PUT', `${c.node(id).url}/kv/${key}`, `v${id}`);
        assert.equal(put.status, 200, put.text);
        for (const j of [1, 2, 3]) {
          const got = await http('GET', `${c.node(j).url}/kv/${key}`);
          assert.equal(got.status, 200, `replica ${j}: ${got.text}`);
          assert.equal(got.text, `v${id}`);
        }
      }
    };
    await writeAndReadEverywhere();
    const spare = await freePorts(2);

    const leader = await c.leader(1);
    const follower = [1, 2, 3].find((i) => i !== leader)!;
    for (const [id, signal, flags] of [[leader, 'SIGKILL', ['--initial-members', initial]], [follower, 'SIGTERM', []]] as const) {
      const old = c.node(id).raft;
      await c.stop(id, signal);
      const counter = await countingServer(Number(old.split(':')[1]));
      try {
        c.nodes.set(id, { ...c.node(id), raft: `127.0.0.1:${spare.shift()!}` });
        const spawned = Date.now();
        const child = c.start(id, flags);
        await c.ready(id);
        const moved = await status(id);
        assert.equal(moved.raftAddress, c.node(id).raft);
        assert.equal(moved.nodeHostId, before.get(id)!.nodeHostId, 'the host id survives the move');
        assert.match(child.err + child.out, new RegExp(`raft address changed from ${old} to ${c.node(id).raft}`));
        await writeAndReadEverywhere();
        // The shard's membership still names the old address: nothing was changed by hand.
        assert.equal(moved.shards[0]!.membership.voters[String(id)], before.get(id)!.raftAddress);
        // Within a few seconds of the restart nobody dials the old address any more.
        const restarted = Date.now();
        await until('the old address no longer dialled', 10000, () => {
          const last = counter.times.at(-1) ?? restarted;
          return Date.now() - last > 2000 ? true : undefined;
        });
        const last = counter.times.at(-1);
        t.diagnostic(`replica ${id} (${signal}): ${counter.times.length} connection(s) to the old address after the restart, the last ${last === undefined ? 'none' : `${last - spawned} ms after the restart began`}`);
      } finally {
        await counter.close();
      }
    }
    for (const id of [1, 2, 3]) assert.equal((await status(id)).nodeHostId, before.get(id)!.nodeHostId);
  } finally {
    await killAll();
  }
});
