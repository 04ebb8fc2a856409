/**
 * A leader that will not append a forwarded proposal says so (`src/core/proposal-refusal.ts`):
 * the proposer learns at once instead of waiting out its deadline, and a copy of the refused
 * Propose delivered later is never appended. A membership change that reaches the leader before
 * the leader has handed its own committed no-op to its host is held, not dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MemoryLogStorage, Peer, SeededRandom, decodeConfigChange, type Entry, type Message, type Update,
} from '../../src/core/index.js';
import { ConfigChangeType, ELECTION, EntryType, MessageType, cc, elect, makeCluster, proposeAt } from './support/scenario.js';

/** Keys of the entries in `id`'s persisted log. */
function loggedKeys(log: MemoryLogStorage): number[] {
  const keys: number[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) {
    const e = log.entries(i, i + 1, Number.MAX_SAFE_INTEGER)[0];
    if (e !== undefined && e.key !== 0) keys.push(e.key);
  }
  return keys;
}

test('a leader in a leader transfer refuses a forwarded proposal with a notice, and never appends a later copy of it', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  const term = c.get(1).peer.term;
  // The transfer cannot finish: its target hears nothing, so the leader stays in transfer.
  c.isolate(3);
  c.get(1).peer.requestLeaderTransfer(3);
  c.stabilize();
  assert.equal(c.get(1).peer.status().leaderTransferTarget, 3);
  const from = c.trace.length;
  proposeAt(c, 2, 'during-transfer', 77);
  c.stabilize();
  // No tick passed: the proposer knows already, with the term of the refusal.
  const dropped = rec.dropped.filter((d) => d.replica === 2).flatMap((d) => d.entries);
  assert.deepEqual(dropped.map((e) => [e.key, e.term, e.type]), [[77, term, EntryType.Application]], 'reported dropped at the proposer');
  const sent = c.trace.slice(from).filter((m) => m.type === MessageType.Propose && m.from === 2 && m.to === 1 && !m.reject);
  assert.equal(sent.length, 1, 'forwarded once');
  assert.equal(c.trace.slice(from).filter((m) => m.type === MessageType.Propose && m.reject && m.to === 2).length, 1, 'one notice');
  // The transfer is abandoned after an election timeout; then the network delivers the
  // refused Propose again: it must not be appended (the proposer was told it never would be).
  c.tick(ELECTION, 1);
  assert.equal(c.get(1).peer.isLeader, true);
  assert.equal(c.get(1).peer.status().leaderTransferTarget, 0, 'transfer abandoned');
  c.get(1).peer.step(sent[0]!);
  c.stabilize();
  assert.ok(!loggedKeys(c.get(1).storage).includes(77), 'the late copy was not appended');
  // A new proposal of the same follower goes through as usual.
  proposeAt(c, 2, 'after-transfer', 78);
  c.stabilize();
  assert.ok(loggedKeys(c.get(1).storage).includes(78));
  assert.equal(c.get(1).peer.term, term);
});

test('a refusal notice without a term reports nothing, and a notice is never appended as a proposal, even by a leader', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  const notice: Message = {
    type: MessageType.Propose, shardId: 1, from: 1, to: 2, term: 0, logTerm: 0, logIndex: 0, commit: 0, reject: true,
    hint: 0, hintHigh: 0, entries: [{ term: 0, index: 0, type: EntryType.Application, key: 5, clientId: 0, seriesId: 0, respondedTo: 0, cmd: new Uint8Array(0) }], snapshot: null,
  };
  // Without a term the notice names no attempt: nothing is reported.
  c.get(2).peer.step(notice);
  c.stabilize();
  assert.deepEqual(rec.dropped.filter((d) => d.replica === 2), []);
  // A notice is never appended, whatever the role of its receiver (here the leader itself).
  c.get(1).peer.step({ ...notice, from: 2, to: 1, logTerm: c.get(1).peer.term });
  c.stabilize();
  assert.ok(!loggedKeys(c.get(1).storage).includes(5));
});

/** Three peers driven by hand, as a host with async storage writes drives them. */
class Trio {
  readonly peers = new Map<number, Peer>();
  readonly logs = new Map<number, MemoryLogStorage>();
  /** Updates taken from a peer whose write has not completed (in order). */
  readonly inFlight = new Map<number, Update[]>();
  /** Peers whose writes are held. */
  readonly slow = new Set<number>();
  readonly dropped: Entry[] = [];

  constructor() {
    const members = new Map([1, 2, 3].map((id) => [id, `addr-${id}`] as const));
    for (const id of [1, 2, 3]) {
      const log = new MemoryLogStorage(1);
      this.logs.set(id, log);
      this.inFlight.set(id, []);
      this.peers.set(id, new Peer({ shardId: 1, replicaId: id, electionTicks: ELECTION, heartbeatTicks: 1, asyncStorageWrites: true, random: new SeededRandom(id) }, log, { initialMembers: members }));
    }
  }

  peer(id: number): Peer { return this.peers.get(id)!; }

  private complete(id: number, u: Update): void {
    const log = this.logs.get(id)!;
    log.append(u.entriesToSave);
    if (u.hardState !== null) log.hardState = u.hardState;
    const p = this.peer(id);
    p.commit(u);
    const last = u.committedEntries[u.committedEntries.length - 1];
    for (const e of u.committedEntries) if (e.type === EntryType.ConfigChange) p.applyConfigChange(decodeConfigChange(e.cmd), e.index);
    if (last !== undefined) p.notifyApplied(last.index);
  }

  /** Lets `id`'s held writes complete, in order. */
  finishWrites(id: number): void {
    this.slow.delete(id);
    for (const u of this.inFlight.get(id)!.splice(0)) this.complete(id, u);
  }

  /** Takes updates and delivers messages until quiet. Every message goes out when taken (as Replicate does). */
  settle(): void {
    for (let round = 0; round < 100; round++) {
      const out: Message[] = [];
      for (const [id, p] of this.peers) {
        while (p.hasUpdate()) {
          const u = p.getUpdate();
          out.push(...u.messages);
          for (const e of u.droppedEntries) this.dropped.push(e);
          if (this.slow.has(id)) this.inFlight.get(id)!.push(u);
          else this.complete(id, u);
        }
      }
      if (out.length === 0) return;
      for (const m of out) this.peers.get(m.to)?.step(m);
    }
    throw new Error('did not settle');
  }
}

test('a membership change forwarded before the leader has written its own committed no-op is held, then appended — not dropped', () => {
  const t = new Trio();
  t.settle();
  // Replica 1 wins; its own write of the no-op is slow. Both followers persist it, so it is
  // committed without the leader's copy, and the followers apply it first.
  t.slow.add(1);
  t.peer(1).campaign();
  t.settle();
  assert.equal(t.peer(1).isLeader, true);
  const term = t.peer(1).term;
  assert.ok(t.peer(2).status().commit >= 4 && t.peer(2).status().applied >= 4, 'the follower applied the no-op');
  assert.equal(t.peer(1).status().applied, 3, 'the leader has not handed it to its host yet');
  // Replica 2's host sees an applied entry of the leader's term: it forwards a change.
  t.peer(2).proposeConfigChange(cc(ConfigChangeType.AddNonVoting, 4), 99);
  t.settle();
  assert.deepEqual(t.dropped, [], 'not refused');
  // The leader's write completes: the change is appended and committed in the same term.
  t.finishWrites(1);
  t.settle();
  const log = t.logs.get(1)!;
  const idx = [...Array(log.lastIndex() - log.firstIndex() + 1).keys()].map((i) => i + log.firstIndex())
    .find((i) => log.entries(i, i + 1, Number.MAX_SAFE_INTEGER)[0]?.key === 99);
  assert.ok(idx !== undefined, 'the change is in the leader\'s log');
  const e = log.entries(idx, idx + 1, Number.MAX_SAFE_INTEGER)[0]!;
  assert.equal(e.type, EntryType.ConfigChange);
  assert.equal(e.term, term);
  assert.ok(t.peer(2).status().commit >= idx, 'and committed');
  assert.deepEqual(t.dropped, []);
});

test('a membership change that finds another one not yet committed is refused with a notice (DroppedError at once), not held', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3] });
  elect(c, 1);
  const term = c.get(1).peer.term;
  // The leader's first change cannot commit: both followers are cut off.
  c.isolate(2);
  c.isolate(3);
  c.get(1).peer.proposeConfigChange(cc(ConfigChangeType.AddNonVoting, 4), 41);
  c.stabilize();
  // Replica 2 hears of nothing new but still forwards to the leader it knows.
  c.heal();
  c.cutOneWay(1, 3);
  c.filter = (m) => !(m.from === 1 && m.to === 2 && m.type !== MessageType.Propose);
  c.get(2).peer.proposeConfigChange(cc(ConfigChangeType.AddNonVoting, 5), 42);
  c.stabilize();
  const dropped = rec.dropped.filter((d) => d.replica === 2).flatMap((d) => d.entries);
  assert.deepEqual(dropped.map((e) => [e.key, e.term, e.type]), [[42, term, EntryType.ConfigChange]]);
});
