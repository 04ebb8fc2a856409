/**
 * The two notifications of a request (dragonboat's RequestState: CommittedC, then ResultC):
 * `committed` once its entry is committed and persisted on this host, `applied` with the
 * state machine's result once this host applied it. Built on the `onCommitted` option of
 * `propose` and the membership calls, which takes the same notice as a callback.
 */

/** What a request's `committed` notification carries. */
export interface CommittedNotice {
  /** The log index of the request's entry. */
  readonly index: number;
}

/** A request's two notifications; see the module comment. */
export interface Tracked<T> {
  /**
   * Resolves with the entry's log index once it is committed (before it is applied); rejects
   * with `applied`'s error if the request fails before that (a request that fails after it,
   * say refused by the state machine or a session check, has `committed` resolved and
   * `applied` rejected). Never rejects unobserved: only `applied` needs a handler.
   */
  readonly committed: Promise<CommittedNotice>;
  /** Resolves with the result once applied on this host, as the untracked call does. */
  readonly applied: Promise<T>;
}

/**
 * Runs `start` with an `onCommitted` callback and returns both notifications.
 * Throws (synchronously) what `start` throws synchronously.
 */
export function track<T>(start: (onCommitted: (index: number) => void) => Promise<T>): Tracked<T> {
  let resolve!: (v: { index: number }) => void;
  let reject!: (e: unknown) => void;
  const committed = new Promise<{ index: number }>((res, rej) => { resolve = res; reject = rej; });
  committed.catch(() => {});
  const applied = start((index) => resolve({ index }));
  applied.catch((e: unknown) => reject(e));
  return { committed, applied };
}
