// The TCP transport: the compliance suite, reconnects, the circuit breaker, big batches.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { consoleLogger } from '../../src/logger.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import type { TcpTransportOptions } from '../../src/transport/tcp-options.js';
import { transportCompliance } from './compliance.js';
import { Recorder, deadLoopbackAddress, heartbeat, replicate, waitFor } from './helpers.js';

function tcp(handler: Recorder, extra: Partial<TcpTransportOptions> = {}): TcpTransport {
  return new TcpTransport({
    listenAddress: '127.0.0.1:0', deploymentId: 42, handler, backoffInitialMs: 50, backoffMaxMs: 200,
    snapshotChunkSize: 64 * 1024, random: new SeededRandom(1),
    ...(process.env['SAMPAN_TEST_LOG'] === undefined ? {} : { logger: consoleLogger('debug') }), ...extra,
  });
}

transportCompliance({
  name: 'tcp',
  async create(handler, options) {
    const t = tcp(handler, options);
    await t.start();
    return t;
  },
  deadAddress: deadLoopbackAddress,
});

describe('tcp transport', () => {
  const opened: TcpTransport[] = [];
  after(async () => {
    await Promise.all(opened.map((t) => t.close()));
  });
  async function host(rec = new Recorder(), extra: Partial<TcpTransportOptions> = {}): Promise<{ t: TcpTransport; rec: Recorder }> {
    const t = tcp(rec, extra);
    opened.push(t);
    await t.start();
    return { t, rec };
  }

  it('reconnects to a host that disappears and returns on the same port', async () => {
    const a = await host();
    const b1 = await host();
    const address = b1.t.address;
    a.t.setAddress(1, 2, address);
    a.t.send(heartbeat(1, 1, 2, 1));
    await waitFor(() => b1.rec.messages.length === 1, 'first message');
    await b1.t.close();
    // Keep sending through the outage: the break is noticed, Unreachable reported, the circuit opens.
    await waitFor(() => {
      a.t.send(heartbeat(1, 1, 2, 2));
      return a.rec.unreachable.length > 0;
    }, 'unreachable after the peer vanished');
    assert.ok(a.t.stats().connectionFailures >= 1);
    const b2 = await host(new Recorder(), { listenAddress: address });
    await waitFor(() => {
      a.t.send(heartbeat(1, 1, 2, 3));
      return b2.rec.messages.some((m) => m.hint === 3);
    }, 'delivery after the peer returned');
  });

  it('splits batches above batchBytes and drops a message above maxFrameSize', async () => {
    const a = await host(new Recorder(), { batchBytes: 8 * 1024, maxFrameSize: 128 * 1024 });
    const b = await host(new Recorder(), { maxFrameSize: 128 * 1024 });
    a.t.setAddress(1, 2, b.t.address);
    for (let i = 0; i < 50; i++) a.t.send(replicate(1, 1, 2, 1, 1024, i + 1));
    a.t.send(replicate(1, 1, 2, 1, 200 * 1024, 100));
    a.t.send(heartbeat(1, 1, 2, 7));
    await waitFor(() => b.rec.messages.length === 51, '51 messages');
    assert.ok(b.rec.batches.length >= 6, `${b.rec.batches.length} batches`);
    assert.equal(b.rec.messages.at(-1)!.hint, 7);
    assert.equal(a.t.stats().messagesDropped, 1);
  });

  it('keeps up under a sustained stream with backpressure', async () => {
    const a = await host();
    const b = await host();
    a.t.setAddress(1, 2, b.t.address);
    let sent = 0;
    const deadline = Date.now() + 5000;
    while (sent < 50_000 && Date.now() < deadline) {
      for (let i = 0; i < 1000; i++) if (a.t.send(replicate(1, 1, 2, 1, 256, sent + 1))) sent++;
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => b.rec.messages.length === sent, `all ${sent} messages`, 10000);
    const idx = b.rec.messages.map((m) => m.entries[0]!.index);
    assert.ok(idx.every((x, i) => i === 0 || x > idx[i - 1]!), 'in order');
  });

  it('uses the advertised address as the source and validates options', async () => {
    const rec = new Recorder();
    const b = await host(rec);
    const a = await host(new Recorder(), { advertiseAddress: 'a.example:7000' });
    assert.equal(a.t.address, 'a.example:7000');
    a.t.setAddress(1, 2, b.t.address);
    a.t.send(heartbeat(1, 1, 2));
    await waitFor(() => rec.batches.length === 1, 'batch');
    assert.equal(rec.batches[0]!.sourceAddress, 'a.example:7000');
    assert.throws(() => tcp(rec, { listenAddress: 'nope' }), /bad address/);
    assert.throws(() => tcp(rec, { maxSendQueue: 0 }), /positive integer/);
  });
});
