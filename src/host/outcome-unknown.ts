/**
 * The error a request gets when its replica stops waiting for it after the request was handed
 * to the core: the replica was removed from the shard, stopped (its host closing), or fenced
 * off because another cluster lists it (`cluster-identity.ts`). A
 * proposal or membership change handed over may already be in the leader's log and commit
 * after this replica gave up on it — a removed replica's forwarded write is appended after its
 * removal and applied by the others; a stopped leader's appended entry commits under the next
 * leader. Telling its caller `REPLICA_REMOVED` or `CLOSED` (HTTP 503, "not applied") would make
 * a retry apply it twice, so it fails as a timeout does: `TIMEOUT`, outcome unknown (dragonboat
 * reports these as terminated requests, whose outcome is unknown too). Requests never handed
 * over still fail with the plain error: their entry is in no log.
 */
import { TimeoutError } from '../errors.js';

/** A TimeoutError (code `TIMEOUT`) saying why the wait ended, with `why` as its cause. */
export function outcomeUnknown(why: Error): TimeoutError {
  return new TimeoutError(`${why.message} before the outcome of this request was known: it may still be applied`, { cause: why });
}
