/**
 * The ports of a KV replica, taken before anything is written to its data directory: the HTTP
 * socket is bound for good (and answers 503 SHARD_NOT_READY until the replica behind it is
 * attached), and the raft listen address is checked by binding and releasing it. A port in use
 * then fails the start with nothing written, so the corrected retry starts from nothing.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { HttpTlsMaterial } from './http-security.js';
import { createServer as createTcpServer, type Server as NetServer } from 'node:net';
import { InvalidOperationError } from '../index.js';
import { errorBody } from './http-errors.js';

function listen(server: NetServer, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const STARTING = errorBody({ status: 503, code: 'SHARD_NOT_READY', message: 'the replica is starting' });

function answerStarting(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(STARTING), connection: 'close' });
  res.end(STARTING);
}

/** An HTTP socket bound before the replica behind it exists. */
export class HttpListener {
  private attached = false;

  private constructor(readonly server: Server, readonly host: string) {}

  /**
   * Binds `host:port` (0: any free port), serving HTTPS when `tls` is given; until
   * {@link take} every request is answered 503 SHARD_NOT_READY.
   * @throws the listen error (EADDRINUSE, EACCES, …) as a plain Error with its `code`; a TLS
   *   error for unusable certificate material.
   */
  static async bind(host: string, port: number, tls?: HttpTlsMaterial): Promise<HttpListener> {
    const server: Server = tls === undefined ? createHttpServer() : createTlsServer({
      cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: tls.clientCa !== undefined, rejectUnauthorized: tls.clientCa !== undefined,
    });
    server.on('request', answerStarting);
    await listen(server, host, port);
    return new HttpListener(server, host);
  }

  /** Hands the bound server over (its placeholder handler removed). @throws InvalidOperationError if taken twice. */
  take(): Server {
    if (this.attached) throw new InvalidOperationError('the HTTP listener was already taken');
    this.attached = true;
    this.server.off('request', answerStarting);
    return this.server;
  }

  /** Unbinds (a start that failed). */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/**
 * Checks that `host:port` can be listened on now, by binding it and releasing it at once.
 * @throws the listen error (EADDRINUSE, EADDRNOTAVAIL, …) as a plain Error with its `code`.
 */
export async function checkListenable(host: string, port: number): Promise<void> {
  const server = createTcpServer();
  await listen(server, host, port);
  await new Promise<void>((r) => server.close(() => r()));
}

/** Splits `host:port` (IPv6 in brackets); null when it is not one. */
export function hostPort(address: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  return m === null ? null : { host: (m[1] ?? m[2]) as string, port: Number(m[3]) };
}
