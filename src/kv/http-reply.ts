/**
 * What a route handler returns, and the request context it is given. Handlers throw for
 * errors (mapped by `http-errors.ts`); the server writes replies.
 */
import type { IncomingMessage } from 'node:http';
import type { ServerParts } from './request-context.js';
import { HttpError } from './http-errors.js';

/** A response to write. */
export interface Reply {
  readonly status: number;
  readonly body: string | Uint8Array;
  readonly contentType: string;
}

/** Everything a handler may use. */
export interface RouteContext extends ServerParts {
  readonly req: IncomingMessage;
  readonly method: string;
  /** The raw path and query, as received. */
  readonly url: string;
  /** The percent-decoded remainder of the path after the route prefix (the key). */
  readonly rest: string;
  readonly query: URLSearchParams;
  /** Fires when the client goes away: stops the wait (not the commit). Made on first use. */
  readonly signal: AbortSignal;
  /** Whether the client went away (cheaper than `signal` when only a check is needed). */
  readonly clientGone: () => boolean;
}

/** A JSON reply. */
export function json(status: number, v: unknown): Reply {
  return { status, body: JSON.stringify(v), contentType: 'application/json' };
}

/**
 * A non-negative integer query parameter, or `fallback` when absent.
 * @throws HttpError 400 INVALID_REQUEST when present but not a non-negative integer.
 */
export function intParam(q: URLSearchParams, name: string, fallback?: number): number {
  const v = q.get(name);
  if (v === null || v === '') {
    if (fallback !== undefined) return fallback;
    throw new HttpError(400, 'INVALID_REQUEST', `query parameter '${name}' is required`);
  }
  if (!/^\d{1,15}$/.test(v)) throw new HttpError(400, 'INVALID_REQUEST', `query parameter '${name}' must be a non-negative integer, got '${v}'`);
  return Number(v);
}
