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

/** Where a host's observers are attached: the engine's pass and batch hooks, and the WAL's sync hook. */
export interface ObservedParts {
  observer: HostObserver | null;
}

/** The one LogDB that reports fdatasync timings. */
export interface SyncObservable {
  setSyncObserver(fn: ((seconds: number, bytes: number) => void) | null): void;
}

/**
 * Points the engine's (and, when it reports syncs, the LogDB's) hooks at `list`, or detaches
 * them when `list` is empty, so that a host without observers reads no clock. A throwing
 * observer is logged at debug and ignored.
 */
export function wireObservers(list: readonly HostObserver[], engine: ObservedParts, logdb: object,
  logger: { debug(msg: string, f?: Record<string, unknown>): void }): void {
  const each = (call: (o: HostObserver) => void): void => {
    for (const o of list) {
      try { call(o); } catch (e) { logger.debug('host observer threw', { error: String(e) }); }
    }
  };
  engine.observer = list.length === 0 ? null : {
    enginePass: (sec, n) => each((o) => o.enginePass?.(sec, n)),
    logdbBatch: (replicas, entries, sec) => each((o) => o.logdbBatch?.(replicas, entries, sec)),
  };
  if ('setSyncObserver' in logdb) {
    (logdb as SyncObservable).setSyncObserver(list.some((o) => o.walSync !== undefined)
      ? (sec, bytes) => each((o) => o.walSync?.(sec, bytes)) : null);
  }
}
