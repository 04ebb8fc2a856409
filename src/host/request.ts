/**
 * A pending request: a Promise the caller awaits, settled once by the engine, or rejected by
 * its timeout or AbortSignal. Aborting stops the wait, never the work already handed to Raft.
 */
import { TimeoutError } from '../errors.js';
import type { Deadlines, Expirable } from './deadlines.js';

/** Options every NodeHost operation takes. */
export interface RequestOptions {
  /** Aborts the wait (the operation may still take effect). */
  readonly signal?: AbortSignal;
  /** Gives up waiting after this many milliseconds. Default: the host's (5,000 ms). */
  readonly timeoutMs?: number;
}

/** Default time a request may wait. */
export const DEFAULT_TIMEOUT_MS = 5000;

/**
 * The resolving functions of the promise being made, handed out by {@link capture}. One
 * executor for every request: a closure per request (and its context) would be two more
 * objects per proposal for the collector (issue 19). The executor runs synchronously inside
 * `new Promise`, so the two slots are read back before anything else can run.
 */
let capturedRes: ((v: never) => void) | undefined;
let capturedRej: ((e: unknown) => void) | undefined;
function capture(res: (v: never) => void, rej: (e: unknown) => void): void {
  capturedRes = res;
  capturedRej = rej;
}

/** A request waiting for the engine. */
export class Pending<T> implements Expirable {
  readonly promise: Promise<T>;
  private readonly res: (v: T) => void;
  private readonly rej: (e: unknown) => void;
  private readonly tick: number;
  private readonly ms: number;
  private readonly onAbort: (() => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  done = false;
  /** The deadlines' links (see `Expirable`). */
  deadlinePrev: Expirable | null = null;
  deadlineNext: Expirable | null = null;

  /**
   * @param deadlines the host's request deadlines (one timer for all its requests).
   * @param opts the caller's timeout and signal.
   * @param cleanup called once when the request settles in any way (remove it from maps).
   * @param expired the error for a request whose deadline passed, when more is known than
   *   "timed out" (undefined: a TimeoutError).
   */
  constructor(private readonly deadlines: Deadlines, opts: RequestOptions | undefined, private readonly cleanup?: () => void,
    private readonly expired?: (ms: number) => Error | undefined) {
    // A subclass may override `settled` and `expiredError` instead of passing closures: the
    // host's proposals do (`proposal-waiter.ts`), saving two closures per proposal.
    this.promise = new Promise<T>(capture);
    this.res = capturedRes as (v: T) => void;
    this.rej = capturedRej as (e: unknown) => void;
    capturedRes = capturedRej = undefined;
    this.ms = opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.tick = deadlines.add(this, this.ms);
    this.signal = opts?.signal;
    if (this.signal !== undefined) {
      this.onAbort = () => this.reject(new TimeoutError('request aborted', { cause: this.signal?.reason }));
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** The deadline passed (called by the shared timer). */
  expire(): void {
    this.reject(this.expiredError(this.ms) ?? new TimeoutError(`request timed out after ${this.ms} ms`));
  }

  /** The error for a request whose deadline (`ms`) passed; undefined: a TimeoutError. */
  protected expiredError(ms: number): Error | undefined {
    return this.expired?.(ms);
  }

  /** Called once when the request settles in any way (remove it from maps). */
  protected settled(): void {
    this.cleanup?.();
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.deadlines.remove(this, this.tick);
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
    this.settled();
    return true;
  }

  resolve(v: T): void {
    if (this.finish()) this.res(v);
  }

  reject(e: unknown): void {
    if (this.finish()) this.rej(e);
  }
}

/**
 * Throws the abort reason (as a TimeoutError) when `signal` has already fired.
 * @throws TimeoutError
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TimeoutError('request aborted', { cause: signal.reason });
}
