// dialFromHost: the TCP transport binds its outgoing connections (messages and snapshot
// streams) to the given local address, so a proxy in front of a peer can tell who is calling.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { MessageType, emptySnapshot, message } from '../../src/core/types.js';
import { InvalidOptionError } from '../../src/errors.js';
import { resolveHostConfig } from '../../src/host/config.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { Recorder, heartbeat, tempDir, waitFor } from './helpers.js';

/** A relay to `target` that records the source address of every connection it accepts. */
async function recordingRelay(target: string): Promise<{ address: string; sources: string[]; close: () => Promise<void> }> {
  const [host, port] = target.split(':') as [string, string];
  const sources: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    sources.push(c.remoteAddress ?? '?');
    const up = net.connect({ host, port: Number(port) });
    for (const s of [c, up]) {
      sockets.add(s);
      s.on('error', () => { c.destroy(); up.destroy(); });
      s.on('close', () => { sockets.delete(s); c.destroy(); up.destroy(); });
    }
    c.pipe(up);
    up.pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    sources,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('tcp transport: dialFromHost', () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of closers) await c();
  });
  const transport = async (rec: Recorder, dialFromHost?: string): Promise<TcpTransport> => {
    const t = new TcpTransport({ listenAddress: '127.0.0.1:0', deploymentId: 7, handler: rec, random: new SeededRandom(3), ...(dialFromHost === undefined ? {} : { dialFromHost }) });
    await t.start();
    closers.push(() => t.close());
    return t;
  };

  it('binds message connections and snapshot streams to the given local address', async () => {
    const a = await transport(new Recorder(), '127.0.0.23');
    const bRec = new Recorder();
    const b = await transport(bRec);
    const relay = await recordingRelay(b.address);
    closers.push(relay.close);
    a.setAddress(1, 2, relay.address);
    a.send(heartbeat(1, 1, 2, 5));
    await waitFor(() => bRec.messages.length === 1, 'the message through the relay');
    const data = path.join(tempDir(), 'snapshot.data');
    writeFileSync(data, Buffer.alloc(10_000, 7));
    const snap = { ...emptySnapshot(1), index: 10, term: 1, filepath: data, fileSize: 10_000 };
    assert.equal(a.sendSnapshot(message({ type: MessageType.InstallSnapshot, shardId: 1, from: 1, to: 2, term: 1, snapshot: snap })), true);
    await waitFor(() => bRec.completed.length === 1, 'the snapshot through the relay', 10_000);
    assert.deepEqual(relay.sources, ['127.0.0.23', '127.0.0.23']);
  });

  it('refuses a dialFromHost that is not an IP address', () => {
    assert.throws(() => new TcpTransport({ listenAddress: '127.0.0.1:0', deploymentId: 7, handler: new Recorder(), dialFromHost: 'localhost' }), InvalidOptionError);
    assert.throws(() => resolveHostConfig({ nodeHostDir: '/tmp/x', raftAddress: '127.0.0.1:1', dialFromHost: '127.0.0.1:5' }), /dialFromHost/);
    assert.equal(resolveHostConfig({ nodeHostDir: '/tmp/x', raftAddress: '127.0.0.1:1', dialFromHost: '::1' }).dialFromHost, '::1');
  });
});
