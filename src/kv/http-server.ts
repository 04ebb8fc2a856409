/**
 * The HTTP API of one replica, on `node:http`.
 *
 * Why not a framework: the API is a dozen fixed routes whose bodies are raw bytes (not JSON) for
 * the hot path; what a framework would add — routing, JSON schemas — is a few lines here, and
 * the exact error shape, the byte limits before reading, and the in-flight bound must be
 * hand-written against the contract either way. One dependency fewer in a consensus service's
 * request path, and nothing between the socket and the limits.
 *
 * Every request is counted against `maxInFlight` (except `/status`, `/metrics`, `/cluster`
 * and the dashboard at `/`, so an operator can see a flood; concurrent `/cluster` requests
 * share one fan-out): beyond it, 429 SYSTEM_BUSY at once. Closing stops accepting,
 * answers new requests on open connections with 503 CLOSED, and waits for the in-flight ones.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../index.js';
import { getCluster, getMetrics, getStatus, postLeaderTransfer, postMembers, postSnapshot } from './admin-routes.js';
import { ClusterView } from './cluster.js';
import { postMove } from './move-route.js';
import { postVerify } from './verify-route.js';
import { HttpListener } from './early-bind.js';
import { getDashboard } from './dashboard-page.js';
import { answerClientError, drainBeforeClose } from './http-client-error.js';
import { HttpError, errorBody, errorReply } from './http-errors.js';
import type { Reply, RouteContext } from './http-reply.js';
import { casKey, deleteKey, getKey, putKey } from './kv-routes.js';
import type { KvService } from './kv-service.js';
import type { KvLimits } from './limits.js';
import { HttpCounters, KvMetrics } from './metrics.js';
import { statusOf } from './status.js';
import { checkAdminToken, checkExportPath, type HttpSecurity } from './http-security.js';
import { RequestContext, type ServerParts } from './request-context.js';

/** Settings of a {@link KvHttpServer}. */
export interface KvHttpOptions {
  readonly service: KvService;
  readonly replicaId: number;
  readonly limits: KvLimits;
  readonly logger: Logger;
  /**
   * The other replicas' HTTP addresses by replica id (`--peer-http`), for `GET /cluster` and
   * the dashboard; absent or empty: they show only this replica.
   */
  readonly peers?: ReadonlyMap<number, string>;
  /** TLS, the admin token and the export root (see http-security.ts); none by default. */
  readonly security?: HttpSecurity;
}

type Handler = (ctx: RouteContext) => Reply | Promise<Reply>;

interface Route {
  readonly name: string;
  readonly handler: Handler;
  /** Counted against the in-flight bound. */
  readonly bounded: boolean;
}

/** Routes by prefix (with the key after it) or exact path, then by method. */
const PREFIX_ROUTES: ReadonlyArray<readonly [string, Readonly<Record<string, Route>>]> = [
  ['/kv/', {
    PUT: { name: 'kv_put', handler: putKey, bounded: true },
    GET: { name: 'kv_get', handler: getKey, bounded: true },
    DELETE: { name: 'kv_delete', handler: deleteKey, bounded: true },
  }],
  ['/cas/', { POST: { name: 'cas', handler: casKey, bounded: true } }],
];
const EXACT_ROUTES: Readonly<Record<string, Readonly<Record<string, Route>>>> = {
  '/': {
    GET: { name: 'dashboard', handler: getDashboard, bounded: false },
    HEAD: { name: 'dashboard', handler: getDashboard, bounded: false },
  },
  '/cluster': { GET: { name: 'cluster', handler: getCluster, bounded: false } },
  '/status': { GET: { name: 'status', handler: getStatus, bounded: false } },
  '/metrics': { GET: { name: 'metrics', handler: getMetrics, bounded: false } },
  '/admin/snapshot': { POST: { name: 'admin_snapshot', handler: postSnapshot, bounded: true } },
  '/admin/members': { POST: { name: 'admin_members', handler: postMembers, bounded: true } },
  '/admin/leader-transfer': { POST: { name: 'admin_leader_transfer', handler: postLeaderTransfer, bounded: true } },
  '/admin/move': { POST: { name: 'admin_move', handler: postMove, bounded: true } },
  '/admin/verify': { POST: { name: 'admin_verify', handler: postVerify, bounded: true } },
};

/**
 * Every route as `METHOD path`, prefix routes as `METHOD prefix{key}` (e.g. `PUT /kv/{key}`):
 * the reference test checks that docs/kv-service.md names each one.
 */
export function routeList(): string[] {
  const out: string[] = [];
  for (const [prefix, byMethod] of PREFIX_ROUTES) for (const m of Object.keys(byMethod)) out.push(`${m} ${prefix}{key}`);
  for (const [path, byMethod] of Object.entries(EXACT_ROUTES)) for (const m of Object.keys(byMethod)) out.push(`${m} ${path}`);
  return out;
}

function decodeKey(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'INVALID_REQUEST', 'the key is not valid percent-encoded UTF-8');
  }
}

/** Finds the route of a request. @throws HttpError 404 or 405. */
function route(method: string, path: string): { route: Route; rest: string } {
  for (const [prefix, byMethod] of PREFIX_ROUTES) {
    if (!path.startsWith(prefix)) continue;
    const r = byMethod[method];
    if (r === undefined) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${prefix}{key}`);
    return { route: r, rest: decodeKey(path.slice(prefix.length)) };
  }
  const byMethod = EXACT_ROUTES[path];
  if (byMethod === undefined) throw new HttpError(404, 'NOT_FOUND', `no route ${path}`);
  const r = byMethod[method];
  if (r === undefined) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`);
  return { route: r, rest: '' };
}

/** One replica's HTTP server. */
export class KvHttpServer {
  readonly counters = new HttpCounters();
  /** The replica's Prometheus registry, served at `/metrics`. */
  readonly metrics: KvMetrics;
  /** The fan-out behind `GET /cluster`. */
  readonly cluster: ClusterView;
  private closing = false;
  private readonly idle: Array<() => void> = [];
  /** What every request's context shares. */
  private readonly parts: ServerParts;

  private constructor(private readonly server: Server, private readonly o: KvHttpOptions, readonly address: string) {
    this.metrics = new KvMetrics(o.service.host, this.counters);
    this.cluster = new ClusterView(o.replicaId, o.peers ?? new Map(), () => statusOf(o.service.host, o.replicaId, this.address),
      undefined, o.security?.tls === undefined ? 'http' : 'https');
    this.parts = {
      service: o.service, limits: o.limits, replicaId: o.replicaId, httpAddress: address,
      counters: this.counters, metrics: this.metrics, cluster: this.cluster,
    };
  }

  /**
   * Listens on `host:port` (the advertised HTTP address, as given).
   * @throws the listen error (EADDRINUSE, EACCES, …) as a plain Error with its `code`.
   */
  static async listen(o: KvHttpOptions, host: string, port: number): Promise<KvHttpServer> {
    return KvHttpServer.attach(await HttpListener.bind(host, port, o.security?.tls), o);
  }

  /** Serves the API on a socket bound earlier (see {@link HttpListener}). @throws InvalidOperationError if it was taken already. */
  static attach(listener: HttpListener, o: KvHttpOptions): KvHttpServer {
    const server = listener.take();
    const host = listener.host;
    server.keepAliveTimeout = 60_000;
    server.requestTimeout = o.limits.requestTimeoutMs + 30_000;
    const a = server.address() as AddressInfo;
    const shown = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    const s = new KvHttpServer(server, o, host === '' ? shown : `${host}:${a.port}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => { void s.handle(req, res); });
    server.on('clientError', (e: Error & { code?: string }, socket) => {
      const status = answerClientError(e, socket, o.limits.maxKeyBytes);
      if (status !== 0) s.counters.count('unknown', status);
    });
    if (o.security?.tls !== undefined) server.on('tlsClientError', (e: Error) => { o.logger.debug('TLS handshake refused', { error: e.message }); });
    return s;
  }

  /** `https` when the port serves TLS, else `http`. */
  get scheme(): 'http' | 'https' {
    return this.o.security?.tls === undefined ? 'http' : 'https';
  }

  /** The port actually bound. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    let name = 'unknown';
    let bounded = false;
    try {
      if (this.closing) throw new HttpError(503, 'CLOSED', 'the replica is shutting down');
      const found = route(method, path);
      name = found.route.name;
      const ctx = new RequestContext(req, res, method, url, q, found.rest, this.parts);
      const sec = this.o.security;
      if (sec !== undefined && name.startsWith('admin_')) {
        if (sec.adminToken !== undefined) checkAdminToken(req, sec.adminToken);
        const exportTo = ctx.query.get('export');
        if (sec.exportRoot !== undefined && exportTo !== null) ctx.query.set('export', checkExportPath(exportTo, sec.exportRoot));
      }
      if (found.route.bounded) {
        if (this.counters.inFlight >= this.o.limits.maxInFlight) {
          this.counters.refusedBusy++;
          throw new HttpError(429, 'SYSTEM_BUSY', `more than ${this.o.limits.maxInFlight} requests in flight`);
        }
        bounded = true;
        this.counters.inFlight++;
      }
      this.write(res, name, await found.route.handler(ctx));
    } catch (e) {
      const r = errorReply(e);
      if (r.status === 500) this.o.logger.error('request failed', { route: name, error: r.message });
      this.write(res, name, { status: r.status, body: errorBody(r), contentType: 'application/json' });
    } finally {
      if (bounded) {
        this.counters.inFlight--;
        if (this.counters.inFlight === 0) for (const f of this.idle.splice(0)) f();
      }
    }
  }

  /**
   * Writes a reply: the headers as a flat list, and a string body as a string, so that Node
   * sends the head and a JSON body in one write (a Buffer body goes with the head as a writev).
   */
  private write(res: ServerResponse, name: string, reply: Reply): void {
    this.counters.count(name, reply.status);
    if (res.headersSent || res.destroyed) return;
    const body = reply.body;
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    // A refused body may still be arriving, and a closing server wants the socket back.
    if (reply.status === 413 && !res.req.complete && res.socket !== null) drainBeforeClose(res.socket);
    res.writeHead(reply.status, this.closing || reply.status === 413
      ? ['content-type', reply.contentType, 'content-length', String(length), 'connection', 'close']
      : ['content-type', reply.contentType, 'content-length', String(length)]);
    res.end(body);
  }

  private waitIdle(ms: number): Promise<void> {
    if (this.counters.inFlight === 0) return Promise.resolve();
    return new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.idle.push(() => { clearTimeout(t); r(); });
    });
  }

  /**
   * Stops accepting connections, answers new requests on open ones with 503 CLOSED, and waits
   * up to `graceMs` for the requests in flight. The caller then closes the host (which fails
   * what is still waiting with CLOSED) and calls {@link shutdown}.
   */
  async drain(graceMs: number): Promise<void> {
    this.closing = true;
    this.closed ??= new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    await this.waitIdle(graceMs);
  }

  /** Writes what is still in flight (briefly), then closes every connection. */
  async shutdown(): Promise<void> {
    await this.drain(0);
    await this.waitIdle(1000);
    this.server.closeAllConnections();
    await this.closed;
    this.metrics.close();
  }

  private closed: Promise<void> | undefined;
}
