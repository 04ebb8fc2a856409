/**
 * The logging seam. sampan never picks a logging library or writes to stdout by itself: each
 * component takes a {@link Logger} in its options and defaults to {@link noopLogger}, so an
 * application routes sampan's lines into whatever it already uses (pino, console, ...).
 */

/** Structured context attached to a log line; values should be JSON-friendly. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * A minimal structured logger. Implementations must not throw; sampan calls them on hot and
 * error paths alike and does not guard the calls.
 */
export interface Logger {
  /** Detail for debugging: per-message and per-request events. */
  debug(msg: string, fields?: LogFields): void;
  /** Normal lifecycle events: starts, stops, leader changes. */
  info(msg: string, fields?: LogFields): void;
  /** Something went wrong and was handled: a dropped connection, a failed snapshot stream. */
  warn(msg: string, fields?: LogFields): void;
  /** Something failed that needs attention: a replica or the host stopped. */
  error(msg: string, fields?: LogFields): void;
}

const noop = (): void => {};

/** A logger that discards everything: the default for every component. */
export const noopLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** A logger that writes `level msg {fields}` lines to stderr; handy in tools and tests. */
export function consoleLogger(minLevel: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = { debug: 0, info: 1, warn: 2, error: 3 } as const;
  const at = (level: keyof typeof order) => (msg: string, fields?: LogFields): void => {
    if (order[level] < order[minLevel]) return;
    process.stderr.write(`${level} ${msg}${fields === undefined ? '' : ' ' + JSON.stringify(fields)}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
