/**
 * `orderedConfigChange` is a per-replica setting, but whether a change's version is checked
 * decides whether it applies, which is replicated state: the proposer's setting travels in the
 * entry, so replicas configured differently still apply the same changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { retryDropped } from './support/assert.js';
import { RejectedError } from '../../src/errors.js';
import { ConfigChangeType } from '../../src/core/types.js';
import { validateConfigChange, membershipOf } from '../../src/core/membership.js';
import { decodeConfigChange, encodeConfigChange } from '../../src/encoding/config-change.js';

test('config change codec: entries of 0.1 carry no ordering; new ones carry the proposer\'s', () => {
  // 0.1's encoding of {AddNonVoting 4 at a:1, id 7} and of a bootstrap entry (byte 2 = 1).
  const base = { type: ConfigChangeType.AddNonVoting, replicaId: 4, address: 'a:1', configChangeId: 7, initialize: false };
  const old = encodeConfigChange(base);
  assert.equal(old[2], 0);
  assert.equal(decodeConfigChange(old).ordered, undefined);
  for (const ordered of [true, false]) assert.equal(decodeConfigChange(encodeConfigChange({ ...base, ordered })).ordered, ordered);
  const m = { ...membershipOf(new Map([[1, 'x:1']])), configChangeId: 3 };
  // The entry's own flag wins over the applying replica's setting.
  assert.equal(validateConfigChange(m, { ...base, ordered: false }, true), null);
  assert.match(validateConfigChange(m, { ...base, ordered: true }, false) ?? '', /stale membership version 7/);
  assert.match(validateConfigChange(m, base, true) ?? '', /stale/, 'no flag: the replica\'s own setting, as in 0.1');
});

test('replicas with different orderedConfigChange apply the same membership changes', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2, 3]) await c.start(i);
    await c.startShard(1, [1], { members: [1, 2, 3], config: { orderedConfigChange: true } });
    await c.startShard(1, [2, 3], { members: [1, 2, 3] });
    await c.waitLeader(1, [1, 2, 3]);
    // Host 2 does not order changes: a change with any version applies, on every replica.
    await retryDropped(() => c.get(2).requestAddNonVoting(1, 4, c.address(4), { configChangeId: 999 }));
    // Host 1 orders them: a stale version is refused, on every replica.
    await assert.rejects(retryDropped(() => c.get(1).requestAddNonVoting(1, 5, c.address(5), { configChangeId: 999 })), RejectedError);
    const at = Math.max(...[1, 2, 3].map((i) => c.get(i).getNodeHostInfo().shards[0]?.commitIndex ?? 0));
    await c.until(() => [1, 2, 3].every((i) => c.applied(i, 1) >= at), 5000, 'all applied');
    const views = [1, 2, 3].map((i) => {
      const m = c.get(i).getNodeHostInfo().shards[0]!.membership;
      return JSON.stringify([[...m.voters.keys()].sort(), [...m.nonVoting.keys()].sort(), m.configChangeId]);
    });
    assert.deepEqual(views, [views[0], views[0], views[0]], 'one membership everywhere');
    assert.deepEqual(JSON.parse(views[0]!)[1], [4]);
  } finally {
    await c.closeAll();
  }
});
