/**
 * The stage of the scripted interaction tests: replicas of one shard ({@link SimReplica}:
 * memory "disk", digest state machine) and a synchronous network the script controls. Each
 * command returns the lines it printed; the runner compares them with the golden file.
 *
 * Delivery model (as etcd's interaction tests and `TestCluster`): commands such as
 * `campaign` or `propose` only step the replica; `stabilize` then runs rounds — every live
 * replica carries out its pending updates (persist, send, apply, acknowledge), and the
 * messages they produced are delivered in order — until nothing moves. `tick` stabilises
 * after every tick. Every delivered message is printed on one line, dropped and held ones
 * with a suffix; replica events are printed as `ID: event`.
 *
 * Commands (ids are replica ids; `[x]` is optional):
 * - `cluster voters=1,2,3 [joiners=4,5] [nonvoting=4] [witness=5] [prevote=B] [checkquorum=B]
 *   [election=T] [heartbeat=T] [snapshot-every=N] [overhead=M] [quiesce=B] [max-inmem=BYTES]
 *   [inflight=N] [inflight-bytes=BYTES] [max-msg-bytes=BYTES] [ordered=B] [seed=S]` — a new
 *   shard. Voters bootstrap it; `joiners`, `nonvoting` and `witness` replicas start empty and
 *   wait to be added by a config change (the latter two configured as non-voting / witness).
 *   Defaults are the library's (pre-vote and check-quorum on, election=10, heartbeat=1).
 * - `campaign ID`, `propose ID TEXT`, `propose-conf ID add-voter|add-nonvoting|add-witness|remove
 *   REPLICA [version=V]`, `propose-joint ID [autoleave] v4 r3 l2 …` (a joint change: v add or
 *   promote, l add non-voting or demote, r remove), `propose-leave ID`, `read-index ID LABEL`,
 *   `transfer ID TARGET`: step the replica.
 * - `tick ID|all N [quiet]`: N ticks, stabilising after each; `quiet` hides message lines.
 * - `stabilize [quiet]`: rounds until quiet; `deliver`: one round.
 * - `partition 1,2 / 3`, `cut A B`, `cut-oneway FROM TO`, `isolate ID`, `heal`: links.
 * - `delay ID` holds messages to ID (a slow replica); `release ID` delivers them and stabilises.
 * - `crash ID`, `restart ID` (from the persisted state), `snapshot ID` (take one now).
 * - `status [ID]`, `log ID`, `raft-state`, `check-applied`: inspection.
 */
import {
  ConfigChangeType, EntryType, MessageType, Role, RoleName, decodeConfigChange, entry, validateConfigChange,
  type ConfigChange, type Entry, type Membership, type Message, type RaftConfigInput, type ReadContext,
  type ReadyToRead, type SnapshotMeta,
} from '../../../src/core/index.js';
import { SimReplica, type ReplicaObserver, type SnapshotStore } from './sim-replica.js';
import { formatEntries, formatEntry, formatMembership, formatMessage } from './interaction-format.js';

const PROGRESS_STATE_NAMES = ['probe', 'replicate', 'snapshot'] as const;

const CONF_KINDS: Readonly<Record<string, ConfigChangeType>> = {
  'add-voter': ConfigChangeType.AddVoter,
  'add-nonvoting': ConfigChangeType.AddNonVoting,
  'add-witness': ConfigChangeType.AddWitness,
  remove: ConfigChangeType.RemoveReplica,
};

/** Bound on rounds of one `stabilize`; a livelock is printed rather than hanging the test. */
const MAX_ROUNDS = 500;

/** Parsed words of a command: positional arguments and `key=value` options. */
interface Args {
  readonly pos: string[];
  readonly opts: Map<string, string>;
}

function parseArgs(words: readonly string[]): Args {
  const pos: string[] = [];
  const opts = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq > 0) opts.set(w.slice(0, eq), w.slice(eq + 1));
    else pos.push(w);
  }
  return { pos, opts };
}

function int(s: string | undefined, what: string): number {
  if (s === undefined || !/^\d+$/.test(s)) throw new Error(`expected a number for ${what}, got ${String(s)}`);
  return Number(s);
}

function ids(s: string | undefined): number[] {
  if (s === undefined || s === '') return [];
  return s.split(',').map((x) => int(x, 'replica id'));
}

function bool(s: string | undefined, dflt: boolean): boolean {
  if (s === undefined) return dflt;
  if (s !== 'true' && s !== 'false') throw new Error(`expected true or false, got ${s}`);
  return s === 'true';
}

/** The payload of a proposal, without its (unassigned) position. */
function formatPayload(e: Entry): string {
  if (e.type === EntryType.ConfigChange) return formatEntry({ ...e, term: 0, index: 0 }).replace(/^0\/0 /, '');
  return JSON.stringify(new TextDecoder().decode(e.cmd));
}

interface ShownState {
  readonly role: number;
  readonly leader: number;
  readonly term: number;
}

/** A scripted shard: replicas, a controllable network, and a transcript. */
export class InteractionDriver {
  private readonly replicas = new Map<number, SimReplica>();
  private readonly store: SnapshotStore = new Map();
  private readonly cut = new Set<string>();
  private readonly down = new Set<number>();
  private readonly delayed = new Set<number>();
  private held: Message[] = [];
  private out: string[] = [];
  private quiet = false;
  private ordered = false;
  private proposalKey = 0;
  private readonly shown = new Map<number, ShownState>();
  private readonly members = new Map<number, Membership>();
  private readonly ctxIds = new Map<string, number>();
  private readonly ctxNames = new Map<number, string>();
  /** Events of the update being carried out, flushed after it. */
  private appliedBuf: Entry[] = [];
  private events: string[] = [];
  private membershipChanged = false;
  /** Replicas whose newest snapshot came from the leader in the update being carried out. */
  private readonly restored = new Set<number>();

  private readonly observer: ReplicaObserver = {
    applied: (r, e) => this.onApplied(r, e),
    read: (r, rr) => this.onRead(r, rr),
    dropped: (r, ents, reads) => this.onDropped(r, ents, reads),
    snapshotRestored: (r, ss) => this.onRestored(r, ss),
  };

  /** Runs one command line and returns what it printed. @throws Error on a malformed command. */
  run(line: string): string[] {
    this.out = [];
    this.quiet = false;
    const [cmd, ...rest] = line.trim().split(/\s+/);
    const a = parseArgs(rest);
    switch (cmd) {
      case 'cluster': this.cluster(a); break;
      case 'campaign': this.withReplica(a, (r) => r.peer.campaign()); break;
      case 'propose': this.propose(rest); break;
      case 'propose-conf': this.proposeConf(a); break;
      case 'propose-joint': this.proposeJoint(a); break;
      case 'propose-leave': this.proposeLeave(a); break;
      case 'read-index': this.readIndex(a); break;
      case 'transfer': this.withReplica(a, (r) => r.peer.requestLeaderTransfer(int(a.pos[1], 'target'))); break;
      case 'tick': this.tick(a); break;
      case 'stabilize': this.quiet = a.pos.includes('quiet'); this.stabilize(); break;
      case 'deliver': this.round(); break;
      case 'partition': this.partition(rest.join(' ')); break;
      case 'cut': this.cutLink(int(a.pos[0], 'A'), int(a.pos[1], 'B')); break;
      case 'cut-oneway': this.cut.add(`${int(a.pos[0], 'from')}->${int(a.pos[1], 'to')}`); break;
      case 'isolate': { const id = int(a.pos[0], 'id'); for (const o of this.replicas.keys()) if (o !== id) this.cutLink(id, o); break; }
      case 'heal': this.cut.clear(); break;
      case 'delay': this.delayed.add(int(a.pos[0], 'id')); break;
      case 'release': this.release(int(a.pos[0], 'id')); break;
      case 'crash': this.down.add(this.idOf(a)); break;
      case 'restart': this.restart(this.idOf(a)); break;
      case 'snapshot': this.forceSnapshot(this.idOf(a)); break;
      case 'status': this.status(a); break;
      case 'log': this.log(this.idOf(a)); break;
      case 'raft-state': this.raftState(); break;
      case 'check-applied': this.checkApplied(); break;
      default: throw new Error(`unknown command ${String(cmd)}`);
    }
    return this.out;
  }

  // ---- commands ------------------------------------------------------------------------------

  /** Forgets the previous shard: a script may set up several in turn. */
  private reset(): void {
    for (const x of [this.replicas, this.shown, this.members, this.ctxIds, this.ctxNames]) x.clear();
    for (const x of [this.store, this.cut, this.down, this.delayed, this.restored]) x.clear();
    this.held = [];
    this.proposalKey = 0;
  }

  private cluster(a: Args): void {
    const o = a.opts;
    const voters = ids(o.get('voters'));
    if (voters.length === 0) throw new Error('cluster needs voters=');
    this.reset();
    this.ordered = bool(o.get('ordered'), false);
    const config: Partial<RaftConfigInput> = {
      electionTicks: int(o.get('election') ?? '10', 'election'),
      heartbeatTicks: int(o.get('heartbeat') ?? '1', 'heartbeat'),
      preVote: bool(o.get('prevote'), true),
      checkQuorum: bool(o.get('checkquorum'), true),
      quiesce: bool(o.get('quiesce'), false),
      maxInMemLogSize: int(o.get('max-inmem') ?? '0', 'max-inmem'),
      orderedConfigChange: this.ordered,
      ...(o.has('inflight') ? { maxInflightMsgs: int(o.get('inflight'), 'inflight') } : {}),
      ...(o.has('inflight-bytes') ? { maxInflightBytes: int(o.get('inflight-bytes'), 'inflight-bytes') } : {}),
      ...(o.has('max-msg-bytes') ? { maxEntryBytesPerMsg: int(o.get('max-msg-bytes'), 'max-msg-bytes') } : {}),
    };
    const members = new Map(voters.map((id) => [id, `addr-${id}`] as const));
    const make = (id: number, extra: Partial<RaftConfigInput>, init: boolean): void => {
      this.replicas.set(id, new SimReplica({
        shardId: 1, replicaId: id, seed: int(o.get('seed') ?? '1', 'seed'), store: this.store,
        config: { ...config, ...extra }, initialMembers: init ? members : undefined,
        snapshotEvery: int(o.get('snapshot-every') ?? '0', 'snapshot-every'),
        compactionOverhead: int(o.get('overhead') ?? '0', 'overhead'), observer: this.observer,
      }));
    };
    for (const id of voters) make(id, {}, true);
    for (const id of ids(o.get('joiners'))) make(id, {}, false);
    for (const id of ids(o.get('nonvoting'))) make(id, { isNonVoting: true }, false);
    for (const id of ids(o.get('witness'))) make(id, { isWitness: true }, false);
    // Carry out the bootstrap updates silently; the script starts from a settled shard.
    for (const [id, r] of this.sorted()) {
      this.members.set(id, r.membership);
      this.processReplica(id, []);
    }
    this.out = [];
    for (const id of this.replicas.keys()) this.shown.delete(id);
    for (const [id, r] of this.sorted()) {
      this.remember(id);
      const st = r.peer.status();
      this.emit(`${id}: ${st.role} term=${st.term} commit=${st.commit} applied=${st.applied} last=${st.lastIndex} membership=${formatMembership(r.membership)}`);
    }
  }

  private propose(words: readonly string[]): void {
    const id = int(words[0], 'id');
    const text = words.slice(1).join(' ');
    this.get(id).peer.propose([entry({ term: 0, index: 0, key: ++this.proposalKey, cmd: new TextEncoder().encode(text) })]);
    this.noteState(id);
  }

  private proposeConf(a: Args): void {
    const id = int(a.pos[0], 'id');
    const kind = CONF_KINDS[a.pos[1] ?? ''];
    if (kind === undefined) throw new Error(`unknown config change ${String(a.pos[1])}`);
    const target = int(a.pos[2], 'replica');
    const cc: ConfigChange = {
      configChangeId: int(a.opts.get('version') ?? '0', 'version'), type: kind, replicaId: target,
      address: `addr-${target}`, initialize: false,
    };
    this.get(id).peer.proposeConfigChange(cc, ++this.proposalKey);
    this.noteState(id);
  }

  private proposeJoint(a: Args): void {
    const id = int(a.pos[0], 'id');
    const autoLeave = a.pos[1] === 'autoleave';
    const letters: Readonly<Record<string, ConfigChangeType>> = { v: ConfigChangeType.AddVoter, l: ConfigChangeType.AddNonVoting, r: ConfigChangeType.RemoveReplica };
    const ops = a.pos.slice(autoLeave ? 2 : 1).map((o) => {
      const type = letters[o[0] ?? ''];
      if (type === undefined) throw new Error(`bad joint op ${o}`);
      const replicaId = int(o.slice(1), 'replica');
      return { type, replicaId, address: type === ConfigChangeType.RemoveReplica ? '' : `addr-${replicaId}` };
    });
    this.get(id).peer.proposeConfigChange({ configChangeId: 0, type: ConfigChangeType.EnterJoint, replicaId: 0, address: '', initialize: false, ops, autoLeave }, ++this.proposalKey);
    this.noteState(id);
  }

  private proposeLeave(a: Args): void {
    const id = int(a.pos[0], 'id');
    this.get(id).peer.proposeConfigChange({ configChangeId: 0, type: ConfigChangeType.LeaveJoint, replicaId: 0, address: '', initialize: false }, ++this.proposalKey);
    this.noteState(id);
  }

  private readIndex(a: Args): void {
    const id = int(a.pos[0], 'id');
    const label = a.pos[1];
    if (label === undefined) throw new Error('read-index needs a label');
    let low = this.ctxIds.get(label);
    if (low === undefined) {
      low = this.ctxIds.size + 1;
      this.ctxIds.set(label, low);
      this.ctxNames.set(low, label);
    }
    this.get(id).peer.readIndex({ low, high: 0 });
    this.noteState(id);
  }

  private tick(a: Args): void {
    const who = a.pos[0];
    const n = int(a.pos[1], 'ticks');
    this.quiet = a.pos.includes('quiet');
    for (let i = 1; i <= n; i++) {
      const before = this.out.length;
      for (const [id, r] of this.sorted()) {
        if (this.down.has(id) || (who !== 'all' && String(id) !== who)) continue;
        r.peer.tick();
        this.noteState(id);
      }
      this.stabilize();
      if (this.out.length > before && n > 1) this.out.splice(before, 0, `[tick ${i}]`);
    }
  }

  private partition(spec: string): void {
    const groups = spec.split('/').map((g) => ids(g.trim()));
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const x of groups[i] ?? []) for (const y of groups[j] ?? []) this.cutLink(x, y);
      }
    }
  }

  private cutLink(x: number, y: number): void {
    this.cut.add(`${x}->${y}`);
    this.cut.add(`${y}->${x}`);
  }

  private release(id: number): void {
    this.delayed.delete(id);
    const msgs = this.held.filter((m) => m.to === id);
    this.held = this.held.filter((m) => m.to !== id);
    for (const m of msgs) this.deliver(m);
    this.stabilize();
  }

  private restart(id: number): void {
    this.down.delete(id);
    const r = this.get(id);
    r.restart();
    this.members.set(id, r.membership);
    const st = r.peer.status();
    this.emit(`${id}: restarted term=${st.term} vote=${st.vote} commit=${st.commit} applied=${st.applied} last=${st.lastIndex}`);
    this.shown.delete(id);
    this.remember(id);
  }

  private forceSnapshot(id: number): void {
    const r = this.get(id);
    const before = r.storage.snapshot().index;
    r.maybeSnapshot(true);
    this.noteSnapshot(id, before);
  }

  private status(a: Args): void {
    const which = a.pos.length > 0 ? [this.idOf(a)] : [...this.replicas.keys()].sort((x, y) => x - y);
    for (const id of which) {
      const r = this.get(id);
      const st = r.peer.status();
      const ss = r.storage.snapshot();
      let line = `${id}: ${st.role} term=${st.term} vote=${st.vote} leader=${st.leaderId} commit=${st.commit} applied=${st.applied} log=${st.firstIndex}..${st.lastIndex}`;
      if (ss.index > 0) line += ` snapshot=${ss.term}/${ss.index}`;
      if (st.quiesced) line += ' quiesced';
      if (st.leaderTransferTarget !== 0) line += ` transferring-to=${st.leaderTransferTarget}`;
      if (this.down.has(id)) line += ' DOWN';
      this.emit(line);
      for (const [pid, pr] of [...st.progress].sort((x, y) => x[0] - y[0])) {
        if (pid === id) continue;
        this.emit(`  ${pid}: match=${pr.match} next=${pr.next} ${PROGRESS_STATE_NAMES[pr.state] ?? pr.state}`);
      }
    }
  }

  private log(id: number): void {
    const r = this.get(id);
    const ss = r.storage.snapshot();
    if (ss.index > 0) this.emit(`snapshot ${ss.term}/${ss.index} membership=${formatMembership(ss.membership)}`);
    const first = r.storage.firstIndex();
    const last = r.storage.lastIndex();
    if (last >= first) for (const e of r.storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER)) this.emit(formatEntry(e));
  }

  private raftState(): void {
    for (const [id, r] of this.sorted()) {
      const st = r.peer.status();
      this.emit(`${id}: ${st.role} term=${st.term} leader=${st.leaderId} commit=${st.commit} applied=${st.applied} last=${st.lastIndex}${this.down.has(id) ? ' DOWN' : ''}`);
    }
  }

  /** Groups replicas by applied index and checks that each group's state machines agree. */
  private checkApplied(): void {
    const groups = new Map<number, SimReplica[]>();
    for (const [, r] of this.sorted()) {
      const g = groups.get(r.appliedIndex) ?? [];
      g.push(r);
      groups.set(r.appliedIndex, g);
    }
    for (const [index, rs] of [...groups].sort((x, y) => y[0] - x[0])) {
      const digests = new Set(rs.map((r) => r.digest));
      const names = rs.map((r) => r.id).join(',');
      this.emit(digests.size === 1
        ? `applied ${index}: ${names} agree`
        : `applied ${index}: STATE MACHINES DIFFER ${rs.map((r) => `${r.id}=${r.digest.toString(16)}`).join(' ')}`);
    }
  }

  // ---- the network ---------------------------------------------------------------------------

  /** Runs rounds until no replica has work and no message is in flight. */
  private stabilize(): void {
    for (let i = 0; i < MAX_ROUNDS; i++) if (!this.round()) return;
    this.emit(`(did not stabilise within ${MAX_ROUNDS} rounds)`);
  }

  /** One round: every live replica carries out its updates; then their messages are delivered. */
  private round(): boolean {
    const outbox: Message[] = [];
    let worked = false;
    for (const [id] of this.sorted()) {
      if (this.down.has(id)) continue;
      if (this.processReplica(id, outbox)) worked = true;
    }
    for (const m of outbox) this.deliver(m);
    return worked || outbox.length > 0;
  }

  /** Carries out the pending updates of one replica; their messages go to `outbox`. */
  private processReplica(id: number, outbox: Message[]): boolean {
    const r = this.get(id);
    let n = 0;
    while (r.peer.hasUpdate()) {
      if (++n > 64) throw new Error(`replica ${id} keeps producing updates`);
      const snapBefore = r.storage.snapshot().index;
      this.appliedBuf = [];
      this.events = [];
      r.handle(r.peer.getUpdate(), (m) => outbox.push(m));
      this.flushApplied(id);
      for (const e of this.events) this.emit(e);
      this.events = [];
      // One line for the membership an update ends with (a restart replays many changes).
      if (this.membershipChanged) this.emit(`${id}: membership ${formatMembership(r.membership)}`);
      this.membershipChanged = false;
      this.noteSnapshot(id, snapBefore);
      this.noteState(id);
    }
    return n > 0;
  }

  private deliver(m: Message): void {
    const text = formatMessage(m, (low, high) => this.ctxName(low, high));
    const target = this.replicas.get(m.to);
    let failure = '';
    if (target === undefined) failure = 'no such replica';
    else if (this.down.has(m.to)) failure = `${m.to} is down`;
    else if (this.down.has(m.from)) failure = `${m.from} is down`;
    else if (this.cut.has(`${m.from}->${m.to}`)) failure = 'link cut';
    if (failure !== '') {
      this.emitMsg(`${text} (dropped: ${failure})`);
      this.reportSnapshot(m, true);
      return;
    }
    if (this.delayed.has(m.to)) {
      this.emitMsg(`${text} (held)`);
      this.held.push(m);
      return;
    }
    this.emitMsg(text);
    target?.peer.step(m);
    this.noteState(m.to);
    this.reportSnapshot(m, false);
  }

  /** As a host's transport would: tells the sender whether a snapshot got through. */
  private reportSnapshot(m: Message, failed: boolean): void {
    if (m.type !== MessageType.InstallSnapshot || this.down.has(m.from)) return;
    this.emit(`${m.from}: snapshot to ${m.to} ${failed ? 'failed' : 'delivered'}`);
    this.get(m.from).peer.reportSnapshotStatus(m.to, failed);
    this.noteState(m.from);
  }

  // ---- replica events ------------------------------------------------------------------------

  private onApplied(r: SimReplica, e: Entry): void {
    this.appliedBuf.push(e);
    if (e.type !== EntryType.ConfigChange) return;
    const prev = this.members.get(r.id);
    if (prev !== undefined && r.membership !== prev) {
      this.membershipChanged = true;
    } else if (prev !== undefined) {
      const cc = decodeConfigChange(e.cmd);
      if (!cc.initialize) {
        this.flushApplied(r.id);
        this.events.push(`${r.id}: conf change ${e.index} rejected: ${validateConfigChange(prev, cc, this.ordered) ?? 'no change'}`);
      }
    }
    this.members.set(r.id, r.membership);
  }

  private flushApplied(id: number): void {
    if (this.appliedBuf.length > 0) this.events.push(`${id}: applied ${formatEntries(this.appliedBuf).replace(/^\[(.*)\]/, '$1')}`);
    this.appliedBuf = [];
  }

  private onRead(r: SimReplica, rr: ReadyToRead): void {
    this.flushApplied(r.id);
    this.events.push(`${r.id}: read ${this.ctxName(rr.ctx.low, rr.ctx.high)} ready at index ${rr.index}`);
  }

  private onDropped(r: SimReplica, ents: readonly Entry[], reads: readonly ReadContext[]): void {
    this.flushApplied(r.id);
    for (const e of ents) this.events.push(`${r.id}: dropped proposal ${formatPayload(e)}`);
    for (const c of reads) this.events.push(`${r.id}: dropped read ${this.ctxName(c.low, c.high)}`);
  }

  private onRestored(r: SimReplica, ss: SnapshotMeta): void {
    this.events.push(`${r.id}: restored snapshot ${ss.term}/${ss.index}${ss.witness ? ' (witness)' : ''} membership=${formatMembership(ss.membership)}`);
    this.members.set(r.id, r.membership);
    this.restored.add(r.id);
  }

  private noteSnapshot(id: number, before: number): void {
    const r = this.get(id);
    const ss = r.storage.snapshot();
    if (this.restored.delete(id) || ss.index <= before) return;
    this.emit(`${id}: snapshot at ${ss.term}/${ss.index}, log compacted through ${r.storage.firstIndex() - 1}`);
  }

  /** Prints the replica's role, leader and term when any of them changed. */
  private noteState(id: number): void {
    const r = this.replicas.get(id);
    if (r === undefined) return;
    const prev = this.shown.get(id);
    const now = this.remember(id);
    if (prev !== undefined && prev.role === now.role && prev.leader === now.leader && prev.term === now.term) return;
    const name = RoleName[now.role as Role];
    const leader = now.role === Role.Leader || now.role === Role.PreCandidate || now.role === Role.Candidate
      ? '' : now.leader === 0 ? ', no leader' : `, leader ${now.leader}`;
    this.emit(`${id}: ${name} at term ${now.term}${leader}`);
  }

  private remember(id: number): ShownState {
    const p = this.get(id).peer;
    const s = { role: p.role, leader: p.leaderId, term: p.term };
    this.shown.set(id, s);
    return s;
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private emit(line: string): void { this.out.push(line); }

  private emitMsg(line: string): void { if (!this.quiet) this.out.push(line); }

  private ctxName(low: number, high: number): string {
    return high === 0 ? (this.ctxNames.get(low) ?? `${low}`) : `${low}:${high}`;
  }

  private get(id: number): SimReplica {
    const r = this.replicas.get(id);
    if (r === undefined) throw new Error(`no replica ${id}`);
    return r;
  }

  private idOf(a: Args): number { return int(a.pos[0], 'replica id'); }

  private withReplica(a: Args, fn: (r: SimReplica) => void): void {
    const id = this.idOf(a);
    fn(this.get(id));
    this.noteState(id);
  }

  private sorted(): Array<[number, SimReplica]> {
    return [...this.replicas].sort((x, y) => x[0] - y[0]);
  }
}
