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
   * Applies `entries` (in order; those at or below `lastApplied` are skipped) and returns one
   * outcome per applied entry that a proposer may wait for.
   * @throws StateMachineError (or the user's error) when the state machine fails.
   */
  async apply(entries: readonly Entry[]): Promise<ApplyOutcome[]> {
    const out: ApplyOutcome[] = [];
    let batch: Array<{ e: Entry; session?: Session }> = [];
    const inBatch = new Set<number>();
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const smEntries: SMEntry[] = batch.map((b) => ({ index: b.e.index, cmd: b.e.cmd }));
      const results = await updateBatch(this.sm, smEntries, this.pacer);
      batch.forEach((b, i) => {
        const result = results[i] ?? EMPTY_RESULT;
        if (b.session) this.sessions.record(b.session, b.e.seriesId, result);
        out.push({ index: b.e.index, key: b.e.key, result, rejected: false });
      });
      this.lastApplied = (batch[batch.length - 1] as { e: Entry }).e.index;
      batch = [];
      inBatch.clear();
    };
    for (const e of entries) {
      if (e.index <= this.lastApplied) continue;
      if (e.type === EntryType.Application && e.clientId !== NO_SESSION && inBatch.has(e.clientId)) await flush();
      const immediate = this.applyOne(e, (session) => {
        batch.push({ e, session });
        if (e.clientId !== NO_SESSION) inBatch.add(e.clientId);
      });
      if (immediate !== null) {
        await flush();
        // Everything below the marker is applied and nothing after it: the hash is of exactly this index.
        if (isHashMarker(e)) out.push({ ...immediate, hash: e.index <= this.onDiskIndex ? null : await stateHash(this.sm) });
        else out.push(immediate);
        this.lastApplied = e.index;
      }
    }
    await flush();
    return out;
  }

  /**
   * Decides one entry: either an outcome now (no user update needed) or a call to `enqueue`
   * to batch it for the user's state machine (returning null).
   */
  private applyOne(e: Entry, enqueue: (session?: Session) => void): ApplyOutcome | null {
    const done = (result: SMResult, rejected = false, reason?: string): ApplyOutcome => ({ index: e.index, key: e.key, result, rejected, reason });
    if (e.type === EntryType.ConfigChange) {
      const cc = decodeConfigChange(e.cmd);
      const why = validateConfigChange(this.membership, cc, this.orderedConfigChange);
      if (why !== null) return done(EMPTY_RESULT, true, why);
      this.membership = applyConfigChange(this.membership, cc, e.index);
      return { ...done(EMPTY_RESULT), configChange: cc };
    }
    if (e.type === EntryType.Metadata) return done(EMPTY_RESULT);
    if (e.clientId === NO_SESSION) {
      // The leader's no-op of each term carries no key and no payload.
      if (e.key === 0 && e.cmd.length === 0) return done(EMPTY_RESULT);
      if (e.index <= this.onDiskIndex) return done(EMPTY_RESULT);
      enqueue();
      return null;
    }
    if (e.seriesId === SeriesId.Register) return done(this.sessions.register(e.clientId));
    if (e.seriesId === SeriesId.Unregister) return done(this.sessions.unregister(e.clientId));
    const v = this.sessions.check(e.clientId, e.seriesId, e.respondedTo);
    switch (v.kind) {
      case 'unknown-session': return done(EMPTY_RESULT, true, `session ${e.clientId} is not registered`);
      case 'responded': return done(EMPTY_RESULT);
      case 'duplicate': return done(v.result);
      default:
        enqueue(v.session);
        return null;
    }
  }
}
