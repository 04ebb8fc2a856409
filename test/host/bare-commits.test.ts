/**
 * A leader's bare commit index (an empty Replicate) rides the next pass's Replicate when there
 * is one (`src/host/bare-commits.ts`): under a stream of proposals the leader sends almost no
 * empty Replicates, the followers answer one message per batch instead of two, and a commit
 * index with no Replicate after it still reaches the followers at the next pass, long before a
 * heartbeat would carry it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';
import { BareCommits, isBareCommit } from '../../src/host/bare-commits.js';
import { MessageType, entry, message, type Message } from '../../src/core/types.js';

const replicate = (to: number, commit: number, entries: number, term = 2): Message => message({
  type: MessageType.Replicate, to, from: 1, shardId: 1, term, commit,
  entries: Array.from({ length: entries }, (_, i) => entry({ term, index: commit + i + 1 })),
});

test('a held bare commit is dropped only by a later Replicate with entries to the same follower', () => {
  const b = new BareCommits<object>();
  const s1 = {};
  const s2 = {};
  b.hold(s1, replicate(2, 10, 0));
  b.hold(s1, replicate(3, 10, 0));
  b.hold(s2, replicate(2, 7, 0));
  assert.ok(isBareCommit(replicate(2, 10, 0)));
  assert.ok(!isBareCommit(replicate(2, 10, 1)));
  const sent: Array<[object, Message]> = [];
  // s1's pass sends entries to 2 (commit 10: subsumes) and a bare commit to 3 (does not);
  // s2 has no update this pass.
  b.release((s) => (s === s1 ? [replicate(2, 10, 3), replicate(3, 11, 0)] : undefined), () => true, (s, m) => sent.push([s, m]));
  assert.equal(b.dropped, 1);
  assert.deepEqual(sent.map(([s, m]) => [s === s1 ? 's1' : 's2', m.to, m.commit]), [['s1', 3, 10], ['s2', 2, 7]]);
  assert.equal(b.size, 0);
  // A lower commit index, or an older term, does not subsume.
  b.hold(s1, replicate(2, 10, 0));
  b.release(() => [replicate(2, 9, 2)], () => true, (s, m) => sent.push([s, m]));
  b.hold(s1, replicate(2, 10, 0, 3));
  b.release(() => [replicate(2, 12, 2, 2)], () => true, (s, m) => sent.push([s, m]));
  assert.equal(sent.length, 4);
  // A stopped sender's held messages go nowhere.
  b.hold(s1, replicate(2, 10, 0));
  b.release(() => undefined, () => false, (s, m) => sent.push([s, m]));
  assert.equal(sent.length, 4);
  assert.equal(b.dropped, 1);
});

test('under sequential proposals the leader sends almost no empty Replicates, and followers still learn the last commit at once', { timeout: 30000 }, async (t) => {
  const c = new HostCluster();
  // Messages each host hands to its transport: [type, entries].
  const sent = new Map<number, Array<[number, number]>>();
  try {
    for (const i of [1, 2, 3]) {
      const log: Array<[number, number]> = [];
      sent.set(i, log);
      await c.start(i, {
        leaderBalancing: false,
        transportFactory: (handler) => {
          const t = c.network.createTransport({ address: c.address(i), handler });
          const send = t.send.bind(t);
          t.send = (m: Message): boolean => {
            log.push([m.type, m.entries.length]);
            return send(m);
          };
          return t;
        },
      });
    }
    // Heartbeats every 40 ticks (0.8 s): they cannot be what tells the followers the commit index.
    await c.startShard(1, [1, 2, 3], { config: { electionRTT: 100, heartbeatRTT: 40 } });
    const leader = await c.waitLeader(1, [1, 2, 3]);
    const nh = c.get(leader);
    for (let i = 0; i < 10; i++) await nh.propose(1, setCmd(`w${i}`, 'x'), { timeoutMs: 5000 });
    for (const log of sent.values()) log.length = 0;
    const n = 100;
    for (let i = 0; i < n; i++) await nh.propose(1, setCmd(`k${i}`, 'v'), { timeoutMs: 5000 });
    const last = c.applied(leader, 1);
    // The last commit index has no Replicate after it: it goes out bare at the next pass.
    const t0 = Date.now();
    await c.until(() => [1, 2, 3].every((i) => c.applied(i, 1) >= last), 400, 'every follower applying the last proposal');
    const took = Date.now() - t0;
    const ls = sent.get(leader) ?? [];
    const bare = ls.filter(([t, e]) => t === MessageType.Replicate && e === 0).length;
    const withEntries = ls.filter(([t, e]) => t === MessageType.Replicate && e > 0).length;
    let resps = 0;
    for (const [i, log] of sent) if (i !== leader) resps += log.filter(([t]) => t === MessageType.ReplicateResp).length;
    t.diagnostic(`${n} proposals: ${withEntries} Replicates with entries, ${bare} empty, ${resps} ReplicateResps; last commit reached the followers in ${took} ms`);
    // Each proposal goes to two followers with entries; before this change each also drew one
    // or two bare commits per follower (≥ 2n) and as many more ReplicateResps.
    assert.ok(withEntries >= 2 * n, `${withEntries} Replicates with entries for ${n} proposals`);
    assert.ok(bare <= n / 2, `${bare} empty Replicates for ${n} sequential proposals (${withEntries} with entries)`);
    assert.ok(resps <= withEntries + bare + 10, `${resps} ReplicateResps for ${withEntries + bare} Replicates`);
    assert.ok(took < 400, `followers learned the last commit index after ${took} ms`);
  } finally {
    await c.closeAll();
  }
});
