/**
 * What a leader does with a proposal it will not append now, and how the proposer hears of it.
 *
 * - Refused (a leader transfer under way, rate limited, another membership change not yet
 *   committed, a membership change that fails the live-quorum check — its entry then carries
 *   the shortfall in `cmd`, here and in the notice, `live-quorum.ts`): a proposal of the
 *   leader's own replica is reported in `droppedEntries`, as always. A keyed proposal forwarded by another replica is answered with a refusal notice:
 *   a Propose with `reject` set, `logTerm` the leader's term, and the refused entries without
 *   their payload (`term` set to that term, `key` and `type` kept). The leader recorded the
 *   forwarded message's first key before deciding (`forwardedKeys`), so a copy of the same
 *   Propose delivered later is never appended in that term; in any other term a Propose of
 *   term T is never appended at all. So the notice is final: those entries are in no log and
 *   never will be. (etcd and dragonboat drop a forwarded proposal silently: its proposer waits
 *   out its deadline.)
 * - Deferred: a membership change that arrives while the leader's previous change (or its
 *   term's first entry) is committed but not yet handed to its host is held here and appended
 *   once it is. The proposer may see that commit before the leader does: a quorum of followers
 *   can commit an entry the leader has not finished writing, and the leader hands out for
 *   applying only entries it has persisted. Held changes leave with the leadership (any term
 *   or role change): the replica's own are reported dropped, forwarded ones are re-forwarded
 *   by their proposer once an entry of a later term is applied there.
 *
 * The notice reuses the Propose kind so that a peer of an earlier release ignores it safely
 * (a follower or candidate ignores a Propose it did not make; a leader appends one only for its
 * own term, and the sender, not it, led in that term); a new message kind would fail such a
 * peer's decoding of the whole batch.
 */
import type { Raft } from './raft.js';
import { decodeShortfall } from './live-quorum.js';
import { EMPTY_BYTES, EntryType, MessageType, message, type Entry, type Message } from './types.js';

function isLocalOrigin(r: Raft, m: Message): boolean {
  return m.from === r.id || m.from === 0;
}

/**
 * The entry a refusal notice names: position-free, stamped with the refusing term, and without
 * payload — except the reason of a live-quorum refusal (`live-quorum.ts`), which it keeps.
 */
function refusedEntry(e: Entry, term: number): Entry {
  const cmd = decodeShortfall(e.cmd) === null ? EMPTY_BYTES : e.cmd;
  return { term, index: 0, type: e.type, key: e.key, clientId: 0, seriesId: 0, respondedTo: 0, cmd };
}

/**
 * Leader: refuses `entries` of Propose `m`, never appended in this term: reported when the
 * proposal is this replica's own, answered with a refusal notice when forwarded and keyed (an
 * unkeyed one names nothing its proposer could match; it is dropped silently, as before).
 */
export function refuseProposal(r: Raft, m: Message, entries: readonly Entry[]): void {
  if (entries.length === 0) return;
  if (isLocalOrigin(r, m)) {
    for (const e of entries) r.droppedEntries.push(e);
    return;
  }
  if ((m.entries[0]?.key ?? 0) === 0) return;
  r.send(message({
    type: MessageType.Propose, to: m.from, reject: true, logTerm: r.term,
    entries: entries.map((e) => refusedEntry(e, r.term)),
  }));
}

/** Whether `m` is a refusal notice (see the module comment) rather than a proposal. */
export function isRefusalNotice(m: Message): boolean {
  return m.type === MessageType.Propose && m.reject;
}

/**
 * Proposer, in any role: a leader refused entries it forwarded. They are reported in
 * `droppedEntries` with `term` the refusing leader's term (a local refusal's entries keep
 * term 0), so that the host fails only a request still handed over in that term.
 */
export function onRefusalNotice(r: Raft, m: Message): void {
  if (isLocalOrigin(r, m) || m.logTerm === 0) return;
  for (const e of m.entries) if (e.key !== 0) r.droppedEntries.push(refusedEntry(e, m.logTerm));
}

/**
 * Leader: whether a membership change that must wait for the pending one should be held rather
 * than refused: the pending one (or the term's first entry) is committed, only not yet handed
 * to the host, so the wait is short and its end certain.
 */
export function shouldDeferConfigChange(r: Raft): boolean {
  return r.pendingConfigIndex > r.log.applied && r.pendingConfigIndex <= r.log.committed;
}

/** Leader: holds the membership changes `entries` of `m` until the pending change is handed to the host. */
export function deferConfigChanges(r: Raft, m: Message, entries: readonly Entry[]): void {
  if (entries.length > 0) r.deferredChanges.push({ ...m, entries });
}

/**
 * Leader, once `log.applied` advanced: proposes the held membership changes again (`propose`
 * is the leader's acceptance, without the duplicate check they already passed). The first may
 * be appended; the ones after it then wait for it, or are refused.
 */
export function releaseDeferredChanges(r: Raft, propose: (r: Raft, m: Message) => void): void {
  if (r.deferredChanges.length === 0 || r.pendingConfigIndex > r.log.applied) return;
  const held = r.deferredChanges;
  r.deferredChanges = [];
  for (const m of held) propose(r, m);
}

/**
 * Any term or role change: held membership changes are dropped, this replica's own reported
 * (forwarded ones are re-forwarded by their proposer after the next term's entry applies).
 */
export function dropDeferredChanges(r: Raft): void {
  if (r.deferredChanges.length === 0) return;
  for (const m of r.deferredChanges) {
    if (!isLocalOrigin(r, m)) continue;
    for (const e of m.entries) if (e.type === EntryType.ConfigChange) r.droppedEntries.push(e);
  }
  r.deferredChanges = [];
}
