/**
 * better-sqlite3, loaded on first use. It is an optional peer dependency: a library user who
 * never runs the SQLite state machine does not install (and compile) it, and `sampan --help`
 * or `sampan kv` with the memory state machine work without it.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { MissingDependencyError } from '../errors.js';

/** better-sqlite3's Database constructor. */
export type SqliteDatabaseClass = typeof BetterSqlite3;

const FEATURE = 'the SQLite state machine (sampan kv --state-machine disk)';

let loading: Promise<SqliteDatabaseClass> | undefined;

function isMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((e as Error).message).includes('better-sqlite3');
}

/**
 * Imports better-sqlite3 once and returns its Database class.
 * @throws MissingDependencyError when the package is not installed (the message says what to
 *   install); any other load failure (a native binding built for another Node) as it is.
 */
export function loadSqlite(): Promise<SqliteDatabaseClass> {
  loading ??= import('better-sqlite3').then(
    (m) => m.default,
    (e: unknown) => {
      loading = undefined;
      throw isMissing(e) ? new MissingDependencyError('better-sqlite3', FEATURE, { cause: e }) : e;
    },
  );
  return loading;
}
