/**
 * Features around the protocol: quiesce, rate limiting by in-memory log size, config
 * validation, and the completeness of the role dispatch tables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EntryType, MemoryLogStorage, MessageType, Peer, RAFT_DEFAULTS, Role, SeededRandom, resolveRaftConfig, type Entry, type RaftConfigInput,
} from '../../src/core/index.js';
import { HANDLERS, QUIESCE_IDLE_ELECTIONS, checkHandlerTables } from '../../src/core/handlers.js';
import { InvalidOptionError } from '../../src/errors.js';
import { ELECTION, elect, makeCluster, proposeAt, traced } from './support/scenario.js';

// ---- quiesce ------------------------------------------------------------------------------

test('quiesce: an idle shard stops heartbeats after electionTicks·10 ticks', () => {
  assert.equal(QUIESCE_IDLE_ELECTIONS, 10);
  const { c } = makeCluster({ voters: [1, 2, 3], config: { quiesce: true } });
  elect(c, 1);
  c.propose(1, 'last-activity');
  const idle = ELECTION * QUIESCE_IDLE_ELECTIONS;
  c.tick(idle - 2);
  assert.equal(c.get(1).peer.quiesced, false, 'not before the idle period');
  let from = c.trace.length;
  c.tick(1);
  assert.ok(traced(c, (m) => m.type === MessageType.Heartbeat, from).length > 0, 'heartbeats still flow');
  c.tick(4);
  for (const r of c.replicas.values()) assert.equal(r.peer.quiesced, true, `replica ${r.id} quiesced`);
  const term = c.get(1).peer.term;
  from = c.trace.length;
  c.tick(5 * ELECTION);
  assert.deepEqual(traced(c, () => true, from).map((m) => m.type), [], 'a quiesced shard is silent');
  assert.equal(c.leader(), 1);
  assert.equal(c.get(2).peer.term, term, 'and nobody campaigns');
});

test('quiesce: a proposal wakes the shard; heartbeats resume', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3], config: { quiesce: true } });
  elect(c, 1);
  c.tick(ELECTION * QUIESCE_IDLE_ELECTIONS + 5);
  assert.equal(c.get(1).peer.quiesced, true);
  c.propose(2, 'wake-up'); // at a follower: forwarded
  assert.deepEqual(rec.dropped, []);
  for (const r of c.replicas.values()) {
    assert.equal(r.peer.quiesced, false, `replica ${r.id} woke`);
    assert.equal(r.appliedIndex, c.get(1).appliedIndex);
  }
  const from = c.trace.length;
  c.tick(2);
  assert.ok(traced(c, (m) => m.type === MessageType.Heartbeat && m.from === 1, from).length >= 2);
});

// ---- rate limiting ------------------------------------------------------------------------

const big = 'r'.repeat(300); // entrySize 348

test('rate limit: a follower that does not apply reports a big in-memory log and the leader refuses proposals', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3], config: { maxInMemLogSize: 2000 } });
  elect(c, 1);
  const slow = c.get(2).peer;
  const notify = slow.notifyApplied.bind(slow);
  slow.notifyApplied = (): void => {}; // this host never tells the core what it applied
  for (let i = 0; i < 8; i++) c.propose(1, big);
  assert.deepEqual(rec.dropped, [], 'below the limit everything is accepted');
  assert.equal(slow.rateLimited(), true, "the follower's unapplied log grew past the limit");
  assert.equal(c.get(1).peer.rateLimited(), false);
  const from = c.trace.length;
  c.tick(1);
  const reports = traced(c, (m) => m.type === MessageType.RateLimit && m.from === 2, from);
  assert.ok(reports.length > 0 && (reports[0]?.hint ?? 0) > 2000, 'the follower reported its size');
  assert.equal(c.get(1).peer.rateLimited(), true);
  const last = c.get(1).peer.status().lastIndex;
  proposeAt(c, 1, 'refused');
  c.stabilize();
  assert.deepEqual(rec.droppedCmds(1), ['refused'], 'refused and reported');
  assert.equal(c.get(1).peer.status().lastIndex, last);
  // The host catches up: the follower reports a small size and proposals flow again.
  slow.notifyApplied = notify;
  c.tick(3);
  assert.equal(slow.rateLimited(), false);
  assert.equal(c.get(1).peer.rateLimited(), false);
  c.propose(1, 'accepted');
  assert.equal(rec.droppedCmds(1).length, 1);
});

test('rate limit: the leader refuses proposals when its own unapplied log is too big', () => {
  const { c, rec } = makeCluster({ voters: [1, 2, 3], config: { maxInMemLogSize: 1000 } });
  elect(c, 1);
  const lp = c.get(1).peer;
  lp.notifyApplied = (): void => {};
  for (let i = 0; i < 6; i++) c.propose(1, big);
  assert.equal(lp.rateLimited(), true);
  assert.ok(rec.droppedCmds(1).length >= 2, `only ${rec.droppedCmds(1).length} proposals refused`);
});

test('rate limit: reports from a follower that went silent expire', () => {
  const { c } = makeCluster({ voters: [1, 2, 3], config: { maxInMemLogSize: 2000 } });
  elect(c, 1);
  c.get(2).peer.notifyApplied = (): void => {};
  for (let i = 0; i < 8; i++) c.propose(1, big);
  c.tick(1);
  assert.equal(c.get(1).peer.rateLimited(), true);
  c.crash(2);
  c.tick(3 * ELECTION);
  assert.equal(c.get(1).peer.rateLimited(), false);
});

// ---- config validation --------------------------------------------------------------------

const base: RaftConfigInput = { shardId: 1, replicaId: 1, random: new SeededRandom(1) };

test('config: resolveRaftConfig fills defaults and accepts the smallest valid election/heartbeat ratio', () => {
  const c = resolveRaftConfig(base);
  assert.equal(c.electionTicks, RAFT_DEFAULTS.electionTicks);
  assert.equal(c.heartbeatTicks, RAFT_DEFAULTS.heartbeatTicks);
  assert.doesNotThrow(() => resolveRaftConfig({ ...base, electionTicks: 3, heartbeatTicks: 1 }));
  assert.doesNotThrow(() => resolveRaftConfig({ ...base, maxInflightBytes: 0 }));
});

test('config: every invalid field is refused with InvalidOptionError', () => {
  const bad: Array<[string, Partial<RaftConfigInput>]> = [
    ['electionTicks == 2·heartbeatTicks', { electionTicks: 2, heartbeatTicks: 1 }],
    ['electionTicks < 2·heartbeatTicks', { electionTicks: 5, heartbeatTicks: 3 }],
    ['electionTicks == 2·heartbeatTicks (larger)', { electionTicks: 20, heartbeatTicks: 10 }],
    ['heartbeatTicks 0', { heartbeatTicks: 0 }],
    ['electionTicks 0', { electionTicks: 0 }],
    ['electionTicks fractional', { electionTicks: 10.5 }],
    ['electionTicks NaN', { electionTicks: Number.NaN }],
    ['shardId 0', { shardId: 0 }],
    ['replicaId negative', { replicaId: -1 }],
    ['replicaId unsafe', { replicaId: 2 ** 60 }],
    ['maxInflightMsgs 0', { maxInflightMsgs: 0 }],
    ['maxInflightBytes negative', { maxInflightBytes: -1 }],
    ['maxEntryBytesPerMsg 0', { maxEntryBytesPerMsg: 0 }],
    ['maxApplyBytes 0', { maxApplyBytes: 0 }],
    ['maxInMemLogSize negative', { maxInMemLogSize: -5 }],
    ['inflight bytes below message size', { maxInflightBytes: 100, maxEntryBytesPerMsg: 200 }],
    ['non-voting and witness', { isNonVoting: true, isWitness: true }],
    ['random without intn', { random: {} as RaftConfigInput['random'] }],
  ];
  for (const [why, fields] of bad) {
    assert.throws(() => resolveRaftConfig({ ...base, ...fields }), (e: unknown) => {
      assert.ok(e instanceof InvalidOptionError, `${why}: threw ${String(e)}`);
      assert.equal(e.code, 'INVALID_OPTION');
      return true;
    }, why);
    assert.throws(() => new Peer({ ...base, ...fields }, new MemoryLogStorage(1)), InvalidOptionError, `Peer: ${why}`);
  }
});

test('config: a Peer refuses inconsistent starts', () => {
  const members = new Map([[2, 'a'], [3, 'b']]);
  assert.throws(() => new Peer(base, new MemoryLogStorage(1), { initialMembers: members }), InvalidOptionError,
    'initial members without this replica');
  const used = new MemoryLogStorage(1);
  used.append([{ term: 1, index: 1, type: 0, key: 0, clientId: 0, seriesId: 0, respondedTo: 0, cmd: new Uint8Array(0) }]);
  used.hardState = { term: 1, vote: 0, commit: 1 };
  assert.throws(() => new Peer(base, used, { initialMembers: new Map([[1, 'a']]) }), InvalidOptionError,
    'initial members for a replica that has a log');
});

test('restart: a commit index that trails the applied index (commit-only hard states are not synced) is raised to it; applied past the log is refused', () => {
  const storage = new MemoryLogStorage(1);
  const e = (index: number): Entry => ({ term: 1, index, type: EntryType.Application, key: 0, clientId: 0, seriesId: 0, respondedTo: 0, cmd: new Uint8Array(0) });
  storage.append([e(1), e(2), e(3), e(4)]);
  const hardState = { term: 1, vote: 1, commit: 2 };
  const peer = new Peer(base, storage, { hardState, membership: { configChangeId: 0, voters: new Map([[1, 'a']]), nonVoting: new Map(), witnesses: new Map(), removed: new Set() }, applied: 4 });
  assert.equal(peer.status().commit, 4);
  assert.equal(peer.status().applied, 4);
  assert.throws(() => new Peer(base, storage, { hardState, applied: 5 }), InvalidOptionError, 'applied beyond the last index');
});

// ---- dispatch tables ----------------------------------------------------------------------

test('handler tables: every role handles every message type', () => {
  assert.doesNotThrow(() => checkHandlerTables());
  const types = Object.values(MessageType);
  for (const role of Object.values(Role)) {
    const table = HANDLERS[role];
    assert.ok(table, `role ${role} has a table`);
    for (const t of types) assert.equal(typeof table[t], 'function', `role ${role}, message ${t}`);
    assert.equal(Object.keys(table).length, types.length, `role ${role}: no stray entries`);
  }
});

test('handler tables: checkHandlerTables names a gap', () => {
  const table = HANDLERS[Role.Witness] as unknown as Record<number, unknown>;
  const saved = table[MessageType.ReadIndex];
  delete table[MessageType.ReadIndex];
  try {
    assert.throws(() => checkHandlerTables(), /message 7 in role 5/);
  } finally {
    table[MessageType.ReadIndex] = saved;
  }
  assert.doesNotThrow(() => checkHandlerTables());
});
