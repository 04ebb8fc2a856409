/**
 * End to end, the operator's mistake that used to fork a cluster silently: replicas 1 and 2
 * started with `--initial-members 1=…,2=…,3=…`, replica 3 with `--initial-members 3=…` only.
 * Now replica 3 refuses the others' traffic, says so on stderr and in /status, and stops
 * serving; the leader says so too; replicas 1 and 2 keep serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './support/cluster.js';
import { codeOf, http, killAll, until } from './support/procs.js';

interface ShardStatus {
  shardId: number; leaderId: number; clusterId: string; identityConflict: string | null; identityMismatches: number;
}

test('a replica bootstrapped with only itself as member is refused and stops serving, with one clear line on both sides', {
  timeout: 60000,
}, async () => {
  const c = new Cluster(['--log-level', 'warn']);
  await c.allocate([1, 2, 3]);
  const url = (id: number): string => c.node(id).url;
  const status = async (id: number): Promise<ShardStatus> => {
    const st = (await http('GET', `${url(id)}/status`)).json<{ shards: ShardStatus[] }>();
    return st.shards[0] as ShardStatus;
  };
  try {
    for (const id of [1, 2]) c.start(id, ['--initial-members', c.members([1, 2, 3])]);
    c.start(3, ['--initial-members', c.members([3])]);
    for (const id of [1, 2]) await c.ready(id);
    assert.equal((await http('PUT', `${url(1)}/kv/k`, 'from1')).status, 200);

    await until('replica 3 stops serving', 15000, async () => ((await status(3)).identityConflict !== null ? true : undefined));
    const s3 = await status(3);
    const s1 = await status(1);
    assert.notEqual(s3.clusterId, s1.clusterId);
    assert.match(s3.identityConflict ?? '', /lists it as a member/);
    assert.ok(s3.identityMismatches > 0);

    const put = await http('PUT', `${url(3)}/kv/k`, 'from3');
    assert.equal(put.status, 503, put.text);
    assert.equal(codeOf(put), 'CLUSTER_IDENTITY_MISMATCH');
    const get = await http('GET', `${url(3)}/kv/k`);
    assert.equal(get.status, 503, get.text);

    const errLines = (id: number): string[] => (c.node(id).child?.err ?? '').split('\n').filter((l) => l.includes('cluster identity mismatch'));
    const line3 = errLines(3).find((l) => l.includes('stopped serving'));
    assert.ok(line3, `replica 3's stderr names the mismatch:\n${c.node(3).child?.err ?? ''}`);
    assert.match(line3, new RegExp(`shard 1: refused a message from replica \\d at 127\\.0\\.0\\.1:\\d+ \\(cluster ${s1.clusterId}\\) to replica 3 here \\(cluster ${s3.clusterId}\\)`));
    await until('the leader logs the notice', 10000, () => (errLines(s1.leaderId).length > 0 ? true : undefined));
    assert.match(errLines(s1.leaderId)[0] ?? '', new RegExp(`replica 3 at ${c.node(3).raft.replace(/\./g, '\\.')} \\(cluster ${s3.clusterId}\\) refused`));

    // The real cluster still serves linearizable reads and writes.
    assert.equal((await http('PUT', `${url(2)}/kv/k2`, 'v2')).status, 200);
    assert.equal((await http('GET', `${url(1)}/kv/k2`)).text, 'v2');
    assert.equal((await http('GET', `${url(2)}/kv/k`)).text, 'from1');
  } finally {
    await killAll();
  }
});
