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

/** Calls `update` and checks that it returned one result per entry. */
export async function updateBatch(sm: AnyStateMachine, entries: readonly SMEntry[]): Promise<readonly SMResult[]> {
  const results = await sm.sm.update(entries);
  if (!Array.isArray(results) || results.length !== entries.length) {
    throw new StateMachineError(`update returned ${Array.isArray(results) ? results.length : typeof results} results for ${entries.length} entries`);
  }
  return results;
}

/** Answers a read through the state machine. */
export async function lookup(sm: AnyStateMachine, query: unknown): Promise<unknown> {
  return await sm.sm.lookup(query);
}
