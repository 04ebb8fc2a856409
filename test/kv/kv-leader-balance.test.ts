/**
 * Leader balancing and priority across real `sampan kv` processes over real TCP: a replica
 * restarted after SIGTERM (which drained its leadership away) or SIGKILL gets its share of
 * leaders back by transfer; `--priorities` puts every leader on the highest-priority replica.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './support/cluster.js';
import { http, killAll, until } from './support/procs.js';

const IDS = [1, 2, 3];
const SHARDS = 6;

/** Leaders per replica (1/2/3), each from its own /status; null while one does not answer. */
async function leaders(c: Cluster): Promise<number[] | null> {
  const out: number[] = [];
  for (const id of IDS) {
    if (c.node(id).child === null) return null;
    try {
      const r = await http('GET', `${c.node(id).url}/status`, undefined, 1000);
      out.push(r.json<{ shards: Array<{ isLeader: boolean }> }>().shards.filter((s) => s.isLeader).length);
    } catch {
      return null;
    }
  }
  return out;
}

/** Waits until every replica leads exactly ⌈6/3⌉ = 2 shards; returns how long it took. */
async function balanced(c: Cluster, ms: number, what: string): Promise<number> {
  const t0 = Date.now();
  let last = null as number[] | null;
  try {
    await until(`${what}: 2 leaders each`, ms, async () => {
      last = await leaders(c);
      return last !== null && last.every((n) => n === 2) ? true : undefined;
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}; leaders per replica last seen: ${last === null ? 'none' : last.join('/')}`);
  }
  return Date.now() - t0;
}

test('after a SIGTERM restart and a SIGKILL restart every replica leads 2 of 6 shards again', { timeout: 60000 }, async () => {
  const c = new Cluster(['--shards', String(SHARDS)]);
  await c.allocate(IDS);
  try {
    for (const id of IDS) c.start(id, ['--initial-members', c.members(IDS)]);
    for (const id of IDS) await c.ready(id);
    const first = await balanced(c, 15000, 'after the first start');

    // SIGTERM: replica 1 drains its two leaders away (4 + 2 or 3 + 3 on the others) and exits.
    assert.equal(await c.stop(1, 'SIGTERM'), 0);
    c.start(1);
    await c.ready(1);
    const drained = (await leaders(c))?.[0];
    const afterTerm = await balanced(c, 15000, 'after the SIGTERM restart');

    // SIGKILL: replica 2's shards elect new leaders; restarted, it is handed two back.
    await c.stop(2, 'SIGKILL');
    c.start(2);
    await c.ready(2);
    const afterKill = await balanced(c, 15000, 'after the SIGKILL restart');
    const r = await http('PUT', `${c.node(3).url}/kv/after`, 'ok');
    assert.equal(r.status, 200, r.text);
    console.log(`# balanced after start ${first} ms; SIGTERM restart (replica 1 led ${String(drained)} when ready) ${afterTerm} ms; SIGKILL restart ${afterKill} ms`);
  } finally {
    await killAll();
  }
});

test('--priorities 1=1,2=1,3=5: every leader moves to replica 3; --no-leader-balancing keeps them there', { timeout: 60000 }, async () => {
  const c = new Cluster(['--shards', '4', '--priorities', '1=1,2=1,3=5', '--no-leader-balancing']);
  await c.allocate(IDS);
  try {
    for (const id of IDS) c.start(id, ['--initial-members', c.members(IDS)]);
    for (const id of IDS) await c.ready(id);
    await until('replica 3 leading all 4 shards', 15000, async () => ((await leaders(c))?.[2] === 4 ? true : undefined));
    // SIGKILL 3: the others elect leaders; restarted and caught up, 3 gets all four back.
    await c.stop(3, 'SIGKILL');
    await until('leaders without replica 3', 15000, async () => {
      const st = await Promise.all([1, 2].map(async (id) => (await http('GET', `${c.node(id).url}/status`, undefined, 1000))
        .json<{ shards: Array<{ isLeader: boolean }> }>().shards.filter((s) => s.isLeader).length));
      return st[0]! + st[1]! === 4 ? true : undefined;
    });
    c.start(3);
    await c.ready(3);
    await until('replica 3 leading all 4 shards again', 15000, async () => ((await leaders(c))?.[2] === 4 ? true : undefined));
  } finally {
    await killAll();
  }
});
