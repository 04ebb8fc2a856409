/**
 * How the scripted interaction tests render protocol values: one short line per message,
 * entries as `term/index payload`. The rendering is part of every golden file, so it favours
 * what a reviewer needs to judge Raft behaviour (terms, log positions, commit indexes, who
 * rejected what) and leaves out fields a message kind does not use.
 */
import {
  ConfigChangeType, EntryType, MessageType, MessageTypeName, decodeConfigChange,
  type Entry, type Membership, type Message,
} from '../../../src/core/index.js';

const utf8 = new TextDecoder();

/** Names of config change kinds as the scripts spell them. */
export const CONF_CHANGE_NAMES: Readonly<Record<number, string>> = {
  [ConfigChangeType.AddVoter]: 'add-voter',
  [ConfigChangeType.AddNonVoting]: 'add-nonvoting',
  [ConfigChangeType.AddWitness]: 'add-witness',
  [ConfigChangeType.RemoveReplica]: 'remove',
};

/** Op letters of a joint change, as the planner scripts spell them. */
const OP_LETTERS: Readonly<Record<number, string>> = {
  [ConfigChangeType.AddVoter]: 'v', [ConfigChangeType.AddNonVoting]: 'l', [ConfigChangeType.RemoveReplica]: 'r',
};

/** `term/index` followed by the payload: `"text"`, `conf add-voter 4`, or `meta`. */
export function formatEntry(e: Entry): string {
  const pos = `${e.term}/${e.index}`;
  switch (e.type) {
    case EntryType.ConfigChange: {
      const cc = decodeConfigChange(e.cmd);
      if (cc.type === ConfigChangeType.EnterJoint) {
        const ops = (cc.ops ?? []).map((o) => `${OP_LETTERS[o.type] ?? '?'}${o.replicaId}`).join(',');
        return `${pos} conf enter-joint ${ops}${cc.autoLeave === true ? ' autoleave' : ''}`;
      }
      if (cc.type === ConfigChangeType.LeaveJoint) return `${pos} conf leave-joint`;
      const kind = CONF_CHANGE_NAMES[cc.type] ?? `type${cc.type}`;
      const extra = cc.initialize ? ' (bootstrap)' : cc.configChangeId !== 0 ? ` version=${cc.configChangeId}` : '';
      return `${pos} conf ${kind} ${cc.replicaId}${extra}`;
    }
    case EntryType.Metadata:
      return `${pos} meta`;
    case EntryType.Application:
      return `${pos} ${JSON.stringify(utf8.decode(e.cmd))}`;
    default:
      return `${pos} type${e.type} (${e.cmd.length} bytes)`;
  }
}

/** Entries, abbreviated to first … last when there are many. */
export function formatEntries(ents: readonly Entry[]): string {
  if (ents.length <= 5) return `[${ents.map(formatEntry).join(', ')}]`;
  const first = ents[0] as Entry;
  const last = ents[ents.length - 1] as Entry;
  return `[${formatEntry(first)}, ${formatEntry(ents[1] as Entry)}, … ${formatEntry(last)}] (${ents.length} entries)`;
}

/** Sorted ids joined by commas, or `-` for none. */
export function formatIds(ids: Iterable<number>): string {
  const s = [...ids].sort((a, b) => a - b);
  return s.length === 0 ? '-' : s.join(',');
}

/** A membership: version and each role's members (only the non-empty ones besides voters). */
export function formatMembership(m: Membership): string {
  let s = `v${m.configChangeId} voters=${formatIds(m.voters.keys())}`;
  if (m.joint !== undefined) s += `&&${formatIds(m.joint.outgoing.keys())}`;
  if (m.joint !== undefined && m.joint.nonVotingNext.size > 0) s += ` nonvoting-next=${formatIds(m.joint.nonVotingNext.keys())}`;
  if (m.nonVoting.size > 0) s += ` nonvoting=${formatIds(m.nonVoting.keys())}`;
  if (m.witnesses.size > 0) s += ` witnesses=${formatIds(m.witnesses.keys())}`;
  if (m.removed.size > 0) s += ` removed=${formatIds(m.removed)}`;
  return s;
}

/**
 * One message on one line. `ctxName` turns a read context back into the label the script
 * used for it.
 */
export function formatMessage(m: Message, ctxName: (low: number, high: number) => string): string {
  const name = MessageTypeName[m.type] ?? `type${m.type}`;
  const head = `${m.from}->${m.to} ${name}`;
  const term = `term=${m.term}`;
  const ctx = m.hint !== 0 || m.hintHigh !== 0 ? ` ctx=${ctxName(m.hint, m.hintHigh)}` : '';
  switch (m.type) {
    case MessageType.Replicate:
      return `${head} ${term} log=${m.logTerm}/${m.logIndex} commit=${m.commit}${m.entries.length > 0 ? ` entries=${formatEntries(m.entries)}` : ''}`;
    case MessageType.ReplicateResp:
      return m.reject
        ? `${head} ${term} rejected index=${m.logIndex} hint=${m.logTerm}/${m.hint}`
        : `${head} ${term} index=${m.logIndex}`;
    case MessageType.RequestVote:
    case MessageType.RequestPreVote:
      return `${head} ${term} log=${m.logTerm}/${m.logIndex}${m.hint !== 0 ? ' (transfer)' : ''}`;
    case MessageType.RequestVoteResp:
    case MessageType.RequestPreVoteResp:
      return `${head} ${term}${m.reject ? ' rejected' : ''}`;
    case MessageType.Heartbeat:
      return `${head} ${term} commit=${m.commit}${ctx}`;
    case MessageType.HeartbeatResp:
      return `${head} ${term}${ctx}`;
    case MessageType.InstallSnapshot: {
      const ss = m.snapshot;
      if (ss === null) return `${head} ${term} (no snapshot)`;
      return `${head} ${term} snapshot=${ss.term}/${ss.index}${ss.witness ? ' witness' : ''} membership=${formatMembership(ss.membership)}`;
    }
    case MessageType.ReadIndexResp:
      return `${head} ${term} index=${m.logIndex}${ctx}`;
    case MessageType.RateLimit:
      return `${head} ${term} size=${m.hint}`;
    case MessageType.Propose:
      return `${head} entries=${formatEntries(m.entries)}`;
    case MessageType.ReadIndex:
      return `${head}${ctx}`;
    case MessageType.LeaderTransfer:
      return `${head} target=${m.hint}`;
    default:
      return `${head} ${term}`;
  }
}
