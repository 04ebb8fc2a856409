// The in-memory transport: the compliance suite, and its fault injection.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemoryNetwork } from '../../src/transport/memory-network.js';
import type { MemoryTransport } from '../../src/transport/memory-transport.js';
import { transportCompliance } from './compliance.js';
import { Recorder, heartbeat, waitFor } from './helpers.js';

let next = 0;
const shared = new MemoryNetwork({ seed: 11 });
transportCompliance({
  name: 'memory',
  async create(handler, options) {
    const t = shared.createTransport({ address: `mem-${++next}`, handler, deploymentId: 42, ...options });
    await t.start();
    return t;
  },
  deadAddress: () => Promise.resolve('mem-nobody'),
});

describe('memory network faults', () => {
  const opened: MemoryTransport[] = [];
  after(async () => {
    await Promise.all(opened.map((t) => t.close()));
  });
  async function cluster(net: MemoryNetwork, n: number): Promise<Array<{ t: MemoryTransport; rec: Recorder }>> {
    const hs = [];
    for (let i = 1; i <= n; i++) {
      const rec = new Recorder();
      const t = net.createTransport({ address: `h${i}`, handler: rec });
      await t.start();
      opened.push(t);
      hs.push({ t, rec });
    }
    for (const h of hs) hs.forEach((o, i) => h.t.setAddress(1, i + 1, o.t.address));
    return hs;
  }
  const settle = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));

  it('drops, duplicates and reorders as seeded, identically for the same seed', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const net = new MemoryNetwork({ seed, faults: { dropRate: 0.2, duplicateRate: 0.2, reorderRate: 1 } });
      const [a, b] = await cluster(net, 2);
      for (let i = 0; i < 200; i++) a!.t.send(heartbeat(1, 1, 2, i));
      await settle();
      await a!.t.close();
      await b!.t.close();
      return b!.rec.messages.map((m) => m.hint);
    };
    const x = await run(5);
    assert.deepEqual(await run(5), x);
    assert.notDeepEqual(await run(6), x);
    assert.ok(x.length > 120 && x.length < 260, `got ${x.length}`);
    assert.ok(new Set(x).size < 200, 'some lost');
    assert.ok(new Set(x).size < x.length, 'some duplicated');
    assert.notDeepEqual(x, [...x].sort((p, q) => p - q), 'reordered');
  });

  it('delays messages', async () => {
    const net = new MemoryNetwork({ seed: 3, faults: { delayRate: 1, delayMinMs: 40, delayMaxMs: 60 } });
    const [a, b] = await cluster(net, 2);
    a!.t.send(heartbeat(1, 1, 2));
    await settle(20);
    assert.equal(b!.rec.messages.length, 0);
    await waitFor(() => b!.rec.messages.length === 1, 'delayed message');
  });

  it('partitions both ways, one way, and heals', async () => {
    const net = new MemoryNetwork({ seed: 4 });
    const [a, b, c] = await cluster(net, 3);
    net.partition(['h1'], ['h2']);
    a!.t.send(heartbeat(1, 1, 2));
    b!.t.send(heartbeat(1, 2, 1));
    a!.t.send(heartbeat(1, 1, 3));
    await settle();
    assert.equal(b!.rec.messages.length, 0);
    assert.equal(a!.rec.messages.length, 0);
    assert.equal(c!.rec.messages.length, 1);
    net.heal();
    net.blockOneWay('h1', 'h2');
    a!.t.send(heartbeat(1, 1, 2));
    b!.t.send(heartbeat(1, 2, 1));
    await settle();
    assert.equal(b!.rec.messages.length, 0);
    assert.equal(a!.rec.messages.length, 1);
    net.heal();
    net.isolate('h3');
    c!.t.send(heartbeat(1, 3, 1));
    a!.t.send(heartbeat(1, 1, 2));
    await settle();
    assert.equal(a!.rec.messages.length, 1);
    assert.equal(b!.rec.messages.length, 1);
  });

  it('drops batches of another deployment', async () => {
    const net = new MemoryNetwork();
    const ra = new Recorder();
    const rb = new Recorder();
    const a = net.createTransport({ address: 'x', handler: ra, deploymentId: 1 });
    const b = net.createTransport({ address: 'y', handler: rb, deploymentId: 2 });
    opened.push(a, b);
    await a.start();
    await b.start();
    a.setAddress(1, 2, 'y');
    a.send(heartbeat(1, 1, 2));
    await settle();
    assert.equal(rb.messages.length, 0);
    assert.equal(b.stats().badFrames, 1);
  });
});
