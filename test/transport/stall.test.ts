// Stall detection on message connections (issue 14 §4): a silent partition — the chaos proxy's
// blackhole, where the TCP connection stays open and bytes vanish both ways — is noticed within
// stallTimeoutMs, counted, reported once per outage (handleConnection, one warning naming the
// remote and how long it was silent), and healed by a redial; the acceptor closes the dead
// inbound connection by itself; the acceptor answers Ping frames with Pong frames; a slow but
// live link (Pings stuck behind a large batch) is not a stall.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import type { LogFields, Logger } from '../../src/logger.js';
import { encodeFrame, FrameDecoder, FrameKind } from '../../src/transport/frame.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import type { TcpTransportOptions } from '../../src/transport/tcp-options.js';
import { FaultProxy } from '../../tools/chaos/proxy.js';
import { Recorder, heartbeat, replicate, waitFor } from './helpers.js';

const STALL_MS = 400;

interface Line { level: string; msg: string; fields: LogFields }

function capture(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (msg: string, fields: LogFields = {}): void => { lines.push({ level, msg, fields }); };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

class ConnRecorder extends Recorder {
  readonly connections: Array<[string, boolean]> = [];
  handleConnection(address: string, established: boolean): void {
    this.connections.push([address, established]);
  }
}

describe('stall detection', () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of closers) await c();
  });
  async function host(handler: Recorder, logger: Logger, extra: Partial<TcpTransportOptions> = {}): Promise<TcpTransport> {
    const t = new TcpTransport({
      listenAddress: '127.0.0.1:0', deploymentId: 7, handler, logger, stallTimeoutMs: STALL_MS,
      backoffInitialMs: 50, backoffMaxMs: 200, random: new SeededRandom(3), ...extra,
    });
    closers.push(() => t.close());
    await t.start();
    return t;
  }

  it('a blackholed connection is closed, counted and warned about once, and the link heals by a redial', async () => {
    const aLog = capture();
    const bLog = capture();
    const aRec = new ConnRecorder();
    const bRec = new Recorder();
    const a = await host(aRec, aLog.logger, { dialFromHost: '127.0.0.2' });
    const b = await host(bRec, bLog.logger);
    const proxy = await FaultProxy.start('127.0.0.1:0', b.address);
    closers.push(() => proxy.close());
    a.setAddress(1, 2, proxy.address);
    let hint = 0;
    const tick = setInterval(() => a.send(heartbeat(1, 1, 2, ++hint)), 20);
    closers.push(async () => clearInterval(tick));

    await waitFor(() => a.remoteStats()[0]?.connected === true, 'connected');
    await waitFor(() => bRec.messages.length > 0, 'first delivery');
    assert.deepEqual(aRec.connections, [[proxy.address, true]]);

    proxy.block('127.0.0.2', 'blackhole');
    const cutAt = Date.now();
    await waitFor(() => a.remoteStats()[0]?.connected === false, 'the stall noticed', 5000);
    const noticedMs = Date.now() - cutAt;
    assert.ok(noticedMs >= STALL_MS * 0.75 && noticedMs <= STALL_MS * 4, `stall noticed after ${noticedMs} ms`);
    // The acceptor hears nothing (the proxy drops the dialer's FIN too) and closes on its own.
    await waitFor(() => bLog.lines.some((l) => l.msg.includes('inbound message connection idle')), 'the acceptor closing the idle connection', 5000);
    // Several redials during the outage, each swallowed by the blackhole.
    await waitFor(() => (a.remoteStats()[0]?.connectionStalls ?? 0) >= 3, 'several stalls', 10_000);
    const stats = a.remoteStats()[0]!;
    assert.ok(stats.connectionFailures >= stats.connectionStalls);
    assert.ok(a.stats().connectionStalls >= 3);
    assert.ok(aRec.unreachable.length > 0, 'Unreachable reported for the stalled remote');
    assert.deepEqual(aRec.connections, [[proxy.address, true], [proxy.address, false]], 'one failure event per outage');
    const warnings = aLog.lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!.msg, /stalled/);
    assert.equal(warnings[0]!.fields['remote'], proxy.address);
    assert.ok(Number(warnings[0]!.fields['stalledMs']) >= STALL_MS, JSON.stringify(warnings[0]));

    proxy.heal();
    const healedAt = Date.now();
    const delivered = bRec.messages.length;
    await waitFor(() => bRec.messages.length > delivered && a.remoteStats()[0]?.connected === true, 'delivery after the heal', 5000);
    const healMs = Date.now() - healedAt;
    // At worst: the attempt in flight runs out (STALL_MS / 2 plus a tick), then one back-off (≤ 200 ms).
    assert.ok(healMs <= STALL_MS + 200 + 500, `healed after ${healMs} ms`);
    assert.deepEqual(aRec.connections.at(-1), [proxy.address, true]);
    const reconnected = aLog.lines.find((l) => l.msg === 'transport: reconnected');
    assert.ok(reconnected !== undefined && Number(reconnected.fields['outageMs']) > 0, JSON.stringify(reconnected));
    clearInterval(tick);
  });

  it('the acceptor answers each Ping with a Pong, and a message connection that sends nothing is closed', async () => {
    const bLog = capture();
    const b = await host(new Recorder(), bLog.logger);
    const [hostName, port] = b.address.split(':') as [string, string];
    const s = net.connect({ host: hostName, port: Number(port) });
    closers.push(async () => { s.destroy(); });
    await new Promise<void>((r) => s.once('connect', () => r()));
    const decoder = new FrameDecoder(0);
    const kinds: number[] = [];
    s.on('data', (d: Buffer) => { for (const f of decoder.push(d)) kinds.push(f.kind); });
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.write(encodeFrame(FrameKind.Ping, Buffer.alloc(0)));
    s.write(encodeFrame(FrameKind.Ping, Buffer.alloc(0)));
    await waitFor(() => kinds.length === 2, 'two pongs');
    assert.deepEqual(kinds, [FrameKind.Pong, FrameKind.Pong]);
    const quietFrom = Date.now();
    await closed;
    const idleMs = Date.now() - quietFrom;
    assert.ok(idleMs >= STALL_MS * 0.9 && idleMs < STALL_MS * 4, `closed after ${idleMs} ms of silence`);
    assert.ok(bLog.lines.some((l) => l.msg.includes('inbound message connection idle')));
    assert.equal(b.stats().badFrames, 0, 'an idle close is not a bad frame');
  });

  it('a slow link is not a stall: a batch that takes several deadlines to cross is delivered on one connection', async () => {
    const aRec = new ConnRecorder();
    const bRec = new Recorder();
    const a = await host(aRec, capture().logger);
    const b = await host(bRec, capture().logger);
    // A forwarder that passes the dialer's bytes on at ~256 KiB/s, and the answers at once.
    const [bh, bp] = b.address.split(':') as [string, string];
    const sockets = new Set<net.Socket>();
    const slow = net.createServer((c) => {
      const up = net.connect({ host: bh, port: Number(bp) });
      for (const s of [c, up]) {
        sockets.add(s);
        s.on('error', () => { c.destroy(); up.destroy(); });
        s.on('close', () => { c.destroy(); up.destroy(); });
      }
      up.pipe(c);
      c.on('data', (d: Buffer) => {
        c.pause();
        up.write(d);
        setTimeout(() => c.resume(), Math.ceil(d.length / 256));
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => slow.close(r));
    });
    a.setAddress(1, 2, `127.0.0.1:${(slow.address() as net.AddressInfo).port}`);
    a.send(heartbeat(1, 1, 2, 1));
    await waitFor(() => a.remoteStats()[0]?.connected === true, 'connected');
    // 768 KiB: about 3 s through the forwarder, 7 stall deadlines; the Pings wait behind it.
    const t0 = Date.now();
    a.send(replicate(1, 1, 2, 12, 64 * 1024));
    await waitFor(() => bRec.messages.some((m) => m.entries.length === 12), 'the large batch', 20_000);
    assert.ok(Date.now() - t0 > 2 * STALL_MS, `the link was not slow enough to test anything (${Date.now() - t0} ms)`);
    assert.equal(a.remoteStats()[0]?.connectionStalls, 0);
    assert.equal(a.remoteStats()[0]?.connectionFailures, 0);
  });

  it('a connection whose peer accepts but never answers is never reported connected', async () => {
    const aLog = capture();
    const aRec = new ConnRecorder();
    const a = await host(aRec, aLog.logger);
    // A server that accepts and reads, but never writes (no Pong): a dead end behind a live handshake.
    const sockets = new Set<net.Socket>();
    const mute = net.createServer((c) => { sockets.add(c); c.on('error', () => {}); c.resume(); });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      for (const c of sockets) c.destroy();
      await new Promise((r) => mute.close(r));
    });
    a.setAddress(1, 2, `127.0.0.1:${(mute.address() as net.AddressInfo).port}`);
    const tick = setInterval(() => a.send(heartbeat(1, 1, 2)), 20);
    try {
      await waitFor(() => (a.remoteStats()[0]?.connectionStalls ?? 0) >= 2, 'two stalls', 5000);
      assert.equal(a.remoteStats()[0]?.connected, false);
      assert.deepEqual(aRec.connections.map(([, up]) => up), [false], 'never established; one failure event');
      assert.equal(aLog.lines.filter((l) => l.level === 'warn').length, 1);
    } finally {
      clearInterval(tick);
    }
  });
});
