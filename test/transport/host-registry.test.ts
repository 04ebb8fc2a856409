/**
 * Host identity on the wire: the handshake codec, the host registry (newer incarnation wins,
 * routing through moved hosts, persistence), and TcpTransports on 127.0.0.1 learning a moved
 * host from its handshake and from a third host's gossip, and interoperating with a previous
 * release in both directions (a dialer without a handshake; an acceptor that ignores it).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CodecError } from '../../src/errors.js';
import { encodeFrame, FrameDecoder, FrameKind } from '../../src/transport/frame.js';
import { decodeHello, encodeHello, HANDSHAKE_VERSION, MAX_GOSSIP, type HostEntry } from '../../src/transport/handshake.js';
import { HostRegistry, isHostIdAddress } from '../../src/transport/host-registry.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { Recorder, heartbeat, tempDir, waitFor } from './helpers.js';

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
const C = 'cccccccccccccccc';
const entry = (hostId: string, address: string, incarnation = 0, former: string[] = []): HostEntry => ({ hostId, address, incarnation, former });

describe('handshake codec', () => {
  it('round-trips, drops gossip about the sender itself, and bounds the gossip', () => {
    const gossip = [entry(B, '10.0.0.2:1', 3, ['10.0.0.9:1']), entry(A, 'x:1')];
    for (let i = 0; i < MAX_GOSSIP + 5; i++) gossip.push(entry(i.toString(16).padStart(16, '0'), `h${i}:1`));
    const frame = encodeHello({ deploymentId: 77, self: entry(A, '10.0.0.1:1', 2, ['10.0.0.8:1']), gossip });
    const [f] = new FrameDecoder(1 << 20).push(frame);
    assert.equal(f?.kind, FrameKind.Ping, 'the handshake rides on a Ping (ignored by earlier releases)');
    const h = decodeHello(f!.payload);
    assert.equal(h.deploymentId, 77);
    assert.deepEqual(h.self, entry(A, '10.0.0.1:1', 2, ['10.0.0.8:1']));
    assert.deepEqual(h.gossip[0], entry(B, '10.0.0.2:1', 3, ['10.0.0.9:1']));
    assert.ok(h.gossip.every((e) => e.hostId !== A));
    assert.equal(h.gossip.length, MAX_GOSSIP - 1);
  });

  it('refuses an unknown version and malformed payloads', () => {
    const ok = new FrameDecoder(1 << 20).push(encodeHello({ deploymentId: 1, self: entry(A, 'a:1'), gossip: [] }))[0]!.payload;
    const other = Buffer.from(ok);
    other[0] = HANDSHAKE_VERSION + 1;
    assert.throws(() => decodeHello(other), (e: unknown) => e instanceof CodecError && /unsupported version/.test((e as Error).message));
    const bad = (json: string): Buffer => Buffer.concat([Buffer.from([HANDSHAKE_VERSION]), Buffer.from(json)]);
    assert.throws(() => decodeHello(bad('{')), CodecError);
    assert.throws(() => decodeHello(bad('{"d":1,"h":"xyz","a":"a:1","i":0}')), CodecError);
    assert.throws(() => decodeHello(bad(`{"d":1,"h":"${A}","a":"a:1","i":-1}`)), CodecError);
    assert.throws(() => decodeHello(bad(`{"d":1,"h":"${A}","a":"a:1","i":0,"g":[["${B}"]]}`)), CodecError);
    assert.throws(() => decodeHello(Buffer.alloc(0)), CodecError);
  });
});

describe('host registry', () => {
  it('routes an old address and an nhid- address to the current one; newer incarnation wins; own entry never learned', () => {
    const r = new HostRegistry({ self: entry(A, 'a:1') });
    assert.equal(r.route(1, 2, 'b:1'), 'b:1');
    assert.equal(r.route(1, 2, `nhid-${B}`), undefined);
    assert.deepEqual(r.learn([entry(B, 'b:1')]), []);
    assert.equal(r.route(1, 2, `nhid-${B}`), 'b:1');
    // B moves: its old address is rerouted.
    assert.deepEqual(r.learn([entry(B, 'b:2', 1)]), ['b:1']);
    assert.equal(r.route(1, 2, 'b:1'), 'b:2');
    assert.equal(r.route(1, 2, `nhid-${B}`), 'b:2');
    assert.equal(r.hostIdOf('b:1'), B);
    // Stale news (lower incarnation) and conflicts (same incarnation, other address) are ignored.
    assert.deepEqual(r.learn([entry(B, 'b:1', 0), entry(B, 'b:3', 1)]), []);
    assert.equal(r.addressOf(B), 'b:2');
    // Nobody speaks for this host but itself.
    r.learn([entry(A, 'elsewhere:1', 9)]);
    assert.equal(r.self.address, 'a:1');
    assert.equal(r.route(1, 1, 'a:1'), 'a:1');
    assert.equal(isHostIdAddress(`nhid-${B}`), true);
    assert.equal(isHostIdAddress('nhid-xyz'), false);
  });

  it('learns where a host was from the former addresses its entry carries, and a new owner of an address takes it back', () => {
    const r = new HostRegistry({ self: entry(A, 'a:1') });
    r.learn([entry(B, 'b:2', 1, ['b:1'])]);
    assert.equal(r.route(1, 2, 'b:1'), 'b:2');
    // Host C now listens on B's former address: that address is C's again.
    r.learn([entry(C, 'b:1')]);
    assert.equal(r.route(1, 3, 'b:1'), 'b:1');
    // A replica heard from host B is routed to B wherever its membership address points.
    r.bindReplica(1, 2, B);
    assert.equal(r.route(1, 2, 'b:1'), 'b:2');
    r.unbindReplica(1, 2);
    assert.equal(r.route(1, 2, 'b:1'), 'b:1');
  });

  it('reports a change only when something was learned (no endless re-sending of handshakes)', () => {
    const r = new HostRegistry({ self: entry(A, 'a:1') });
    let changes = 0;
    r.onChange(() => { changes++; });
    r.learn([entry(B, 'b:9', 2, ['b:1', 'b:2', 'b:3', 'b:4'])]);
    assert.equal(changes, 1);
    // Former addresses beyond the bound, the current address, a repeat: nothing new.
    r.learn([entry(B, 'b:9', 2, ['b:5', 'b:6', 'b:9'])]);
    r.learn([entry(B, 'b:9', 2, ['b:1'])]);
    assert.equal(changes, 1);
    assert.deepEqual(r.entries()[0]!.former, ['b:1', 'b:2', 'b:3', 'b:4']);
  });

  it('persists what it learned and its own former addresses', () => {
    const file = path.join(tempDir(), 'hosts.json');
    const r = new HostRegistry({ self: entry(A, 'a:1'), file });
    r.learn([entry(B, 'b:1'), entry(B, 'b:2', 1)]);
    r.flush();
    const again = new HostRegistry({ self: entry(A, 'a:9', 1), file });
    assert.equal(again.route(1, 2, 'b:1'), 'b:2');
    assert.deepEqual(again.self.former, ['a:1']);
  });
});

/** A transport with a registry, listening on `listen` (port 0: any). */
async function host(hostId: string, rec: Recorder, incarnation = 0, listen = '127.0.0.1:0', deploymentId = 5): Promise<TcpTransport> {
  const registry = new HostRegistry({ self: entry(hostId, listen, incarnation) });
  const t = new TcpTransport({ listenAddress: listen, deploymentId, handler: rec, registry, backoffInitialMs: 20, backoffMaxMs: 100 });
  await t.start();
  assert.equal(registry.self.address, t.address);
  return t;
}

describe('TCP transports with host registries', () => {
  const open: TcpTransport[] = [];
  after(async () => { await Promise.all(open.map((t) => t.close())); });

  it('a host restarted on a new address is reached there, through its own handshake and through a peer\'s gossip', async () => {
    const [r1, r2, r3, r3b] = [new Recorder(), new Recorder(), new Recorder(), new Recorder()];
    const t1 = await host(A, r1);
    const t2 = await host(B, r2);
    const t3 = await host(C, r3);
    open.push(t1, t2, t3);
    const old3 = t3.address;
    for (const t of [t1, t2, t3]) {
      t.setAddress(1, 1, t1.address);
      t.setAddress(1, 2, t2.address);
      t.setAddress(1, 3, old3);
    }
    // Everybody talks to everybody once: handshakes teach each who is where.
    for (const [t, from] of [[t1, 1], [t2, 2], [t3, 3]] as const) for (const to of [1, 2, 3]) if (to !== from) t.send(heartbeat(1, from, to));
    await waitFor(() => r1.messages.length === 2 && r2.messages.length === 2 && r3.messages.length === 2, 'first round');
    await t3.close();

    // Host C restarts on another port (its incarnation raised) and talks only to A.
    const t3b = await host(C, r3b, 1);
    open.push(t3b);
    assert.notEqual(t3b.address, old3);
    t3b.setAddress(1, 1, t1.address);
    t3b.send(heartbeat(1, 3, 1));
    await waitFor(() => r1.messages.length === 3, 'A hears from C at its new address');
    // A routes C's old membership address to the new one, without any setAddress.
    t1.send(heartbeat(1, 1, 3, 11));
    await waitFor(() => r3b.messages.some((m) => m.hint === 11), 'A reaches C at its new address');
    // B never heard from C since: A's gossip (a handshake sent again on A's open connection to B) tells it.
    t1.send(heartbeat(1, 1, 2));
    await waitFor(() => {
      t2.send(heartbeat(1, 2, 3, 22));
      return r3b.messages.some((m) => m.hint === 22);
    }, 'B reaches C at its new address through A\'s gossip');
    assert.ok(t2.remoteStats().every((s) => s.address !== old3), 'B no longer keeps a connection to the old address');
    assert.ok(t1.remoteStats().every((s) => s.address !== old3), 'A no longer keeps a connection to the old address');
  });

  it('accepts a dialer without a handshake (a previous release) and refuses another deployment\'s handshake', async () => {
    const rNew = new Recorder();
    const tNew = await host(A, rNew);
    const old = new TcpTransport({ listenAddress: '127.0.0.1:0', deploymentId: 5, handler: new Recorder() });
    await old.start();
    open.push(tNew, old);
    old.setAddress(1, 1, tNew.address);
    old.send(heartbeat(1, 2, 1, 5));
    await waitFor(() => rNew.messages.some((m) => m.hint === 5), 'a batch from a dialer without handshake');

    const before = tNew.stats().badFrames;
    const other = await host(B, new Recorder(), 0, '127.0.0.1:0', 6);
    open.push(other);
    other.setAddress(1, 1, tNew.address);
    other.send(heartbeat(1, 2, 1, 6));
    await waitFor(() => tNew.stats().badFrames > before, 'the other deployment refused');
    assert.ok(!rNew.messages.some((m) => m.hint === 6));
  });

  it('an acceptor of the previous release (it answers a Ping whatever its payload, refuses unknown frame kinds) takes the handshake and the batches', async () => {
    // The previous release's inbound rules (git a631023, src/transport/inbound-connection.ts):
    // a Ping, payload ignored, is answered with a Pong; an unknown kind closes the connection.
    const kinds: number[] = [];
    let refused = 0;
    let firstPayload = -1;
    const server = net.createServer((s) => {
      const dec = new FrameDecoder(1 << 20);
      s.on('error', () => {});
      s.on('data', (chunk: Buffer) => {
        for (const f of dec.push(chunk)) {
          if (firstPayload < 0) firstPayload = f.payload.length;
          kinds.push(f.kind);
          if (f.kind === FrameKind.Ping) s.write(encodeFrame(FrameKind.Pong, Buffer.alloc(0)));
          else if (f.kind !== FrameKind.Batch) {
            refused++;
            s.destroy();
            return;
          }
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const t = await host(A, new Recorder());
    open.push(t);
    t.setAddress(1, 2, `127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    try {
      t.send(heartbeat(1, 1, 2));
      await waitFor(() => kinds.includes(FrameKind.Batch), 'a batch delivered to the old acceptor');
      assert.equal(kinds[0], FrameKind.Ping);
      assert.ok(firstPayload > 0, 'the first frame is the handshake');
      assert.equal(refused, 0);
      assert.equal(t.stats().connectionFailures, 0);
    } finally {
      server.close();
    }
  });
});
