import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { KvStateMachine, setCmd } from './support/kv.js';
import type { SMEntry, SMResult, SnapshotReader, StateMachine } from '../../src/contracts/state-machine.js';

/** A state machine whose updates take a while: commit and apply are far apart in time. */
class SlowKv implements StateMachine {
  private readonly inner = new KvStateMachine();
  get map(): Map<string, string> { return this.inner.map; }
  async update(entries: readonly SMEntry[]): Promise<SMResult[]> {
    await new Promise((r) => setTimeout(r, 300));
    return this.inner.update(entries);
  }
  lookup(q: unknown): unknown { return this.inner.lookup(q); }
  saveSnapshot(...a: Parameters<StateMachine['saveSnapshot']>): Promise<void> { return this.inner.saveSnapshot(...a); }
  recoverFromSnapshot(r: SnapshotReader): Promise<void> { return this.inner.recoverFromSnapshot(r); }
  close(): void { this.inner.close(); }
}

test('notifyCommit: a proposal resolves once committed, before the slow state machine applies it', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  try {
    const sms = new Map<number, SlowKv>();
    for (const i of [1, 2, 3]) {
      const nh = await c.start(i, { notifyCommit: true });
      await nh.startReplica(c.members([1, 2, 3]), false, () => { const sm = new SlowKv(); sms.set(i, sm); return sm; }, { shardId: 1, replicaId: i });
    }
    await c.until(() => c.leaderOf(1) !== 0 && [1, 2, 3].every((i) => c.get(i).getLeaderId(1).valid), 10000, 'leader');
    const l = c.leaderOf(1);
    const r = await c.get(l).propose(1, setCmd('k', 'v'));
    // Resolved at commit: the state machine's result is not known yet, and on this host the
    // entry is not applied yet (the apply takes 300 ms).
    assert.deepEqual(r, { value: 0 });
    assert.equal(sms.get(l)?.map.get('k'), undefined);
    await c.until(() => sms.get(l)?.map.get('k') === 'v', 5000, 'applied after the commit notice');
  } finally {
    await c.closeAll();
  }
});
