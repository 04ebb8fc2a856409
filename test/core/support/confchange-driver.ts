/**
 * The driver of the planner and quorum scripts (test/core/confchange/*.txt and
 * test/core/quorum/*.txt), in the style of etcd raft's datadriven `confchange` and `quorum`
 * tests. Commands:
 *
 * - `members voters=1,2 nonvoting=3 witnesses=4 removed=5` — sets the membership (not joint);
 * - `simple v4` (`l4` non-voting, `r4` remove, `w4` witness) — one single-replica change;
 * - `enter-joint [autoleave] v4 l2 r3 …` — a joint change; `leave-joint`;
 * - `committed cfg=1,2,3 cfgj=4,5 idx=100,_,…` — the joint commit index; `idx` lists the match
 *   of every id of cfg ∪ cfgj in ascending order (`_`: 0);
 * - `vote cfg=… cfgj=… votes=y,n,_,…` — the joint election outcome, votes likewise;
 * - `quorum cfg=… cfgj=… ids=…` — whether `ids` hold a quorum of each half.
 *
 * After each accepted change the membership is printed, then every tracked replica with the
 * `next` its progress was created with: each command is one log index, so a replica that
 * keeps its progress across a promotion or demotion keeps its `next`.
 */
import { ConfigChangeType, emptyMembership, type ConfigChangeOp, type Membership } from '../../../src/core/types.js';
import { applyConfigChange, validateConfigChange } from '../../../src/core/membership.js';
import { jointHasQuorum, jointQuorumIndex, jointVoteResult, VoteResult } from '../../../src/core/quorum.js';
import { Progress } from '../../../src/core/progress.js';
import { ProgressTracker, type TrackedRole } from '../../../src/core/tracker.js';

const OP_TYPES: Readonly<Record<string, ConfigChangeType>> = {
  v: ConfigChangeType.AddVoter, l: ConfigChangeType.AddNonVoting, r: ConfigChangeType.RemoveReplica, w: ConfigChangeType.AddWitness,
};

function ids(s: string | undefined): number[] {
  if (s === undefined || s === '' || s === '-') return [];
  return s.split(',').map((x) => Number(x));
}

function list(it: Iterable<number>): string {
  return `(${[...it].sort((a, b) => a - b).join(' ')})`;
}

/** The membership as one line: `voters=(1 2)&&(1 3) nonvoting=(4) nonvoting-next=(3) …`. */
export function formatMembership(m: Membership): string {
  let s = `v${m.configChangeId} voters=${list(m.voters.keys())}`;
  if (m.joint !== undefined) s += `&&${list(m.joint.outgoing.keys())}`;
  if (m.nonVoting.size > 0) s += ` nonvoting=${list(m.nonVoting.keys())}`;
  if (m.joint !== undefined && m.joint.nonVotingNext.size > 0) s += ` nonvoting-next=${list(m.joint.nonVotingNext.keys())}`;
  if (m.witnesses.size > 0) s += ` witnesses=${list(m.witnesses.keys())}`;
  if (m.removed.size > 0) s += ` removed=${list(m.removed)}`;
  if (m.joint?.autoLeave === true) s += ' autoleave';
  return s;
}

const ROLE_NAME: Readonly<Record<TrackedRole, string>> = { 0: 'voter', 1: 'witness', 2: 'non-voting' };

/** Runs planner and quorum commands against one membership and tracker. */
export class ConfChangeDriver {
  private m: Membership = emptyMembership();
  private index = 0;
  private readonly tracker = new ProgressTracker((next) => new Progress(next, 8, 0));

  /** Runs one command line; returns its output lines. */
  run(command: string): string[] {
    const [cmd, ...args] = command.trim().split(/\s+/);
    const kv = new Map<string, string>();
    const bare: string[] = [];
    for (const a of args) {
      const at = a.indexOf('=');
      if (at < 0) bare.push(a);
      else kv.set(a.slice(0, at), a.slice(at + 1));
    }
    this.index++;
    switch (cmd) {
      case 'members': {
        const addr = (id: number): [number, string] => [id, `a${id}`];
        this.m = {
          configChangeId: this.index, voters: new Map(ids(kv.get('voters')).map(addr)), nonVoting: new Map(ids(kv.get('nonvoting')).map(addr)),
          witnesses: new Map(ids(kv.get('witnesses')).map(addr)), removed: new Set(ids(kv.get('removed'))),
        };
        return this.show();
      }
      case 'simple': {
        if (bare.length !== 1) throw new Error('simple takes one op');
        const op = this.op(bare[0]!);
        return this.change({ configChangeId: 0, initialize: false, ...op });
      }
      case 'enter-joint': {
        const autoLeave = bare[0] === 'autoleave';
        const ops = bare.slice(autoLeave ? 1 : 0).map((b) => this.op(b));
        return this.change({ configChangeId: 0, type: ConfigChangeType.EnterJoint, replicaId: 0, address: '', initialize: false, ops, autoLeave });
      }
      case 'leave-joint':
        return this.change({ configChangeId: 0, type: ConfigChangeType.LeaveJoint, replicaId: 0, address: '', initialize: false });
      case 'committed': {
        const { cfg, cfgj, all } = this.configs(kv);
        const idx = (kv.get('idx') ?? '').split(',');
        const match = new Map(all.map((id, i) => [id, idx[i] === '_' || idx[i] === undefined ? 0 : Number(idx[i])]));
        return [String(jointQuorumIndex(cfg, cfgj, (id) => match.get(id) ?? 0))];
      }
      case 'vote': {
        const { cfg, cfgj, all } = this.configs(kv);
        const v = (kv.get('votes') ?? '').split(',');
        const votes = new Map<number, boolean>();
        all.forEach((id, i) => { if (v[i] === 'y' || v[i] === 'n') votes.set(id, v[i] === 'y'); });
        const r = jointVoteResult(cfg, cfgj, votes);
        return [r === VoteResult.Won ? 'won' : r === VoteResult.Lost ? 'lost' : 'pending'];
      }
      case 'quorum': {
        const { cfg, cfgj } = this.configs(kv);
        return [String(jointHasQuorum(cfg, cfgj, new Set(ids(kv.get('ids')))))];
      }
      default:
        throw new Error(`unknown command ${String(cmd)}`);
    }
  }

  private configs(kv: Map<string, string>): { cfg: Set<number>; cfgj: Set<number>; all: number[] } {
    const cfg = new Set(ids(kv.get('cfg')));
    const cfgj = new Set(ids(kv.get('cfgj')));
    return { cfg, cfgj, all: [...new Set([...cfg, ...cfgj])].sort((a, b) => a - b) };
  }

  private op(s: string): ConfigChangeOp {
    const type = OP_TYPES[s[0]!];
    if (type === undefined) throw new Error(`bad op ${s}`);
    const replicaId = Number(s.slice(1));
    return { type, replicaId, address: type === ConfigChangeType.RemoveReplica ? '' : `a${replicaId}` };
  }

  private change(cc: Parameters<typeof validateConfigChange>[1]): string[] {
    const why = validateConfigChange(this.m, cc, false);
    if (why !== null) return [`refused: ${why}`];
    this.m = applyConfigChange(this.m, cc, this.index);
    return this.show();
  }

  private show(): string[] {
    this.tracker.setConfig(this.m, this.index);
    const out = [formatMembership(this.m)];
    const rows: Array<[number, string]> = [];
    this.tracker.forEach((id, pr, role) => rows.push([id, `${id}: next=${pr.next} ${ROLE_NAME[role]}`]));
    rows.sort((a, b) => a[0] - b[0]);
    for (const [, r] of rows) out.push(r);
    return out;
  }
}
