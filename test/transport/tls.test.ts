// Mutual TLS: the compliance suite over TLS, and the refusals (plaintext, another CA).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { MessageType, message } from '../../src/core/types.js';
import { encodeBatch } from '../../src/transport/codec.js';
import { FrameKind, encodeFrame } from '../../src/transport/frame.js';
import type { TlsFiles } from '../../src/transport/tcp-options.js';
import { parseAddress } from '../../src/transport/tcp-options.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { transportCompliance } from './compliance.js';
import { makePki } from '../support/pki.js';
import { Recorder, deadLoopbackAddress, heartbeat, tempDir, waitFor } from './helpers.js';

const dir = tempDir('sampan-tls-');
const one = makePki(dir, 'one');
const two = makePki(dir, 'two');
const tlsOne: TlsFiles = { caFile: one.ca, certFile: one.cert, keyFile: one.key };

function tlsHost(handler: Recorder, tls: TlsFiles | undefined, extra: { maxSendQueue?: number } = {}): TcpTransport {
  return new TcpTransport({
    listenAddress: '127.0.0.1:0', deploymentId: 42, handler, tls, backoffInitialMs: 50, backoffMaxMs: 200,
    snapshotChunkSize: 64 * 1024, random: new SeededRandom(3), ...extra,
  });
}

transportCompliance({
  name: 'tcp+mtls',
  async create(handler, options) {
    const t = tlsHost(handler, tlsOne, options);
    await t.start();
    return t;
  },
  deadAddress: deadLoopbackAddress,
});

describe('mutual TLS refusals', () => {
  const opened: TcpTransport[] = [];
  after(async () => {
    await Promise.all(opened.map((t) => t.close()));
  });
  async function host(tls: TlsFiles | undefined): Promise<{ t: TcpTransport; rec: Recorder }> {
    const rec = new Recorder();
    const t = tlsHost(rec, tls);
    opened.push(t);
    await t.start();
    return { t, rec };
  }

  it('refuses a plaintext peer', async () => {
    const b = await host(tlsOne);
    const a = await host(undefined);
    a.t.setAddress(1, 2, b.t.address);
    await waitFor(() => {
      a.t.send(heartbeat(1, 1, 2));
      return a.rec.unreachable.length > 0 && b.t.stats().connectionsRejected > 0;
    }, 'plaintext refused');
    const { host: h, port } = parseAddress(b.t.address);
    const raw = net.connect({ host: h, port });
    raw.on('error', () => {});
    raw.write(encodeFrame(FrameKind.Batch, encodeBatch({
      deploymentId: 42, sourceAddress: 'plain:1', messages: [message({ type: MessageType.Heartbeat, to: 2 })],
    })));
    raw.resume();
    await new Promise((r) => raw.once('close', r));
    assert.equal(b.rec.messages.length, 0);
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    const b = await host(tlsOne);
    // Trusts our CA (so it accepts the server) but presents a certificate of CA two.
    const c = await host({ caFile: one.ca, certFile: two.cert, keyFile: two.key });
    c.t.setAddress(1, 2, b.t.address);
    await waitFor(() => {
      c.t.send(heartbeat(1, 3, 2));
      return c.rec.unreachable.length > 0;
    }, 'client of another CA refused');
    assert.equal(b.rec.messages.length, 0);
    assert.ok(b.t.stats().connectionsRejected > 0);
  });

  it('refuses a server whose certificate comes from another CA', async () => {
    const b = await host({ caFile: two.ca, certFile: two.cert, keyFile: two.key });
    const a = await host(tlsOne);
    a.t.setAddress(1, 2, b.t.address);
    await waitFor(() => {
      a.t.send(heartbeat(1, 1, 2));
      return a.rec.unreachable.length > 0;
    }, 'server of another CA refused');
    assert.equal(b.rec.messages.length, 0);
  });
});
