/**
 * `sampan/metrics`: Prometheus metrics for a NodeHost, with prom-client. A separate entry point
 * so that an application without metrics never loads prom-client.
 * @packageDocumentation
 * @module sampan/metrics
 */
export { attachMetrics } from './attach-metrics.js';
export type { MetricsOptions, AttachedMetrics } from './attach-metrics.js';
