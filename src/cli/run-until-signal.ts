/**
 * Keeps a server command running until SIGINT or SIGTERM (or until it fails), then stops it
 * once. A second signal during the stop exits at once.
 */

/** What a running command exposes to {@link runUntilSignal}. */
export interface Running {
  /** Stops cleanly. */
  close(): Promise<void>;
  /** Registers a callback for an unrecoverable failure while running. */
  onFailure(fn: (e: Error) => void): void;
}

/**
 * Waits for SIGINT/SIGTERM or a failure, closes `r`, and resolves with the exit code: 0 after a
 * signal, 1 after a failure or a failed close.
 */
export async function runUntilSignal(r: Running, log: (line: string) => void): Promise<number> {
  const why = await new Promise<{ signal?: string; error?: Error }>((resolve) => {
    process.once('SIGINT', () => resolve({ signal: 'SIGINT' }));
    process.once('SIGTERM', () => resolve({ signal: 'SIGTERM' }));
    r.onFailure((error) => resolve({ error }));
  });
  const again = (): void => { process.exit(130); };
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  if (why.error !== undefined) log(`stopping: ${why.error.message}`);
  else log(`${why.signal ?? 'signal'}: stopping`);
  try {
    await r.close();
  } catch (e) {
    log(`stop failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    process.off('SIGINT', again);
    process.off('SIGTERM', again);
  }
  return why.error === undefined ? 0 : 1;
}
