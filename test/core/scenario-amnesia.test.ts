/**
 * A follower that lost entries it had acknowledged (its disk dropped a synced write: what the
 * chaos suite's torn-WAL-tail fault does to a killed replica). Raft assumes this never
 * happens, so nothing here is about safety; it is about liveness: the leader's `match` for the
 * follower is then above the follower's last index, and the leader must still bring it back.
 *
 * Found by `npm run chaos -- --seed 109 --faults membership,transfer,disk` (RELIABILITY.md):
 * the leader probed at match + 1 forever — every rejection answered at once with the same
 * Replicate, a tight loop — so the follower never caught up, and once it was needed for a
 * quorum (two voters, the third being replaced) no write committed for 17 s, until a leader
 * change reset the progress.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/core/index.js';
import type { TestCluster } from './support/test-cluster.js';
import { ELECTION, elect, makeCluster, persistedTerms, proposeAt, text, tickUntil, traced } from './support/scenario.js';

/** Crashes `id`, drops the last `lost` entries of its persisted log (and the commit with them), restarts it. */
function forgetTail(c: TestCluster, id: number, lost: number): number {
  c.crash(id);
  const s = c.get(id).storage;
  const keep = s.lastIndex() - lost;
  // Re-appending entry `keep` cuts everything after it.
  s.append(s.entries(keep, keep + 1, Infinity));
  s.hardState = { ...s.hardState, commit: Math.min(s.hardState.commit, keep) };
  c.restart(id);
  return keep;
}

test('a follower that lost acknowledged entries is probed down to its log and catches up; a quorum that needs it commits again', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  for (let i = 0; i < 10; i++) proposeAt(c, 1, `a${i}`);
  c.stabilize();
  const last = c.get(1).peer.status().lastIndex;
  assert.equal(c.get(2).storage.lastIndex(), last);
  c.crash(3);
  const keep = forgetTail(c, 2, 3);
  assert.equal(c.get(2).storage.lastIndex(), last - 3);

  const from = c.trace.length;
  // Replica 3 is down: committing anything new needs replica 2, whose log lost 3 entries.
  proposeAt(c, 1, 'after');
  c.stabilize(); // before the fix: 'cluster did not stabilise' (reject, resend, reject, … without end)
  assert.ok(tickUntil(c, () => c.get(1).peer.status().commit > last, 3 * ELECTION) > 0, 'the leader commits again');
  c.stabilize();
  assert.deepEqual(persistedTerms(c.get(2)), persistedTerms(c.get(1)), 'replica 2 holds the leader\'s log again');
  assert.ok(rec.appliedLog.some((a) => a.replica === 2 && text(a.e) === 'after'));
  const rejects = traced(c, (m) => m.type === MessageType.ReplicateResp && m.from === 2 && m.reject, from);
  assert.ok(rejects.length >= 1 && rejects.length <= 3, `${rejects.length} rejections to find index ${keep}`);
});
