/**
 * The command's errors: every failure is one line on stderr and a non-zero exit code, never
 * a stack trace.
 */

/** A failure to report as `sampan <cmd>: <message>` with exit code `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** One line describing `e`, without its stack. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? '';
}
