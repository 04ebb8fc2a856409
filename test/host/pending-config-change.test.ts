/**
 * The waiting membership changes of one replica (`pending-config-change.ts`), against a fake
 * core: held until a leader that may take a change, resolved or rejected at apply, DroppedError
 * when refused (a leader's notice: only the attempt of its term) or when no leader took it by its
 * deadline, held again after a leader change proves its first copy cannot commit (never after a
 * snapshot of its term), failed on close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Role } from '../../src/core/raft.js';
import { ConfigChangeType, EntryType, entry, type ConfigChange, type Entry } from '../../src/core/types.js';
import { ClosedError, DroppedError, RejectedError, TimeoutError } from '../../src/errors.js';
import { PendingConfigChange } from '../../src/host/pending-config-change.js';
import type { ProposalTarget } from '../../src/host/pending-proposals.js';
import { Pending } from '../../src/host/request.js';
import { Deadlines } from '../../src/host/deadlines.js';

const deadlines = new Deadlines();
import type { ApplyOutcome } from '../../src/rsm/state-machine-manager.js';

/** A fake core: who leads in which term, and what was proposed to it. */
class Core implements ProposalTarget {
  leaderId = 0;
  term = 1;
  role: Role = Role.Follower;
  readonly proposed: Entry[][] = [];
  propose(entries: readonly Entry[]): void { this.proposed.push([...entries]); }
}

const CC: ConfigChange = { type: ConfigChangeType.AddNonVoting, replicaId: 9, address: 'h:9', configChangeId: 0, initialize: false, ordered: false };

/** Adds a change with key `key`, wired as the replica wires it. */
function add(p: PendingConfigChange, key: number, timeoutMs = 5000): Pending<void> {
  const req = new Pending<void>(deadlines, { timeoutMs }, () => p.remove(key), (ms) => p.expired(key, 1, ms));
  p.add(req, entry({ term: 0, index: 0, type: EntryType.ConfigChange, key }));
  return req;
}

function outcome(key: number, o: Partial<ApplyOutcome> = {}): ApplyOutcome {
  return { index: 10, key, result: { value: 0 }, rejected: false, ...o };
}

test('a change is held until a leader is known AND it may take a change, goes to the core once, and resolves when applied', async () => {
  const p = new PendingConfigChange();
  const core = new Core();
  const req = add(p, 100);
  assert.equal(p.size, 1);
  p.flush(core, true);
  assert.equal(core.proposed.length, 0, 'no leader: held');
  core.leaderId = 2;
  p.flush(core, false);
  assert.equal(core.proposed.length, 0, 'a leader that has not committed an entry of its term here: held');
  p.flush(core, true);
  assert.deepEqual(core.proposed.map((b) => b.map((e) => e.key)), [[100]]);
  p.flush(core, true);
  assert.equal(core.proposed.length, 1, 'handed over once');
  assert.equal(p.applied(outcome(555)), false, 'another key is not a change here');
  assert.equal(p.applied(outcome(100, { configChange: CC })), true);
  await req.promise;
  assert.equal(p.size, 0);
});

test('a change the state machine rejects fails with RejectedError; one the core refuses with DroppedError', async () => {
  const p = new PendingConfigChange();
  const core = new Core();
  core.leaderId = 1;
  const rejected = add(p, 1);
  const dropped = add(p, 2);
  p.flush(core, true);
  p.applied(outcome(1, { rejected: true, reason: 'stale configChangeId' }));
  await assert.rejects(rejected.promise, (e: unknown) => e instanceof RejectedError && /stale configChangeId/.test(e.message));
  p.dropped(entry({ term: 1, index: 0, type: EntryType.ConfigChange, key: 2 }));
  await assert.rejects(dropped.promise, (e: unknown) => e instanceof DroppedError && /another change is pending/.test(e.message));
  assert.equal(p.size, 0);
});

test('deadline: DroppedError while held for a leader (certainly not applied); TimeoutError once handed over (outcome unknown)', async () => {
  const p = new PendingConfigChange();
  const core = new Core();
  const held = add(p, 1, 30);
  await assert.rejects(held.promise, (e: unknown) => e instanceof DroppedError && /no leader/.test(e.message));
  core.leaderId = 3;
  const sent = add(p, 2, 30);
  p.flush(core, true);
  await assert.rejects(sent.promise, TimeoutError);
  assert.equal(p.size, 0, 'both left the set');
});

test('term change: a change proposed in an earlier term is held again once an entry of a later term is applied, and proposed again; never after a snapshot of its term', async () => {
  const p = new PendingConfigChange();
  const core = new Core();
  core.leaderId = 1;
  core.term = 2;
  const req = add(p, 7);
  p.flush(core, true);
  assert.equal(p.appliedTerm(2), 0, 'an entry of its own term: it may still commit');
  core.leaderId = 3;
  core.term = 3;
  assert.equal(p.appliedTerm(3), 1, 'an entry of term 3 applied: the copy of term 2 can never commit');
  assert.equal(p.appliedTerm(3), 0, 'once per term');
  p.flush(core, true);
  assert.deepEqual(core.proposed.map((b) => b.map((e) => e.key)), [[7], [7]], 'the same key, to the new leader');
  // A snapshot of term 3 installed: whether the copy of term 3 is inside it is unknown.
  p.snapshotInstalled(3);
  core.term = 4;
  assert.equal(p.appliedTerm(4), 0, 'never re-forwarded after a snapshot of its term');
  p.applied(outcome(7, { configChange: CC }));
  await req.promise;
});

test('close: every waiting change fails with the error given (held or handed over)', async () => {
  const p = new PendingConfigChange();
  const core = new Core();
  const held = add(p, 1);
  core.leaderId = 2;
  const sent = add(p, 2);
  p.flush(core, true);
  const third = add(p, 3);
  p.rejectAll(new ClosedError('replica stopped'));
  for (const r of [held, sent, third]) await assert.rejects(r.promise, ClosedError);
  assert.equal(p.size, 0);
});

test('a leader\'s refusal notice fails only the attempt of its own term: a late one for an earlier attempt is ignored', async () => {
  const p = new PendingConfigChange();
  const core = new Core();
  core.leaderId = 1;
  core.term = 2;
  const req = add(p, 8);
  p.flush(core, true);
  // Its leader is lost; an entry of term 3 is applied: it is re-forwarded in term 3.
  core.leaderId = 3;
  core.term = 3;
  assert.equal(p.appliedTerm(3), 1);
  p.flush(core, true);
  // The old leader's notice (term 2) arrives late: it says nothing about the copy of term 3.
  p.dropped(entry({ term: 2, index: 0, type: EntryType.ConfigChange, key: 8 }));
  assert.equal(p.size, 1, 'still waiting');
  // The new leader's own refusal fails it at once.
  p.dropped(entry({ term: 3, index: 0, type: EntryType.ConfigChange, key: 8 }));
  await assert.rejects(req.promise, DroppedError);
  assert.equal(p.size, 0);
});
