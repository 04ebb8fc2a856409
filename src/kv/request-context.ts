/**
 * The {@link RouteContext} of one request, built once per request with nothing a data route
 * does not use: the query is parsed, and the AbortController and the response's `close`
 * listener are made, only when a route asks for them (the admin routes do; a put never does).
 * Whether the client went away is read from the response (`destroyed` before it finished).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterView } from './cluster.js';
import type { RouteContext } from './http-reply.js';
import type { KvService } from './kv-service.js';
import type { KvLimits } from './limits.js';
import type { HttpCounters, KvMetrics } from './metrics.js';

/** What every request of one server shares. */
export interface ServerParts {
  readonly service: KvService;
  readonly limits: KvLimits;
  readonly replicaId: number;
  readonly httpAddress: string;
  readonly counters: HttpCounters;
  readonly metrics: KvMetrics;
  /** The fan-out to the other replicas' `/status` (`GET /cluster`). */
  readonly cluster: ClusterView;
}

/** A request's context: lazy query and signal, the server's parts by reference. */
export class RequestContext implements RouteContext {
  private q: URLSearchParams | null = null;
  private abort: AbortController | null = null;

  /**
   * @param queryAt the index of `?` in `url`, or -1
   * @param rest the percent-decoded key (the path after the route's prefix), or ''
   */
  constructor(
    readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly method: string,
    readonly url: string,
    private readonly queryAt: number,
    readonly rest: string,
    private readonly parts: ServerParts,
  ) {}

  /** The query parameters, parsed on first use. */
  get query(): URLSearchParams {
    return (this.q ??= new URLSearchParams(this.queryAt < 0 ? '' : this.url.slice(this.queryAt + 1)));
  }

  get service(): KvService { return this.parts.service; }
  get limits(): KvLimits { return this.parts.limits; }
  get replicaId(): number { return this.parts.replicaId; }
  get httpAddress(): string { return this.parts.httpAddress; }
  get counters(): HttpCounters { return this.parts.counters; }
  get metrics(): KvMetrics { return this.parts.metrics; }
  get cluster(): ClusterView { return this.parts.cluster; }

  /** Fires when the client goes away before its reply is written; made on first use. */
  get signal(): AbortSignal {
    if (this.abort === null) {
      const a = (this.abort = new AbortController());
      if (this.clientGone()) a.abort();
      else this.res.once('close', () => { if (!this.res.writableFinished) a.abort(); });
    }
    return this.abort.signal;
  }

  /** Whether the client closed the connection before the reply was written. */
  clientGone(): boolean {
    return this.res.destroyed && !this.res.writableFinished;
  }
}
