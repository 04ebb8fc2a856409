// Hostile peers: each attack is cut off (counter + closed connection) while legitimate peers
// keep exchanging messages.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { SeededRandom } from '../../src/core/random.js';
import { consoleLogger } from '../../src/logger.js';
import { MessageType, emptySnapshot, message } from '../../src/core/types.js';
import { encodeBatch } from '../../src/transport/codec.js';
import { FrameKind, encodeFrame, FrameDecoder } from '../../src/transport/frame.js';
import { decodeAck, encodeSnapshotHeader, writeChunkPrefix } from '../../src/transport/snapshot-protocol.js';
import { parseAddress } from '../../src/transport/tcp-options.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { Recorder, heartbeat, waitFor } from './helpers.js';

const DEPLOYMENT = 42;

function batchFrame(deploymentId = DEPLOYMENT, type: number = MessageType.Heartbeat): Buffer {
  const payload = encodeBatch({ deploymentId, sourceAddress: 'evil:1', messages: [message({ type: type as MessageType, shardId: 1, to: 2 })] });
  return encodeFrame(FrameKind.Batch, payload);
}

/** Rewrites header bytes and fixes the header checksum, so only the field under test is wrong. */
function withHeader(frame: Buffer, edit: (h: Buffer) => void): Buffer {
  const f = Buffer.from(frame);
  edit(f);
  f.writeUInt32BE(crc32(f.subarray(0, 16)), 16);
  return f;
}

describe('hostile peers', () => {
  const ra = new Recorder();
  const rb = new Recorder();
  let a: TcpTransport;
  let b: TcpTransport;
  let pump: NodeJS.Timeout;
  let hint = 0;
  const sockets: net.Socket[] = [];

  before(async () => {
    const opts = {
      deploymentId: DEPLOYMENT, listenAddress: '127.0.0.1:0', frameTimeoutMs: 300, snapshotChunkTimeoutMs: 400,
      maxSnapshotReceives: 1, random: new SeededRandom(2), ...(process.env['SAMPAN_TEST_LOG'] === undefined ? {} : { logger: consoleLogger('debug') }),
    };
    a = new TcpTransport({ ...opts, handler: ra });
    b = new TcpTransport({ ...opts, handler: rb });
    await a.start();
    await b.start();
    a.setAddress(1, 2, b.address);
    pump = setInterval(() => a.send(heartbeat(1, 1, 2, ++hint)), 10);
  });
  after(async () => {
    clearInterval(pump);
    for (const s of sockets) s.destroy();
    await a.close();
    await b.close();
  });

  function connect(): Promise<net.Socket> {
    const { host, port } = parseAddress(b.address);
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port }, () => resolve(s));
      s.resume();
      s.on('error', reject);
      sockets.push(s);
    });
  }
  function closed(s: net.Socket): Promise<void> {
    return new Promise((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));
  }
  async function expectCutOff(attack: (s: net.Socket) => Promise<void> | void, maxMs = 2000): Promise<number> {
    const bad = b.stats().badFrames;
    const s = await connect();
    const t0 = Date.now();
    s.on('error', () => {});
    await attack(s);
    await Promise.race([closed(s), new Promise((_, rej) => setTimeout(() => rej(new Error('not cut off')), maxMs))]);
    assert.equal(b.stats().badFrames, bad + 1);
    // The legitimate peer still gets through.
    const seen = rb.messages.length;
    await waitFor(() => rb.messages.length > seen + 2, 'legitimate traffic after the attack');
    return Date.now() - t0;
  }

  it('garbage', async () => {
    const ms = await expectCutOff((s) => void s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.ok(ms < 250, `cut off after ${ms} ms`);
  });

  it('a huge declared length', async () => void await expectCutOff((s) => void s.write(withHeader(batchFrame(), (h) => h.writeUInt32BE(0xfffffff0, 8)))));

  it('another wire version', async () => void await expectCutOff((s) => void s.write(withHeader(batchFrame(), (h) => (h[4] = 9)))));

  it('a bad payload checksum', async () => void await expectCutOff((s) => {
    const f = batchFrame();
    f[f.length - 1] = f[f.length - 1]! ^ 1;
    s.write(f);
  }));

  it('a bad header checksum', async () => void await expectCutOff((s) => {
    const f = batchFrame();
    f[17] = f[17]! ^ 1;
    s.write(f);
  }));

  it('a wrong deployment id', async () => void await expectCutOff((s) => void s.write(batchFrame(7))));

  it('a host-local message kind', async () => void await expectCutOff((s) => void s.write(batchFrame(DEPLOYMENT, MessageType.LocalTick))));

  it('a partial frame, then silence', async () => {
    const ms = await expectCutOff((s) => void s.write(batchFrame().subarray(0, 30)));
    assert.ok(ms >= 250, `cut off after ${ms} ms`);
  });

  it('a connection that never sends', async () => void await expectCutOff(() => {}));

  it('a slowloris trickle of a valid frame', async () => {
    const f = batchFrame();
    let stop = false;
    const ms = await expectCutOff(async (s) => {
      s.once('close', () => (stop = true));
      for (let i = 0; i < f.length && !stop; i++) {
        s.write(f.subarray(i, i + 1));
        await new Promise((r) => setTimeout(r, 25));
      }
    }, 3000);
    assert.ok(ms < f.length * 25, 'cut off before the frame completed');
  });

  it('a frame of the wrong kind first', async () => void await expectCutOff((s) => void s.write(encodeFrame(FrameKind.SnapshotChunk, Buffer.from([0, 0, 1])))));

  it('a corrupted snapshot chunk is rejected and reported as failed', async () => {
    const snap = { ...emptySnapshot(1), index: 10, filepath: '/remote/snapshot.data' };
    const header = encodeSnapshotHeader({
      deploymentId: DEPLOYMENT, sourceAddress: 'evil:1', hasDataFile: true, fileSizes: [8],
      message: message({ type: MessageType.InstallSnapshot, shardId: 1, from: 3, to: 2, snapshot: snap }),
    });
    const chunk = Buffer.alloc(32);
    const n = writeChunkPrefix(chunk, 0, 0, 0);
    const frame = encodeFrame(FrameKind.SnapshotChunk, chunk.subarray(0, n + 8));
    frame[frame.length - 2] = frame[frame.length - 2]! ^ 0xff;
    const failed = rb.failedSnapshots.length;
    await expectCutOff((s) => void s.write(Buffer.concat([encodeFrame(FrameKind.SnapshotHeader, header), frame])));
    await waitFor(() => rb.failedSnapshots.length === failed + 1, 'snapshot failed');
    assert.equal(rb.completed.length, 0);
  });

  it('a corrupted snapshot chunk after the header (taken in pieces, its checksum checked by the stream) is rejected too', async () => {
    const snap = { ...emptySnapshot(1), index: 12, filepath: '/remote/snapshot.data' };
    const header = encodeSnapshotHeader({
      deploymentId: DEPLOYMENT, sourceAddress: 'evil:1', hasDataFile: true, fileSizes: [100_000],
      message: message({ type: MessageType.InstallSnapshot, shardId: 1, from: 3, to: 2, snapshot: snap }),
    });
    const chunk = Buffer.alloc(100_016, 7);
    const n = writeChunkPrefix(chunk, 0, 0, 0);
    const frame = encodeFrame(FrameKind.SnapshotChunk, chunk.subarray(0, n + 100_000));
    frame[frame.length - 50_000] = frame[frame.length - 50_000]! ^ 0x01;
    const failed = rb.failedSnapshots.length;
    await expectCutOff(async (s) => {
      s.write(encodeFrame(FrameKind.SnapshotHeader, header));
      await new Promise((r) => setTimeout(r, 50));
      // In pieces, so the receiver sees the frame across several reads.
      for (let at = 0; at < frame.length; at += 16_384) {
        s.write(frame.subarray(at, at + 16_384));
        await new Promise((r) => setImmediate(r));
      }
    });
    await waitFor(() => rb.failedSnapshots.length === failed + 1, 'snapshot failed');
    assert.match(rb.failedSnapshots.at(-1)!.message, /frame payload checksum mismatch/);
    assert.equal(rb.completed.length, 0);
  });

  it('a stalled snapshot stream times out, and a second concurrent stream is refused', async () => {
    const snap = { ...emptySnapshot(1), index: 11, filepath: '/remote/snapshot.data' };
    const header = encodeFrame(FrameKind.SnapshotHeader, encodeSnapshotHeader({
      deploymentId: DEPLOYMENT, sourceAddress: 'evil:1', hasDataFile: true, fileSizes: [8],
      message: message({ type: MessageType.InstallSnapshot, shardId: 1, from: 3, to: 2, snapshot: snap }),
    }));
    const failed = rb.failedSnapshots.length;
    const s1 = await connect();
    s1.write(header);
    await new Promise((r) => setTimeout(r, 50));
    const s2 = await connect();
    const verdict = new Promise<{ ok: boolean; reason: string }>((resolve) => {
      const d = new FrameDecoder(1024);
      s2.on('data', (c: Buffer) => d.push(c).forEach((f) => resolve(decodeAck(f.payload))));
    });
    s2.write(header);
    const v = await verdict;
    assert.equal(v.ok, false);
    assert.match(v.reason, /busy/);
    await closed(s1);
    await waitFor(() => rb.failedSnapshots.length === failed + 1, 'stalled stream failed');
  });
});
