/**
 * A snapshot stream whose snapshot vanished from the leader's disk (removed by hand, or lost to
 * a damaged disk) is refused and reported failed — the leader's host keeps serving; it does
 * not stop on an error thrown out of its engine pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';
import { snapshotDirOf, until } from './support/snapshot-sm.js';
import { finalDirName } from '../../src/snapshot/snapshot-names.js';

test('a follower needing a snapshot the leader no longer has on disk: the stream fails, the leader host keeps serving', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1, 2, 3], { config: { compactionOverhead: 2 } });
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const l = c.get(leader);
    const failed: unknown[] = [];
    l.on('host:failed', (e) => failed.push(e));
    const f = [1, 2, 3].find((i) => i !== leader) as number;
    await c.get(f).stopShard(1);
    for (let k = 0; k < 20; k++) await l.propose(1, setCmd(`k${k}`, 'v'));
    const snap = await l.requestSnapshot(1);
    rmSync(join(snapshotDirOf(c.hostDir(leader), 1, leader), finalDirName(snap)), { recursive: true, force: true });
    await c.startShard(1, [f], { config: { compactionOverhead: 2 } });
    // The leader tries to stream the missing snapshot (more than once); its host must stay up.
    await until(() => (l.getStats().shards[0]?.snapshotSendFailures ?? 0) >= 1, 5000, 'a failed snapshot send is counted');
    await l.propose(1, setCmd('still', 'serving'), { timeoutMs: 3000 });
    assert.equal(await l.read(1, 'still'), 'serving');
    assert.deepEqual(failed, []);
  } finally {
    await c.closeAll();
  }
});
