/**
 * Answers a request that Node's HTTP parser refused before any route saw it, instead of
 * resetting the connection. The case that matters: a request line or headers over Node's
 * `maxHeaderSize` (16 KiB by default) — a key of 20 KB in the URL — is answered 413
 * PAYLOAD_TOO_BIG, as a key over the limit is, with the contract's one-line JSON error.
 *
 * The socket is then half-closed and what the client is still sending is read and discarded
 * for a short while: closing a socket with unread bytes makes the kernel send a RST, which
 * would destroy the answer before the client reads it.
 */
import { maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorBody, type ErrorReply } from './http-errors.js';

/** How long the rest of a refused request is drained before the socket is destroyed. */
const DRAIN_MS = 2000;

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 413: 'Payload Too Large' };

/** The reply to a parser error, or null when the connection should just be dropped. */
export function clientErrorReply(err: Error & { code?: string }, maxKeyBytes: number): ErrorReply | null {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 413, code: 'PAYLOAD_TOO_BIG',
        message: `the request line and headers exceed the server's limit of ${maxHeaderSize} bytes (keys are at most ${maxKeyBytes} bytes)`,
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      // Only the contract's codes: TIMEOUT (504) means an outcome unknown, which this is not.
      return { status: 400, code: 'INVALID_REQUEST', message: 'the request was not received in time' };
    case 'ECONNRESET':
    case 'EPIPE':
      return null;
    default:
      return { status: 400, code: 'INVALID_REQUEST', message: `malformed HTTP request (${err.code ?? err.message})` };
  }
}

const answered = new WeakSet<Duplex>();

/**
 * Half-closes `socket` after `last` (if given) and reads and discards what the client still
 * sends, for at most {@link DRAIN_MS}, before destroying it: closing with unread bytes would
 * make the kernel reset the connection and destroy the answer before the client reads it (Go's
 * net/http waits likewise before closing such a connection). Node's HTTP parser leaves the
 * socket: its listeners go, ours discards the bytes.
 */
function drainThenDestroy(socket: Duplex, last?: Buffer): void {
  socket.removeAllListeners('data');
  socket.on('data', () => {});
  socket.on('error', () => {});
  const timer = setTimeout(() => socket.destroy(), DRAIN_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.once('end', () => socket.destroy());
  if (last === undefined) socket.end();
  else socket.end(last);
  socket.resume();
}

/**
 * Makes the HTTP server's close of `socket` after this reply (a reply with `connection:
 * close`, sent while the request's body is still arriving — a 413) drain before it destroys,
 * as {@link answerClientError} does, so that the client reads the reply instead of a reset.
 */
export function drainBeforeClose(socket: Socket): void {
  socket.destroySoon = (): void => drainThenDestroy(socket);
}

/**
 * The server's `clientError` listener: writes the reply (once per socket, with
 * `connection: close`), drains the rest of the request, and destroys the socket after
 * {@link DRAIN_MS} or when the client closes. Returns the status answered (0: none), for
 * counting.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex, maxKeyBytes: number): number {
  if (answered.has(socket)) return 0;
  answered.add(socket);
  const reply = clientErrorReply(err, maxKeyBytes);
  if (reply === null || !socket.writable) {
    socket.destroy();
    return 0;
  }
  const body = Buffer.from(errorBody(reply));
  const head = `HTTP/1.1 ${reply.status} ${REASONS[reply.status] ?? 'Error'}\r\ncontent-type: application/json\r\n`
    + `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  drainThenDestroy(socket, Buffer.concat([Buffer.from(head), body]));
  return reply.status;
}
