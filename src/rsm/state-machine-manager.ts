/**
 * The replicated state machine of one replica: applies committed entries in log order to the
 * user's state machine, keeping client sessions (exactly-once) and the shard's membership,
 * which every replica derives identically from the same entries.
 */
import { validateConfigChange, applyConfigChange } from '../core/membership.js';
import { decodeConfigChange } from '../encoding/config-change.js';
import {
  EntryType, NO_SESSION, SeriesId, emptyMembership,
  type ConfigChange, type Entry, type Membership,
} from '../core/types.js';
import type { AnyStateMachine, SMEntry, SMResult } from '../contracts/state-machine.js';
import { SessionManager, type Session } from './sessions.js';
import { updateBatch, type ApplyPacer } from './managed.js';
import { isHashMarker, stateHash } from './state-hash.js';

/** What applying one entry produced, for the proposer waiting on its key. */
export interface ApplyOutcome {
  readonly index: number;
  readonly key: number;
  /** The state machine's (or the session's remembered) result. */
  readonly result: SMResult;
  /** The entry was refused: unknown session, or an invalid membership change. */
  readonly rejected: boolean;
  /** Why it was refused, when it was. */
  readonly reason?: string;
  /** A membership change that was applied. */
  readonly configChange?: ConfigChange;
  /** A hash marker (`state-hash.ts`) was applied here: the state machine's hash at its index, or null without `getHash`. */
  readonly hash?: bigint | null;
}

const EMPTY_RESULT: SMResult = Object.freeze({ value: 0 });

/** Where {@link StateMachineManager.apply} reports the entries it applies, in log order, as it goes. */
export interface ApplySink {
  /** The entry of proposal `key` went through the user's state machine, which answered `result`. */
  applied(key: number, result: SMResult): void;
  /** Any other outcome: decided without the state machine, refused, a membership change, a hash marker. */
  outcome(o: ApplyOutcome): void;
}

/** Applies entries for one replica. Not re-entrant: one `apply` at a time. */
export class StateMachineManager {
  lastApplied = 0;
  /**
   * For on-disk state machines: the index their own state already holds (from `open`).
   * Entries up to it are replayed for membership and sessions only, not given to `update`.
   */
  onDiskIndex = 0;
  membership: Membership = emptyMembership();
  readonly sessions: SessionManager;

  /**
   * @param pacer paces the calls to `update` (the host's apply budget); none: every call at once.
   */
  constructor(readonly sm: AnyStateMachine, private readonly orderedConfigChange: boolean, maxSessions?: number, private readonly pacer?: ApplyPacer) {
    this.sessions = new SessionManager(maxSessions);
  }

  /**
   * Applies `entries` (in order; those at or below `lastApplied` are skipped) and tells `sink`
   * each one's outcome as soon as it is known, in log order: the results of one call to the
   * user's `update` right after it returns (no object per entry for those).
   * @throws StateMachineError (or the user's error) when the state machine fails.
   */
  async apply(entries: readonly Entry[], sink: ApplySink): Promise<void> {
    // The run of entries for the user's state machine: a range of `entries` (no record, and no
    // copy of the run, per entry). An indexed loop: an iterator would be an object per entry.
    const batch = new UpdateBatch(entries);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as Entry;
      if (e.index <= this.lastApplied) continue;
      if (e.type === EntryType.Application && e.clientId !== NO_SESSION && batch.hasClient(e.clientId)) await this.flush(batch, sink);
      const immediate = this.applyOne(e);
      if (immediate === null) {
        // A run is contiguous (entries skipped above only ever precede it); flushed if not.
        if (!batch.extends(i)) await this.flush(batch, sink);
        batch.add(i, e, this.enqueued);
        this.enqueued = undefined;
        continue;
      }
      await this.flush(batch, sink);
      // Everything below the marker is applied and nothing after it: the hash is of exactly this index.
      const o = isHashMarker(e) ? { ...immediate, hash: e.index <= this.onDiskIndex ? null : await stateHash(this.sm) } : immediate;
      this.lastApplied = e.index;
      sink.outcome(o);
    }
    await this.flush(batch, sink);
  }

  /** Hands the batch to the user's state machine, records its results, tells `sink`, and empties it. */
  private async flush(batch: UpdateBatch, sink: ApplySink): Promise<void> {
    const n = batch.size;
    if (n === 0) return;
    const { src, from, sessions } = batch;
    const results = await updateBatch(this.sm, batch.smEntries(), this.pacer);
    if (sessions !== null) {
      for (let k = 0; k < n; k++) {
        const session = sessions[k];
        if (session !== undefined) this.sessions.record(session, (src[from + k] as Entry).seriesId, results[k] ?? EMPTY_RESULT);
      }
    }
    this.lastApplied = (src[from + n - 1] as Entry).index;
    batch.clear();
    for (let k = 0; k < n; k++) {
      sink.applied((src[from + k] as Entry).key, results[k] ?? EMPTY_RESULT);
    }
  }

  /** The session of the entry {@link applyOne} last sent to the state machine (undefined: none). */
  private enqueued: Session | undefined = undefined;

  /**
   * Decides one entry: either an outcome now (no user update needed) or null: it goes to the
   * user's state machine (with the session in {@link enqueued}, when it has one).
   */
  private applyOne(e: Entry): ApplyOutcome | null {
    if (e.type === EntryType.ConfigChange) {
      const cc = decodeConfigChange(e.cmd);
      const why = validateConfigChange(this.membership, cc, this.orderedConfigChange);
      if (why !== null) return outcome(e, EMPTY_RESULT, true, why);
      this.membership = applyConfigChange(this.membership, cc, e.index);
      return { ...outcome(e, EMPTY_RESULT), configChange: cc };
    }
    if (e.type === EntryType.Metadata) return outcome(e, EMPTY_RESULT);
    if (e.clientId === NO_SESSION) {
      // The leader's no-op of each term carries no key and no payload.
      if (e.key === 0 && e.cmd.length === 0) return outcome(e, EMPTY_RESULT);
      if (e.index <= this.onDiskIndex) return outcome(e, EMPTY_RESULT);
      return null;
    }
    if (e.seriesId === SeriesId.Register) return outcome(e, this.sessions.register(e.clientId));
    if (e.seriesId === SeriesId.Unregister) return outcome(e, this.sessions.unregister(e.clientId));
    const v = this.sessions.check(e.clientId, e.seriesId, e.respondedTo);
    switch (v.kind) {
      case 'unknown-session': return outcome(e, EMPTY_RESULT, true, `session ${e.clientId} is not registered`);
      case 'responded': return outcome(e, EMPTY_RESULT);
      case 'duplicate': return outcome(e, v.result);
      default:
        this.enqueued = v.session;
        return null;
    }
  }
}

/** An entry's outcome that needed no call to the user's state machine. */
function outcome(e: Entry, result: SMResult, rejected = false, reason?: string): ApplyOutcome {
  return { index: e.index, key: e.key, result, rejected, reason };
}

/**
 * Entries waiting for one `update` call: the range `from .. from + size - 1` of the entries
 * being applied, with their sessions (none until an entry has one) and the clients among them.
 */
class UpdateBatch {
  from = 0;
  size = 0;
  /** Sessions of the run's entries by position in the run; null while none has one. */
  sessions: Array<Session | undefined> | null = null;
  /** Clients with an entry in the batch: a second entry of one waits for the first's result. */
  private readonly clients = new Set<number>();

  constructor(readonly src: readonly Entry[]) {}

  hasClient(clientId: number): boolean {
    return this.clients.size > 0 && this.clients.has(clientId);
  }

  /** Whether entry `i` of `src` may join the run (the run is empty or ends just before it). */
  extends(i: number): boolean {
    return this.size === 0 || this.from + this.size === i;
  }

  /** Adds entry `i` of `src` (`e`), which {@link extends} the run. */
  add(i: number, e: Entry, session: Session | undefined): void {
    if (this.size === 0) this.from = i;
    if (session !== undefined) (this.sessions ??= [])[this.size] = session;
    this.size++;
    if (e.clientId !== NO_SESSION) this.clients.add(e.clientId);
  }

  /** What the user's state machine is given: index and command of each entry, in a new array (it may keep it). */
  smEntries(): SMEntry[] {
    const out = new Array<SMEntry>(this.size);
    for (let k = 0; k < this.size; k++) {
      const e = this.src[this.from + k] as Entry;
      out[k] = { index: e.index, cmd: e.cmd };
    }
    return out;
  }

  clear(): void {
    this.size = 0;
    this.sessions = null;
    this.clients.clear();
  }
}
