/**
 * A linearizability checker for the KV service's histories: the Wing–Gong algorithm with
 * Lowe's memoisation (as porcupine and Knossos' "linear" checker do), for a register model per
 * key with put, get, delete and compare-and-set.
 *
 * The history is partitioned per key (a KV map is linearizable iff every key is: each
 * operation touches one key). For one key, the search walks a doubly-linked list of call and
 * return events in time order; at a call it tries to linearize that operation next (the model
 * must accept it), at a return it backtracks (that operation had to be linearized by now).
 * Pairs (set of linearized operations, model state) already explored are remembered (a
 * Zobrist hash of the set, confirmed by comparing the bit sets) and not explored again.
 *
 * Outcomes: an operation that failed for certain (`fail`) never happened and is dropped; one
 * whose outcome is unknown (`info`: an HTTP 504 TIMEOUT, a connection reset after the request
 * was sent, a client-side timeout) may take effect at any time after its call, or never — it
 * has no return event and need not be linearized. An `info` read is dropped (it changes
 * nothing). The search is bounded by a step budget; past it the verdict is `unknown`.
 */

import { Rng } from './rng.js';

/** The operations of the KV model. */
export type OpKind = 'put' | 'get' | 'delete' | 'cas';

/** How an operation ended: `ok` (result known), `fail` (certainly not applied), `info` (unknown). */
export type OpStatus = 'ok' | 'fail' | 'info';

/** One operation of a client history, with its call and return times (any monotonic unit). */
export interface KvOp {
  /** Unique id in the history. */
  readonly id: number;
  /** The client (process) that issued it. */
  readonly client: number;
  readonly key: string;
  readonly f: OpKind;
  /** The value written by put and cas. */
  readonly value?: string;
  /** cas: the value expected (null: the key must be absent). */
  readonly expected?: string | null;
  /** When the call was made. */
  readonly call: number;
  /** When the answer arrived; absent (or null) for `info`. */
  readonly ret?: number | null;
  readonly status: OpStatus;
  /** get with status ok: the value read (null: absent, a 404). */
  readonly read?: string | null;
  /** cas with status ok: whether it swapped. */
  readonly ok?: boolean;
  /** cas with status ok and ok false: the current value the replica reported, when given. */
  readonly current?: string | null;
}

/** The verdict of a check. */
export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

/** The verdict for one key, with what the search saw where it failed. */
export interface KeyResult {
  readonly key: string;
  readonly verdict: Verdict;
  /** Operations considered (after dropping failed and unknown reads). */
  readonly ops: number;
  /** Search steps taken. */
  readonly steps: number;
  /** For not-linearizable: the longest linearization found, as operation ids in order. */
  readonly longest?: readonly number[];
  /** For not-linearizable: the completed operations that could not be linearized after {@link longest}. */
  readonly stuckAt?: readonly number[];
  /** For not-linearizable: the model state after {@link longest}. */
  readonly stateAtStuck?: string | null;
}

/** The verdict over all keys. */
export interface CheckResult {
  /** not-linearizable if any key is; else unknown if any key is; else linearizable. */
  readonly verdict: Verdict;
  readonly keys: readonly KeyResult[];
  /** Search steps over all keys. */
  readonly steps: number;
}

/** Options of {@link checkHistory}. */
export interface CheckOptions {
  /** Search steps allowed per key before giving up with `unknown` (default 5,000,000). */
  readonly stepBudget?: number;
  /** State of every key before the history (default null: absent). */
  readonly initial?: string | null;
  /**
   * Drop unknown-outcome writes whose value nobody ever observed (default true). Sound when
   * written values are unique: such a write, if it took effect, was overwritten before any
   * operation looked, so a linearization with it gives one without it, and the converse holds
   * because an `info` operation need not be linearized.
   */
  readonly pruneUnobserved?: boolean;
}

type State = string | null;

/**
 * The register model: whether `op` may take effect in `state`, and the state after it.
 * Returns undefined when the model refuses (the result contradicts the state).
 */
export function stepModel(state: State, op: KvOp): { next: State } | undefined {
  switch (op.f) {
    case 'put':
      return { next: op.value ?? '' };
    case 'delete':
      return { next: null };
    case 'get':
      if (op.status !== 'ok') return { next: state };
      return state === (op.read ?? null) ? { next: state } : undefined;
    case 'cas': {
      const expected = op.expected ?? null;
      const matches = state === expected;
      if (op.status !== 'ok') return { next: matches ? (op.value ?? '') : state };
      if (op.ok === true) return matches ? { next: op.value ?? '' } : undefined;
      if (matches) return undefined;
      if (op.current !== undefined && op.current !== state) return undefined;
      return { next: state };
    }
  }
}

/** Whether `op` writes (or may write) the key. */
function writes(op: KvOp): boolean {
  return op.f === 'put' || op.f === 'delete' || op.f === 'cas';
}

/**
 * The operations of one key that the search must consider: failed ones and unknown reads
 * dropped; unknown writes of never-observed values dropped when `prune` is set.
 */
export function relevantOps(ops: readonly KvOp[], prune: boolean): KvOp[] {
  const kept = ops.filter((o) => o.status !== 'fail' && !(o.status === 'info' && o.f === 'get'));
  if (!prune) return kept;
  const observed = new Set<string>();
  for (const o of kept) {
    if (o.status !== 'ok') continue;
    if (o.f === 'get' && typeof o.read === 'string') observed.add(o.read);
    if (o.f === 'cas') {
      if (typeof o.expected === 'string') observed.add(o.expected);
      if (typeof o.current === 'string') observed.add(o.current);
    }
  }
  // An unknown cas observes its expected value if it applies: keep the writes it could see.
  for (const o of kept) if (o.f === 'cas' && o.status === 'info' && typeof o.expected === 'string') observed.add(o.expected);
  return kept.filter((o) => !(o.status === 'info' && writes(o) && o.f !== 'delete' && !observed.has(o.value ?? '')));
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks the operations of one key (all with the same key).
 * @param ops the key's operations, in any order
 */
export function checkKey(key: string, ops: readonly KvOp[], options: CheckOptions = {}): KeyResult {
  const budget = options.stepBudget ?? 5_000_000;
  const list = relevantOps(ops, options.pruneUnobserved ?? true);
  const n = list.length;
  // Entries: 0 = head, 1..E = events, E+1 = tail. A call entry knows its op and return entry.
  interface Ev { readonly op: number; readonly call: boolean; readonly t: number }
  const evs: Ev[] = [];
  for (let i = 0; i < n; i++) {
    const o = list[i] as KvOp;
    evs.push({ op: i, call: true, t: o.call });
    if (o.status === 'ok') evs.push({ op: i, call: false, t: o.ret ?? Number.POSITIVE_INFINITY });
  }
  // Time order; at equal times calls first (treat touching operations as concurrent).
  evs.sort((a, b) => (a.t - b.t) || (a.call === b.call ? 0 : a.call ? -1 : 1));
  const E = evs.length;
  const tail = E + 1;
  const next = new Int32Array(E + 2);
  const prev = new Int32Array(E + 2);
  const match = new Int32Array(E + 2).fill(-1);
  const callEntryOf = new Int32Array(n).fill(-1);
  for (let i = 0; i <= E; i++) next[i] = i + 1;
  for (let i = 1; i <= E + 1; i++) prev[i] = i - 1;
  for (let i = 0; i < E; i++) {
    const ev = evs[i] as Ev;
    if (ev.call) callEntryOf[ev.op] = i + 1;
  }
  for (let i = 0; i < E; i++) {
    const ev = evs[i] as Ev;
    if (!ev.call) match[callEntryOf[ev.op] as number] = i + 1;
  }
  const lift = (e: number): void => {
    next[prev[e] as number] = next[e] as number;
    prev[next[e] as number] = prev[e] as number;
    const r = match[e] as number;
    if (r >= 0) {
      next[prev[r] as number] = next[r] as number;
      prev[next[r] as number] = prev[r] as number;
    }
  };
  const unlift = (e: number): void => {
    const r = match[e] as number;
    if (r >= 0) {
      prev[next[r] as number] = r;
      next[prev[r] as number] = r;
    }
    prev[next[e] as number] = e;
    next[prev[e] as number] = e;
  };

  const rnd = new Rng(0x5eed ^ n);
  const z1 = Uint32Array.from({ length: n }, () => rnd.u32());
  const z2 = Uint32Array.from({ length: n }, () => rnd.u32());
  const bits = new Uint32Array(Math.ceil(n / 32));
  let h1 = 0;
  let h2 = 0;
  const flip = (i: number): void => {
    bits[i >>> 5] = (bits[i >>> 5] as number) ^ (1 << (i & 31));
    h1 = (h1 ^ (z1[i] as number)) >>> 0;
    h2 = (h2 ^ (z2[i] as number)) >>> 0;
  };
  const seen = new Map<string, Uint32Array[]>();
  /** Records (bits, state); false if it was already there. */
  const remember = (state: State): boolean => {
    const k = `${h1}:${h2}:${state === null ? '\u0000' : `=${state}`}`;
    const bucket = seen.get(k);
    if (bucket === undefined) {
      seen.set(k, [bits.slice()]);
      return true;
    }
    for (const b of bucket) if (sameBits(b, bits)) return false;
    bucket.push(bits.slice());
    return true;
  };

  let remainingOk = list.filter((o) => o.status === 'ok').length;
  const stack: Array<{ entry: number; state: State }> = [];
  let state: State = options.initial ?? null;
  let steps = 0;
  let longest: number[] = [];
  let stuckAt: number[] = [];
  let stateAtStuck: State = state;
  let entry = next[0] as number;
  while (remainingOk > 0) {
    if (++steps > budget) return { key, verdict: 'unknown', ops: n, steps };
    if (entry === tail) throw new Error('linearizability: reached the end with completed operations left (bug)');
    const ev = evs[entry - 1] as Ev;
    if (ev.call) {
      const op = list[ev.op] as KvOp;
      const r = stepModel(state, op);
      if (r !== undefined) flip(ev.op);
      if (r !== undefined && remember(r.next)) {
        stack.push({ entry, state });
        state = r.next;
        lift(entry);
        if (op.status === 'ok') remainingOk--;
        entry = next[0] as number;
        continue;
      }
      if (r !== undefined) flip(ev.op);
      entry = next[entry] as number;
      continue;
    }
    // A return: that operation had to be linearized by now. Note the deepest dead end.
    if (stack.length > longest.length || stuckAt.length === 0) {
      longest = stack.map((s) => (list[(evs[s.entry - 1] as Ev).op] as KvOp).id);
      stateAtStuck = state;
      stuckAt = [(list[ev.op] as KvOp).id];
    }
    const top = stack.pop();
    if (top === undefined) return { key, verdict: 'not-linearizable', ops: n, steps, longest, stuckAt, stateAtStuck };
    const opIndex = (evs[top.entry - 1] as Ev).op;
    state = top.state;
    flip(opIndex);
    unlift(top.entry);
    if ((list[opIndex] as KvOp).status === 'ok') remainingOk++;
    entry = next[top.entry] as number;
  }
  return { key, verdict: 'linearizable', ops: n, steps };
}

/** Checks a whole history, key by key. */
export function checkHistory(ops: readonly KvOp[], options: CheckOptions = {}): CheckResult {
  const byKey = new Map<string, KvOp[]>();
  for (const o of ops) {
    let l = byKey.get(o.key);
    if (l === undefined) byKey.set(o.key, (l = []));
    l.push(o);
  }
  const keys = [...byKey.keys()].sort().map((k) => checkKey(k, byKey.get(k) as KvOp[], options));
  const verdict: Verdict = keys.some((k) => k.verdict === 'not-linearizable') ? 'not-linearizable'
    : keys.some((k) => k.verdict === 'unknown') ? 'unknown' : 'linearizable';
  return { verdict, keys, steps: keys.reduce((s, k) => s + k.steps, 0) };
}

/**
 * Lost writes, checked directly (independent of the search): for each key, the final value
 * `finals.get(key)` (null: absent) must be the value of some write that may have been last —
 * one that no acknowledged write began after — or the initial state if no acknowledged write
 * exists. Returns one line per violation.
 */
export function lostWrites(ops: readonly KvOp[], finals: ReadonlyMap<string, string | null>, initial: string | null = null): string[] {
  const out: string[] = [];
  for (const [key, final] of finals) {
    const ws = ops.filter((o) => o.key === key && o.status !== 'fail' && writes(o) && !(o.f === 'cas' && o.status === 'ok' && o.ok !== true));
    const acked = ws.filter((o) => o.status === 'ok');
    const lastAckCall = acked.reduce((m, o) => Math.max(m, o.call), Number.NEGATIVE_INFINITY);
    const written = (o: KvOp): string | null => (o.f === 'delete' ? null : (o.value ?? ''));
    const canBeLast = (o: KvOp): boolean => o.status === 'info' || (o.ret ?? Number.POSITIVE_INFINITY) >= lastAckCall;
    const ok = ws.some((o) => written(o) === final && canBeLast(o)) || (acked.length === 0 && final === initial);
    if (!ok) {
      const latest = acked.filter((o) => !acked.some((p) => p.call > (o.ret ?? Number.POSITIVE_INFINITY)));
      out.push(`key ${key}: final value ${JSON.stringify(final)} is not the value of any write that could be last; ` +
        `acknowledged writes that could be last: ${latest.map((o) => `#${o.id} ${o.f} ${JSON.stringify(written(o))}`).join(', ')}`);
    }
  }
  return out;
}
