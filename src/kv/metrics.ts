/**
 * `GET /metrics`: the Prometheus exposition of one KV replica, with prom-client: every metric
 * of `sampan/metrics` for its NodeHost (the per-shard gauges this service always served keep
 * their names and labels), plus the HTTP layer's counters. One registry per replica, so the
 * three replicas of `sampan demo` in one process do not mix.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { NodeHost } from '../index.js';
import { attachMetrics, type AttachedMetrics } from '../metrics/index.js';

/** Counters the HTTP layer keeps. */
export class HttpCounters {
  /** Requests answered, by route and status. */
  readonly answered = new Map<string, number>();
  /** Requests being served now. */
  inFlight = 0;
  /** Requests refused because too many were in flight. */
  refusedBusy = 0;

  /** Counts one answered request. */
  count(route: string, status: number): void {
    const k = `${route}\u0000${status}`;
    this.answered.set(k, (this.answered.get(k) ?? 0) + 1);
  }
}

/** The metrics of one KV replica: its host's and its HTTP server's, in a registry of their own. */
export class KvMetrics {
  /** The replica's registry (exposed for embedding applications and tests). */
  readonly registry = new Registry();
  private readonly attached: AttachedMetrics;

  constructor(host: NodeHost, counters: HttpCounters) {
    this.attached = attachMetrics(host, { registry: this.registry });
    const registers = [this.registry];
    new Counter({
      name: 'sampan_http_requests_total', help: 'HTTP requests answered, by route and status.', labelNames: ['route', 'status'], registers,
      collect(this: Counter) {
        this.reset();
        for (const [k, n] of counters.answered) {
          const [route, status] = k.split('\u0000');
          this.inc({ route: route ?? '', status: status ?? '' }, n);
        }
      },
    });
    new Gauge({
      name: 'sampan_http_in_flight', help: 'HTTP requests being served.', registers,
      collect(this: Gauge) { this.set(counters.inFlight); },
    });
    new Counter({
      name: 'sampan_http_refused_busy_total', help: 'Requests refused with 429 because too many were in flight.', registers,
      collect(this: Counter) {
        this.reset();
        this.inc(counters.refusedBusy);
      },
    });
  }

  /** The content type of {@link text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, sampled now. */
  async text(): Promise<string> {
    return await this.registry.metrics();
  }

  /** Stops observing the host. */
  close(): void {
    this.attached.detach();
  }
}
