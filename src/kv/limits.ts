/**
 * The service's limits: a flood or an oversized request degrades into 413 or 429 answers,
 * never into an unbounded queue or a crash.
 */

/** Limits of one replica's HTTP service. */
export interface KvLimits {
  /** Largest key, in UTF-8 bytes after percent-decoding (413 beyond). */
  readonly maxKeyBytes: number;
  /** Largest value, in bytes (413 beyond). */
  readonly maxValueBytes: number;
  /** Largest request body of any route (413 beyond). */
  readonly maxBodyBytes: number;
  /** Requests being served at once by this replica (429 SYSTEM_BUSY beyond). */
  readonly maxInFlight: number;
  /** Time a request may take, retries included (504 TIMEOUT or 503 beyond). */
  readonly requestTimeoutMs: number;
}

/** The defaults: 1 KiB keys, 1 MiB values, bodies of a value plus JSON overhead, 1,024 in flight, 5 s. */
export const DEFAULT_LIMITS: KvLimits = {
  maxKeyBytes: 1024,
  maxValueBytes: 1024 * 1024,
  maxBodyBytes: 1024 * 1024 + 64 * 1024,
  maxInFlight: 1024,
  requestTimeoutMs: 5000,
};
