/**
 * One face for the three kinds of user state machine, so the apply path and the snapshot
 * path do not branch on the kind everywhere.
 */
import type { AnyStateMachine, SMEntry, SMResult } from '../contracts/state-machine.js';
import { StateMachineError } from '../errors.js';
import { StateMachineType } from '../core/types.js';

/** The kind of a state machine as recorded in snapshots. */
export function smTypeOf(sm: AnyStateMachine): StateMachineType {
  switch (sm.kind) {
    case 'regular': return StateMachineType.Regular;
    case 'concurrent': return StateMachineType.Concurrent;
    default: return StateMachineType.OnDisk;
  }
}

/**
 * Paces calls to `update` so that one replica's slow state machine does not hold the thread
 * every replica of the host shares (the host's `ApplyBudget`).
 */
export interface ApplyPacer {
  /** Undefined when the next `update` may run now, else a promise that resolves when it may. Never rejects. */
  admit(): Promise<void> | undefined;
  /** Charges `ms` of thread time spent in `update`. */
  charge(ms: number): void;
  /** The monotonic clock, in milliseconds. */
  now(): number;
}

/**
 * Calls `update` (after `pacer` admits it, charging it the time its synchronous part held the
 * thread) and checks that it returned one result per entry.
 * @throws StateMachineError when the count of results is wrong; whatever `update` throws.
 */
export async function updateBatch(sm: AnyStateMachine, entries: readonly SMEntry[], pacer?: ApplyPacer): Promise<readonly SMResult[]> {
  let returned: readonly SMResult[] | Promise<readonly SMResult[]>;
  if (pacer === undefined) returned = sm.sm.update(entries);
  else {
    const wait = pacer.admit();
    if (wait !== undefined) await wait;
    const t0 = pacer.now();
    try {
      returned = sm.sm.update(entries);
    } finally {
      pacer.charge(pacer.now() - t0);
    }
  }
  const results = await returned;
  if (!Array.isArray(results) || results.length !== entries.length) {
    throw new StateMachineError(`update returned ${Array.isArray(results) ? results.length : typeof results} results for ${entries.length} entries`);
  }
  return results;
}

/** Answers a read through the state machine. */
export async function lookup(sm: AnyStateMachine, query: unknown): Promise<unknown> {
  return await sm.sm.lookup(query);
}
