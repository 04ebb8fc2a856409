/**
 * Log replication (Raft paper §5.3), the commit rule of §5.4.2 (Figure 8), durability of the
 * leader's own copy (thesis §10.2.1), flow control, and what happens to proposals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLogStorage, MessageType, Peer, SeededRandom, entrySize, message, type Message } from '../../src/core/index.js';
import type { TestCluster } from './support/test-cluster.js';
import {
  ELECTION, cmdEntry, drainPeer, elect, isCommand, makeCluster, persistedEntry, persistedTerms, proposeAt, text, tickUntil,
  traced,
} from './support/scenario.js';

test('§5.3 consistency check: a follower rejects a Replicate whose previous entry does not match', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.propose(1, 'a');
  const f = c.get(2);
  const last = f.peer.status().lastIndex;
  const term = f.peer.term;
  const out: Message[] = [];
  f.peer.step(message({
    type: MessageType.Replicate, from: 1, to: 2, term, logIndex: last, logTerm: term + 5,
    entries: [{ ...cmdEntry('bogus'), index: last + 1, term }], commit: last,
  }));
  f.process((m) => out.push(m));
  const resp = out.find((m) => m.type === MessageType.ReplicateResp);
  assert.ok(resp);
  assert.equal(resp.reject, true);
  assert.equal(f.peer.status().lastIndex, last, 'nothing was appended');
  // A matching one is accepted.
  out.length = 0;
  f.peer.step(message({
    type: MessageType.Replicate, from: 1, to: 2, term, logIndex: last, logTerm: f.storage.term(last),
    entries: [{ ...cmdEntry('good'), index: last + 1, term }], commit: last,
  }));
  f.process((m) => out.push(m));
  const ok = out.find((m) => m.type === MessageType.ReplicateResp);
  assert.equal(ok?.reject, false);
  assert.equal(ok?.logIndex, last + 1);
});

/** Replicas' persisted logs are identical (log matching). */
function assertLogsMatch(c: TestCluster, ids: number[]): void {
  const ref = persistedTerms(c.get(ids[0] as number));
  for (const id of ids.slice(1)) assert.deepEqual(persistedTerms(c.get(id)), ref, `replica ${id}'s log differs`);
}

test('§5.3 a follower far behind with a divergent term is repaired in few rounds (fast back-off)', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.isolate(1);
  // The old leader appends 40 entries of term 2 nobody else will ever see.
  for (let i = 0; i < 40; i++) proposeAt(c, 1, `lost-${i}`);
  c.stabilize();
  assert.ok(tickUntil(c, () => c.get(2).peer.isLeader || c.get(3).peer.isLeader, 6 * ELECTION) > 0);
  const l1 = c.get(2).peer.isLeader ? 2 : 3;
  for (let i = 0; i < 60; i++) proposeAt(c, l1, `kept-${i}`);
  c.stabilize();
  // A second leader, elected while 1 is away, starts with next = its last index + 1 for 1.
  const l2 = l1 === 2 ? 3 : 2;
  c.get(l1).peer.requestLeaderTransfer(l2);
  c.stabilize();
  assert.ok(tickUntil(c, () => c.leader() === l2, 3 * ELECTION) > 0);
  const leaderLast = c.get(l2).peer.status().lastIndex;
  assert.ok(c.get(1).storage.lastIndex() < leaderLast && c.get(1).storage.term(c.get(1).storage.lastIndex()) === 2);

  const from = c.trace.length;
  c.heal();
  assert.ok(tickUntil(c, () => c.get(1).appliedIndex === c.get(l2).appliedIndex, 3 * ELECTION) > 0);
  const rejects = traced(c, (m) => m.type === MessageType.ReplicateResp && m.from === 1 && m.reject, from);
  assert.ok(rejects.length >= 1, 'the scenario exercises a rejection');
  assert.ok(rejects.length <= 2, `fast back-off: ${rejects.length} rejections for a ${leaderLast - 4}-entry divergence`);
  const probes = traced(c, (m) => m.type === MessageType.Replicate && m.to === 1 && m.entries.length > 0, from);
  assert.ok(probes.length <= 4, `${probes.length} Replicate messages with entries to repair the follower`);
  assertLogsMatch(c, [1, 2, 3]);
  assert.equal(rec.appliedLog.filter((a) => text(a.e).startsWith('lost-')).length, 0, 'no uncommitted entry was applied');
  const d = c.get(l2).digest;
  for (const r of c.replicas.values()) assert.equal(r.digest, d);
});

/**
 * Builds Figure 8 of the Raft paper up to (c): S1 leads term 4 and has replicated the term-2
 * entry at index 7 to S1, S2, S3 (a majority), but its own term-4 entry nowhere else.
 */
function figure8(): { c: TestCluster; rec: ReturnType<typeof makeCluster>['rec']; oldIndex: number } {
  const { c, rec } = makeCluster({ voters: [1, 2, 3, 4, 5], config: { preVote: false, checkQuorum: false } });
  elect(c, 1); // term 2, no-op at 6
  assert.equal(c.get(1).peer.status().commit, 6);
  // (a) S1 replicates a term-2 entry at index 7 to S2 only.
  for (const o of [3, 4, 5]) c.cutLink(1, o);
  c.propose(1, 'fig8-term2');
  const oldIndex = 7;
  assert.equal(c.get(2).storage.term(oldIndex), 2);
  assert.equal(c.get(1).peer.status().commit, 6);
  // (b) S1 crashes; S5 is elected in term 3 by S3, S4, S5 and appends index 7 of term 3 locally.
  c.crash(1);
  c.heal();
  c.filter = (m) => !(m.from === 5 && m.type === MessageType.Replicate && m.entries.length > 0);
  elect(c, 5);
  assert.equal(c.leader(), 5);
  assert.equal(c.get(5).peer.term, 3);
  assert.equal(c.get(5).storage.term(oldIndex), 3);
  // (c) S5 crashes; S1 restarts and is elected in term 4 (by S1, S2, S3, S4).
  c.crash(5);
  c.restart(1);
  c.filter = null;
  c.stabilize(); // the restarted S1 re-applies its committed log, membership included
  // S1 may replicate the old entry, but no entry of term 4 leaves it — not even the no-op it
  // broadcasts on winning: rewrite its Replicates from before the election on.
  c.filter = (m) => {
    if (m.from !== 1 || m.type !== MessageType.Replicate) return true;
    const kept = m.entries.filter((e) => e.term < 4);
    if (kept.length === m.entries.length) return true;
    c.get(m.to).peer.step({ ...m, entries: kept });
    return false;
  };
  c.elect(1); // term 3: refused (S3, S4 voted for S5; S2 knows S5 leads term 3)
  if (!c.get(1).peer.isLeader) c.elect(1);
  assert.equal(c.leader(), 1);
  assert.equal(c.get(1).peer.term, 4);
  c.tick(3, 1);
  return { c, rec, oldIndex };
}

test('§5.4.2 Figure 8: a leader does not commit an entry of an older term by counting replicas', () => {
  const { c, rec, oldIndex } = figure8();
  for (const id of [1, 2, 3]) assert.equal(c.get(id).storage.term(oldIndex), 2, `S${id} holds the term-2 entry`);
  assert.equal(c.get(1).peer.status().progress.get(3)?.match, oldIndex);
  assert.equal(c.get(1).peer.status().commit, 6, 'a majority holds index 7 (term 2), yet it must not commit');
  assert.equal(rec.appliedLog.filter((a) => a.e.index === oldIndex).length, 0);
  // (d) S1 crashes; S5 returns and wins term 5 with S2, S3, S4: it overwrites index 7 with
  // its own term-3 entry. Had index 7 been committed, this would lose a committed entry.
  c.crash(1);
  c.filter = null;
  c.restart(5);
  c.stabilize();
  c.elect(5); // term 4: S2, S3, S4 voted for S1 in term 4
  if (!c.get(5).peer.isLeader) elect(c, 5);
  assert.equal(c.leader(), 5);
  c.stabilize();
  c.tick(2);
  for (const id of [2, 3, 4, 5]) {
    assert.equal(c.get(id).storage.term(oldIndex), 3, `S${id}'s index 7 was replaced`);
    assert.ok(c.get(id).appliedIndex >= oldIndex);
  }
  assert.equal(rec.appliedLog.filter((a) => text(a.e) === 'fig8-term2').length, 0, 'the term-2 entry was never applied');
});

test('§5.4.2 Figure 8 (e): once an entry of the leader\'s term reaches a majority, the older entry commits with it', () => {
  const { c, rec, oldIndex } = figure8();
  c.filter = null;
  // A new proposal of term 4 (a lost term-4 message being resent on a heartbeat is tested
  // on its own below).
  c.propose(1, 'fig8-term4');
  c.tick(2, 1);
  const commit = c.get(1).peer.status().commit;
  assert.ok(commit >= oldIndex + 1, `commit ${commit}`);
  assert.equal(c.get(1).storage.term(oldIndex + 1), 4);
  for (const id of [1, 2, 3, 4]) {
    assert.equal(rec.appliedLog.filter((a) => a.replica === id && text(a.e) === 'fig8-term2').length, 1);
  }
  // S5's log is now behind in term: it cannot win an election any more.
  c.restart(5);
  c.crash(1);
  c.stabilize();
  for (let i = 0; i < 3; i++) c.elect(5);
  assert.notEqual(c.leader(), 5);
});

test('§5.3/§10.2.1 the leader counts its own copy only once its update is acknowledged as persisted', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.cutLink(1, 3);
  const leader = c.get(1);
  const before = leader.peer.status().commit;
  proposeAt(c, 1, 'durable?');
  const u = leader.peer.getUpdate();
  const idx = before + 1;
  assert.deepEqual(u.entriesToSave.map((e) => e.index), [idx]);
  assert.deepEqual(u.committedEntries.map((e) => e.index), []);
  // Replicate may go out before the leader's write completes; follower 2 persists and acks.
  const acks: Message[] = [];
  for (const m of u.messages) if (m.to === 2) c.get(2).peer.step(m);
  const f = c.get(2);
  while (f.peer.hasUpdate()) {
    const fu = f.peer.getUpdate();
    const resp = fu.messages.find((m) => m.type === MessageType.ReplicateResp && m.logIndex === idx);
    if (resp !== undefined) {
      const saved = f.storage.lastIndex() >= idx || fu.entriesToSave.some((e) => e.index === idx);
      assert.ok(saved, 'a follower acknowledges only in the update that persists the entry');
    }
    f.handle(fu, (m) => acks.push(m));
  }
  for (const m of acks) if (m.to === 1) leader.peer.step(m);
  assert.equal(leader.peer.status().progress.get(2)?.match, idx);
  assert.equal(leader.peer.status().commit, before, '1 of 3 persisted (the follower): no quorum yet');
  leader.handle(u, () => {});
  assert.equal(leader.peer.status().commit, idx, 'persisted on the leader too: committed');
  c.stabilize();
  assert.equal(c.get(2).appliedIndex, idx);
});

test('§5.3 a single voter commits its proposal only after the update holding it is acknowledged', () => {
  const storage = new MemoryLogStorage(1);
  const peer = new Peer({ shardId: 1, replicaId: 1, random: new SeededRandom(3) }, storage, { initialMembers: new Map([[1, 'a']]) });
  drainPeer(peer, storage);
  peer.campaign();
  drainPeer(peer, storage);
  assert.equal(peer.isLeader, true);
  peer.propose([cmdEntry('solo')]);
  const u = peer.getUpdate();
  const e = u.entriesToSave.find(isCommand);
  assert.ok(e);
  assert.equal(u.committedEntries.some((x) => x.index === e.index), false);
  assert.ok(peer.status().commit < e.index);
  storage.append(u.entriesToSave);
  peer.commit(u);
  assert.equal(peer.status().commit, e.index);
  const next = peer.getUpdate();
  assert.ok(next.committedEntries.some((x) => x.index === e.index && text(x) === 'solo'));
});

test('§5.3 proposals made at a follower are forwarded to the leader and applied everywhere', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  const from = c.trace.length;
  c.propose(3, 'via-3');
  const fwd = traced(c, (m) => m.type === MessageType.Propose && m.from === 3 && m.to === 1, from);
  assert.equal(fwd.length, 1);
  for (const r of c.replicas.values()) {
    assert.equal(text(persistedEntry(r, r.appliedIndex)), 'via-3');
  }
  assert.deepEqual(rec.dropped, []);
});

test('§5.2 proposals with no leader are dropped and reported in Update.droppedEntries', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  c.propose(2, 'nobody-leads');
  assert.deepEqual(rec.droppedCmds(2), ['nobody-leads']);
  // A candidate drops them too.
  c.isolate(1);
  c.get(1).peer.campaign();
  c.get(1).peer.propose([cmdEntry('candidate')]);
  c.stabilize();
  assert.deepEqual(rec.droppedCmds(1), ['candidate']);
  for (const r of c.replicas.values()) assert.equal(r.appliedIndex, 3);
});

test('§5.3 flow control: at most maxInflightMsgs unacknowledged Replicates to a silent follower', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], config: { maxInflightMsgs: 3 } });
  elect(c, 1);
  c.propose(1, 'warm'); // 2 and 3 are in Replicate state now
  c.filter = (m) => !(m.from === 2 && m.type === MessageType.ReplicateResp);
  const from = c.trace.length;
  for (let i = 0; i < 10; i++) c.propose(1, `p${i}`);
  const sent = traced(c, (m) => m.type === MessageType.Replicate && m.to === 2 && m.entries.length > 0, from);
  assert.equal(sent.length, 3);
  const toThree = traced(c, (m) => m.type === MessageType.Replicate && m.to === 3 && m.entries.length > 0, from);
  assert.ok(toThree.length >= 10, 'the healthy follower is not held back');
  c.filter = null;
  c.tick(3);
  assert.equal(c.get(2).appliedIndex, c.get(1).appliedIndex);
});

test('§5.3 flow control: entry bytes per message and bytes in flight are capped', () => {
  const big = 'x'.repeat(200); // entrySize = 248
  const { c } = makeCluster({ voters: [1, 2, 3], config: { maxEntryBytesPerMsg: 600, maxInflightBytes: 1200 } });
  elect(c, 1);
  c.propose(1, 'warm');
  c.filter = (m) => !(m.from === 2 && m.type === MessageType.ReplicateResp);
  const from = c.trace.length;
  for (let i = 0; i < 12; i++) proposeAt(c, 1, big);
  c.stabilize();
  const sent = traced(c, (m) => m.type === MessageType.Replicate && m.to === 2 && m.entries.length > 0, from);
  let inflight = 0;
  for (const m of sent) {
    const bytes = m.entries.reduce((s, e) => s + entrySize(e), 0);
    assert.ok(m.entries.length === 1 || bytes <= 600, `a message carried ${bytes} bytes`);
    inflight += bytes;
  }
  assert.ok(inflight < 1200 + 600, `${inflight} bytes in flight to a silent follower`);
  assert.ok(sent.length < 12);
  // Catch-up after the silence respects the per-message cap as well.
  c.filter = null;
  const from2 = c.trace.length;
  c.tick(4);
  for (const m of traced(c, (x) => x.type === MessageType.Replicate && x.entries.length > 1, from2)) {
    assert.ok(m.entries.reduce((s, e) => s + entrySize(e), 0) <= 600);
  }
  assert.equal(c.get(2).appliedIndex, c.get(1).appliedIndex);
});

test('§5.3 an entry lost in replicate state is resent on the next heartbeat, without a new proposal', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.propose(1, 'warm'); // 2 and 3 are in Replicate state
  c.cutLink(1, 3); // only 2 can make a quorum with the leader
  let dropped = 0;
  c.filter = (m) => {
    if (m.type === MessageType.Replicate && m.to === 2 && m.entries.length > 0 && dropped === 0) {
      dropped++;
      return false;
    }
    return true;
  };
  c.propose(1, 'lost-once');
  assert.equal(dropped, 1);
  const idx = c.get(1).peer.status().lastIndex;
  assert.ok(c.get(1).peer.status().commit < idx);
  c.tick(3, 1); // heartbeats: 2 answers, so the leader knows 2 is alive and behind
  assert.equal(c.get(2).storage.lastIndex(), idx, 'the lost entry was sent again');
  assert.equal(c.get(1).peer.status().commit, idx);
});

test('a forwarded proposal is appended only by the leader of the term it was proposed in, never passed on', () => {
  const { c } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  c.propose(1, 'warm');
  const leader = c.get(1);
  const term = leader.peer.term;
  const last = leader.peer.status().lastIndex;
  const out: Message[] = [];
  // From another term (the proposer knew an older leader): dropped, nothing appended.
  leader.peer.step(message({ type: MessageType.Propose, from: 3, to: 1, logTerm: term - 1, entries: [cmdEntry('stale')] }));
  leader.process((m) => out.push(m));
  assert.equal(leader.peer.status().lastIndex, last, 'a Propose of another term is not appended');
  // Of this term: appended.
  leader.peer.step(message({ type: MessageType.Propose, from: 3, to: 1, logTerm: term, entries: [cmdEntry('fresh')] }));
  leader.process((m) => out.push(m));
  assert.equal(leader.peer.status().lastIndex, last + 1);
  // A follower that receives another replica's Propose does not forward it again.
  const f = c.get(2);
  const fout: Message[] = [];
  f.peer.step(message({ type: MessageType.Propose, from: 3, to: 2, logTerm: term, entries: [cmdEntry('chained')] }));
  f.process((m) => fout.push(m));
  assert.deepEqual(fout.filter((m) => m.type === MessageType.Propose), []);
  // Its own proposal is forwarded with its term.
  f.peer.propose([cmdEntry('own')]);
  f.process((m) => fout.push(m));
  const fwd = fout.filter((m) => m.type === MessageType.Propose);
  assert.equal(fwd.length, 1);
  assert.equal(fwd[0]?.to, 1);
  assert.equal(fwd[0]?.logTerm, term);
});
