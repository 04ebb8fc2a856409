/**
 * The process's event-loop delay and GC pauses (issue 19): a turn blocked for 50 ms shows as
 * a delay of about 50 ms in the monitor, in `NodeHost.getStats()` and in the Prometheus text;
 * GC pauses are counted by kind; the monitor is shared by the hosts of a process and stops when
 * the last one closes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { attachMetrics } from '../../src/metrics/index.js';
import { acquireLoopMonitor, loopMonitorRunning, type GcStats } from '../../src/host/loop-monitor.js';
import { HostCluster } from '../host/support/cluster.js';
import { parsePromText, valueOf } from './support/prom-text.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Holds the thread for `ms` in one turn. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

const gcCount = (gc: GcStats): number => gc.minor.count + gc.major.count + gc.incremental.count + gc.weakcb.count;

/** Makes a GC happen: `global.gc` under --expose-gc, else allocation until one is reported. */
async function provokeGc(read: () => GcStats): Promise<void> {
  const g = (globalThis as { gc?: () => void }).gc;
  const before = gcCount(read());
  const end = performance.now() + 5000;
  let keep: object[] = [];
  while (gcCount(read()) === before && performance.now() < end) {
    if (g !== undefined) g();
    else for (let i = 0; i < 200_000; i++) keep.push({ i });
    keep = [];
    await sleep(5);
  }
}

test('loop monitor: a 50 ms turn shows as a max delay of at least 40 ms; GC pauses are counted; the last release stops it', async () => {
  const h = acquireLoopMonitor();
  const other = acquireLoopMonitor();
  try {
    assert.ok(loopMonitorRunning());
    for (let i = 0; i < 200 && h.read().eventLoop.samples === 0; i++) await sleep(10);
    assert.ok(h.read().eventLoop.samples > 0, 'the sampler ran');
    block(50);
    await sleep(30);
    const ev = h.read().eventLoop;
    assert.ok(ev.maxMs >= 40, `max delay ${ev.maxMs} ms after a 50 ms turn`);
    assert.ok(ev.maxMs < 5000, `max delay ${ev.maxMs} ms is plausible`);
    assert.ok(ev.p50Ms <= ev.p99Ms && ev.p99Ms <= ev.p999Ms && ev.p999Ms <= ev.maxMs, JSON.stringify(ev));
    assert.ok(ev.windowMs > 0 && ev.windowMs < 120_000);
    assert.deepEqual(other.read().eventLoop.maxMs, ev.maxMs, 'one monitor per process');
    await provokeGc(() => h.read().gc);
    const gc = h.read().gc;
    assert.ok(gcCount(gc) > 0, `a GC pause was counted: ${JSON.stringify(gc)}`);
    const kinds = [gc.minor, gc.major, gc.incremental, gc.weakcb];
    assert.ok(kinds.every((k) => k.totalMs >= 0 && k.maxMs <= k.totalMs + 1e-9 && (k.count > 0 || k.totalMs === 0)), JSON.stringify(gc));
  } finally {
    h.release();
    h.release();
    assert.ok(loopMonitorRunning(), 'another holder remains');
    other.release();
  }
  assert.equal(loopMonitorRunning(), false);
  assert.equal(h.read().eventLoop.samples, 0, 'a released handle reads zeros');
});

test('NodeHost.getStats and the metrics carry the event-loop delay and GC pauses; closing the hosts stops the monitor', async () => {
  const c = new HostCluster();
  try {
    for (const i of [1, 2]) await c.start(i);
    const registry = new Registry();
    const attached = attachMetrics(c.get(1), { registry });
    await sleep(30);
    block(60);
    await sleep(30);
    await provokeGc(() => c.get(1).getStats().gc);
    const s = c.get(1).getStats();
    assert.ok(s.eventLoop.maxMs >= 40, `host stats: max delay ${s.eventLoop.maxMs} ms`);
    assert.equal(c.get(2).getStats().eventLoop.maxMs, s.eventLoop.maxMs, 'hosts of a process share the figures');
    const p = parsePromText(await registry.metrics());
    assert.ok(valueOf(p, 'sampan_event_loop_delay_max_seconds') >= 0.04);
    assert.ok(valueOf(p, 'sampan_event_loop_delay_p99_seconds') >= 0);
    assert.equal(p.types.get('sampan_gc_pauses_total'), 'counter');
    const gcTotal = ['minor', 'major', 'incremental', 'weakcb'].reduce((n, kind) => n + valueOf(p, 'sampan_gc_pauses_total', { kind }), 0);
    assert.ok(gcTotal > 0, 'GC pauses counted in the metrics');
    assert.ok(attached.names.includes('sampan_gc_pause_max_seconds'));
    attached.detach();
  } finally {
    await c.closeAll();
  }
  assert.equal(loopMonitorRunning(), false, 'the last host to close stopped the monitor');
});
