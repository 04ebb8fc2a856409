/**
 * The command's output may go to a pipe whose reader has gone (`sampan kv … | head -1`).
 * Node then reports EPIPE as an 'error' event on process.stdout/stderr, which, unhandled,
 * crashes the process — in the middle of a SIGTERM drain, for instance. Output that nobody
 * reads is dropped instead; the command goes on and stops as it would have.
 */

let installed = false;

/**
 * Makes write errors on stdout and stderr (EPIPE, or a write after the stream was destroyed)
 * harmless for the rest of the process: the failing stream's output is discarded. Idempotent.
 */
export function tolerateClosedPipes(): void {
  if (installed) return;
  installed = true;
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', () => {
      // Nothing can be reported on a broken stream; stop writing to it.
      s.destroy();
    });
  }
}
