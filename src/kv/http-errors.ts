/**
 * Errors as the HTTP contract states them: JSON `{"error":{"code","message"}}` with a status
 * chosen by the library error's stable `code` (never by its message).
 */
import { SampanError } from '../index.js';

/** An error the HTTP layer raises itself (bad request, too large, busy, unknown route). */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Status of each library error code; anything unlisted is a 500. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  INVALID_REQUEST: 400,
  INVALID_OPTION: 400,
  INVALID_OPERATION: 400,
  DIR_NOT_EXIST: 400,
  SHARD_NOT_FOUND: 404,
  REPLICA_NOT_FOUND: 404,
  REJECTED: 409,
  NOT_ENOUGH_LIVE_VOTERS: 409,
  NOT_LEADER: 421,
  PAYLOAD_TOO_BIG: 413,
  SYSTEM_BUSY: 429,
  SHARD_NOT_READY: 503,
  DROPPED: 503,
  CLOSED: 503,
  REPLICA_REMOVED: 503,
  CLUSTER_IDENTITY_MISMATCH: 503,
  TIMEOUT: 504,
};

/** The status, code and message an error is answered with. */
export interface ErrorReply {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/**
 * Maps any thrown value to its reply. DROPPED only escapes the service's retries as
 * SHARD_NOT_READY, but is mapped here too so no path answers a code outside the contract.
 */
export function errorReply(e: unknown): ErrorReply {
  if (e instanceof HttpError) return { status: e.status, code: e.code, message: e.message };
  if (e instanceof SampanError) {
    const code = e.code === 'DROPPED' ? 'SHARD_NOT_READY' : e.code;
    return { status: STATUS_OF_CODE[e.code] ?? 500, code, message: e.message };
  }
  return { status: 500, code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** The JSON body of an error reply. */
export function errorBody(r: ErrorReply): string {
  return JSON.stringify({ error: { code: r.code, message: r.message } });
}
