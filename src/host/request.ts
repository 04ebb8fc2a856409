/**
 * A pending request: a Promise the caller awaits, settled once by the engine, or rejected by
 * its timeout or AbortSignal. Aborting stops the wait, never the work already handed to Raft.
 */
import { TimeoutError } from '../errors.js';

/** Options every NodeHost operation takes. */
export interface RequestOptions {
  /** Aborts the wait (the operation may still take effect). */
  readonly signal?: AbortSignal;
  /** Gives up waiting after this many milliseconds. Default: the host's (5,000 ms). */
  readonly timeoutMs?: number;
}

/** Default time a request may wait. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** A request waiting for the engine. */
export class Pending<T> {
  readonly promise: Promise<T>;
  private res!: (v: T) => void;
  private rej!: (e: unknown) => void;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort: (() => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  done = false;

  /** @param cleanup called once when the request settles in any way (remove it from maps). */
  constructor(opts: RequestOptions | undefined, private readonly cleanup?: () => void) {
    this.promise = new Promise<T>((res, rej) => { this.res = res; this.rej = rej; });
    const ms = opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Not unref'd: a caller awaiting a request keeps the process alive until it settles.
    this.timer = setTimeout(() => this.reject(new TimeoutError(`request timed out after ${ms} ms`)), ms);
    this.signal = opts?.signal;
    if (this.signal !== undefined) {
      this.onAbort = () => this.reject(new TimeoutError('request aborted', { cause: this.signal?.reason }));
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
    this.cleanup?.();
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
