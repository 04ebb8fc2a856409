/**
 * Assertions on sampan's typed errors: callers branch on the class and the stable `code`.
 */
import assert from 'node:assert/strict';
import { DroppedError, SampanError } from '../../../src/errors.js';

/**
 * Asserts that `p` (a promise, or a function that throws or returns one) fails with an
 * instance of `cls` carrying `code`; returns the error for further checks.
 */
export async function rejectsWith<E extends SampanError>(
  p: Promise<unknown> | (() => unknown),
  cls: abstract new (...args: never[]) => E,
  code: string,
): Promise<E> {
  let caught: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `expected ${cls.name} (${code}), but it succeeded`);
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`);
  assert.ok(caught instanceof SampanError);
  assert.equal(caught.code, code);
  return caught;
}

/** Settles `p` into a value-or-error record without throwing. */
export async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Runs `fn`, retrying while it fails with DroppedError: a leader change dropped the request,
 * and the contract says to retry. Only for requests that are safe to repeat.
 */
export async function retryDropped<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof DroppedError) || attempt >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
