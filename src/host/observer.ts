/**
 * The measurement seam of a NodeHost: what happens on its paths, reported as it happens, for
 * metrics (`attachMetrics` in `src/metrics/` is the observer sampan ships). It keeps the host
 * free of any metrics library, and costs nothing without an observer: no clock is read.
 *
 * Every method is optional and is called on the engine's or the LogDB's commit path, once per
 * pass or per batch (never per message): it must be cheap. A throwing observer is caught and
 * ignored (logged at debug).
 */

/** Receives measurements from a NodeHost; see {@link NodeHost.observe}. */
export interface HostObserver {
  /** An engine pass that had work: its wall time in seconds (LogDB write included) and how many replicas' updates it carried. */
  enginePass?(seconds: number, updates: number): void;
  /** One LogDB batch written by the engine: replicas in it, entries in it, and the seconds `saveUpdates` took. */
  logdbBatch?(replicas: number, entries: number, seconds: number): void;
  /** One fdatasync of the default write-ahead log: seconds, and bytes made durable. Only with `WalLogDB`. */
  walSync?(seconds: number, bytes: number): void;
}
