// Snapshot streams over real TCP (issue 19): per-host send and receive rate limits, each file's
// CRC compared at the end (an older sender's empty end frame still completes, unverified), the
// receiver writing behind the socket up to a byte bound, and send queues bounded in bytes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { MessageType, emptySnapshot, message, type Message } from '../../src/core/types.js';
import type { StreamVerification } from '../../src/contracts/transport.js';
import { crc32 } from '../../src/encoding/crc32.js';
import { messageSizeBound } from '../../src/transport/codec.js';
import { encodeFrame, FrameKind, type Frame } from '../../src/transport/frame.js';
import { MemoryNetwork } from '../../src/transport/memory-network.js';
import { decodeSnapshotEnd, encodeSnapshotEnd, encodeSnapshotHeader, writeChunkPrefix } from '../../src/transport/snapshot-protocol.js';
import { byteCount } from '../../src/cli/args.js';
import { SnapshotReceiveSession } from '../../src/transport/snapshot-receive.js';
import { parseAddress } from '../../src/transport/tcp-options.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import type { TcpTransportOptions } from '../../src/transport/tcp-options.js';
import { emptyStats } from '../../src/transport/transport.js';
import { noopLogger } from '../../src/logger.js';
import { realRuntime } from '../../src/runtime/index.js';
import { Recorder, replicate, tempDir, waitFor } from './helpers.js';

const DEPLOYMENT = 7;

/** A recorder that also keeps what each completed stream says about its verification. */
class VerifyingRecorder extends Recorder {
  readonly verified: (StreamVerification | undefined)[] = [];
  override readonly snapshotReceiver = {
    tempDir: (meta: { shardId: number; index: number }, from: number): string => path.join(this.snapshotRoot, `s${meta.shardId}-i${meta.index}-f${from}`),
    complete: (m: Message, v?: StreamVerification): void => {
      this.completed.push(m);
      this.verified.push(v);
    },
    failed: (_m: Message, err: Error): void => {
      this.failedSnapshots.push(err);
    },
  };
}

void describe('snapshot streams: limits, checks, bounded queues', () => {
  const opened: TcpTransport[] = [];
  after(async () => {
    await Promise.all(opened.map((t) => t.close()));
  });
  const host = async (rec: Recorder, o: Partial<TcpTransportOptions> = {}): Promise<TcpTransport> => {
    const t = new TcpTransport({ deploymentId: DEPLOYMENT, listenAddress: '127.0.0.1:0', handler: rec, random: new SeededRandom(3), ...o });
    opened.push(t);
    await t.start();
    return t;
  };

  /** Streams a 6 MB data file and a small external file from a to b; returns the seconds it took. */
  async function stream6mb(sendRate: number, recvRate: number): Promise<number> {
    const ra = new VerifyingRecorder();
    const rb = new VerifyingRecorder();
    const a = await host(ra, { snapshotSendBytesPerSecond: sendRate });
    const b = await host(rb, { snapshotRecvBytesPerSecond: recvRate });
    a.setAddress(4, 2, b.address);
    const dir = tempDir();
    const data = Buffer.alloc(6_000_000).map((_, i) => (i * 7 + (i >> 13)) & 0xff);
    const dataPath = path.join(dir, 'snapshot.data');
    const extPath = path.join(dir, 'x1');
    writeFileSync(dataPath, data);
    writeFileSync(extPath, 'external one');
    const snap = {
      ...emptySnapshot(4), index: 100, term: 3, filepath: dataPath, fileSize: data.length,
      files: [{ fileId: 1, filepath: extPath, fileSize: 12, metadata: new Uint8Array(0) }],
    };
    const t0 = performance.now();
    assert.equal(a.sendSnapshot(message({ type: MessageType.InstallSnapshot, shardId: 4, from: 1, to: 2, term: 3, snapshot: snap })), true);
    await waitFor(() => ra.snapshotStatus.length === 1 && rb.completed.length === 1, 'snapshot done', 20000);
    const secs = (performance.now() - t0) / 1000;
    assert.deepEqual(ra.snapshotStatus[0], { shardId: 4, replicaId: 2, failed: false });
    const got = rb.completed[0]!.snapshot!;
    assert.ok(readFileSync(got.filepath).equals(data), 'data file intact');
    assert.equal(readFileSync(got.files[0]!.filepath, 'utf8'), 'external one');
    assert.deepEqual(rb.verified[0], { crcs: [crc32(data), crc32(Buffer.from('external one'))] });
    return secs;
  }

  void it('a 2 MB/s send limit: a 6 MB snapshot takes at least 2.5 s and arrives intact, its CRCs verified', async () => {
    const secs = await stream6mb(2_000_000, 0);
    assert.ok(secs >= 2.5, `took ${secs.toFixed(2)} s`);
  });

  void it('a 2 MB/s receive limit (pausing the socket): a 6 MB snapshot takes at least 2.5 s and arrives intact', async () => {
    const secs = await stream6mb(0, 2_000_000);
    assert.ok(secs >= 2.5, `took ${secs.toFixed(2)} s`);
  });

  /** Opens a raw snapshot stream to `to` for one 8-byte data file and sends its chunk and `end`. */
  async function rawStream(to: string, index: number, end: Buffer): Promise<void> {
    const snap = { ...emptySnapshot(1), index, filepath: '/remote/snapshot.data' };
    const header = encodeSnapshotHeader({
      deploymentId: DEPLOYMENT, sourceAddress: 'peer:1', hasDataFile: true, fileSizes: [8],
      message: message({ type: MessageType.InstallSnapshot, shardId: 1, from: 3, to: 2, snapshot: snap }),
    });
    const chunk = Buffer.alloc(32);
    const n = writeChunkPrefix(chunk, 0, 0, 0);
    chunk.write('abcdefgh', n, 'latin1');
    const { host: h, port } = parseAddress(to);
    const s = net.connect(port, h);
    s.on('error', () => {});
    s.resume(); // read the acknowledgement, so that the receiver's close is seen
    await new Promise((res) => s.once('connect', res));
    s.write(Buffer.concat([encodeFrame(FrameKind.SnapshotHeader, header), encodeFrame(FrameKind.SnapshotChunk, chunk.subarray(0, n + 8)), encodeFrame(FrameKind.SnapshotEnd, end)]));
    await new Promise((res) => s.once('close', res));
  }

  void it("the end frame's CRCs: a mismatch fails the stream; an empty end frame (an older sender) completes unverified", async () => {
    const rb = new VerifyingRecorder();
    const b = await host(rb);
    await rawStream(b.address, 20, encodeSnapshotEnd([crc32(Buffer.from('abcdefgh')) ^ 1]));
    await waitFor(() => rb.failedSnapshots.length === 1, 'stream failed');
    assert.match(rb.failedSnapshots[0]!.message, /does not match the sender's checksum/);
    assert.equal(rb.completed.length, 0);
    await rawStream(b.address, 21, Buffer.alloc(0));
    await waitFor(() => rb.completed.length === 1, 'stream completed');
    assert.equal(rb.verified[0], undefined);
    assert.equal(readFileSync(rb.completed[0]!.snapshot!.filepath, 'latin1'), 'abcdefgh');
    await rawStream(b.address, 22, encodeSnapshotEnd([crc32(Buffer.from('abcdefgh'))]));
    await waitFor(() => rb.completed.length === 2, 'stream completed');
    assert.deepEqual(rb.verified[1], { crcs: [crc32(Buffer.from('abcdefgh'))] });
  });

  void it("the end frame's payload: version 1, a count, big-endian CRCs; empty (an older sender) decodes as none", () => {
    const b = encodeSnapshotEnd([0x01020304, 0xfffffffe]);
    assert.deepEqual([...b], [1, 2, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xfe]);
    assert.deepEqual(decodeSnapshotEnd(b), [0x01020304, 0xfffffffe]);
    assert.equal(decodeSnapshotEnd(Buffer.alloc(0)), null);
    assert.throws(() => decodeSnapshotEnd(Buffer.from([2, 0])), /unsupported snapshot end version/);
  });

  void it('sampan kv byte counts for the rate flags: plain, decimal and binary units', () => {
    assert.equal(byteCount('2000000'), 2_000_000);
    assert.equal(byteCount('20mb'), 20_000_000);
    assert.equal(byteCount('16MiB'), 16 * 1024 * 1024);
    assert.equal(byteCount('0'), 0);
    assert.throws(() => byteCount('fast'), /byte count/);
    assert.throws(() => byteCount('-1'), /byte count/);
  });

  /** A receive session on a fake socket that records pause/resume; returns the session and the log. */
  function session(maxQueueBytes: number, chunks: number, chunkBytes: number): { s: SnapshotReceiveSession; log: string[]; rec: VerifyingRecorder } {
    const log: string[] = [];
    const socket = {
      destroyed: false, pause: () => { log.push('pause'); }, resume: () => { log.push('resume'); },
      end: () => {}, destroy: () => {},
    } as unknown as net.Socket;
    const rec = new VerifyingRecorder();
    const snap = { ...emptySnapshot(1), index: 30, filepath: '/remote/snapshot.data' };
    const header = {
      deploymentId: DEPLOYMENT, sourceAddress: 'peer:1', hasDataFile: true, fileSizes: [chunks * chunkBytes],
      message: message({ type: MessageType.InstallSnapshot, shardId: 1, from: 3, to: 2, snapshot: snap }),
    };
    const s = new SnapshotReceiveSession(socket, {
      stats: emptyStats(), logger: noopLogger, receiver: rec.snapshotReceiver, chunkTimeoutMs: 10000, maxQueueBytes, runtime: realRuntime,
    }, header, () => {});
    return { s, log, rec };
  }

  function chunkFrame(offset: number, bytes: number): Frame {
    const payload = Buffer.alloc(16 + bytes, offset & 0xff);
    const n = writeChunkPrefix(payload, 0, 0, offset);
    return { kind: FrameKind.SnapshotChunk, payload: payload.subarray(0, n + bytes) };
  }

  void it('the receiver writes behind the socket: it reads on while writes are pending, and pauses only past the byte bound', async () => {
    const CH = 256 * 1024;
    // A generous bound: eight chunks arrive while the writes are pending, and the socket never pauses.
    const wide = session(64 * 1024 * 1024, 8, CH);
    for (let i = 0; i < 8; i++) wide.s.onFrame(chunkFrame(i * CH, CH));
    assert.ok(!wide.log.includes('pause'), `paused: ${wide.log.join(',')}`);
    wide.s.onFrame({ kind: FrameKind.SnapshotEnd, payload: Buffer.alloc(0) });
    await waitFor(() => wide.rec.completed.length === 1, 'wide stream done');
    // A bound of two chunks: the third pauses the socket until the disk catches up, then it resumes.
    const narrow = session(2 * CH, 8, CH);
    for (let i = 0; i < 8; i++) narrow.s.onFrame(chunkFrame(i * CH, CH));
    assert.equal(narrow.log.at(-1), 'pause');
    narrow.s.onFrame({ kind: FrameKind.SnapshotEnd, payload: Buffer.alloc(0) });
    await waitFor(() => narrow.rec.completed.length === 1, 'narrow stream done');
    assert.equal(narrow.log.at(-1), 'resume');
    assert.equal(readFileSync(narrow.rec.completed[0]!.snapshot!.filepath).length, 8 * CH);
  });

  void it('send queues bounded in bytes: TCP and in-memory transports drop and count past maxSendQueueBytes', async () => {
    const big = (i: number): Message => replicate(1, 1, 2, 1, 10_000, i + 1);
    const bound = 10 * messageSizeBound(big(0));
    const ra = new Recorder();
    const rb = new Recorder();
    const a = await host(ra, { maxSendQueueBytes: bound });
    const b = await host(rb);
    a.setAddress(1, 2, b.address);
    let accepted = 0;
    for (let i = 0; i < 100; i++) if (a.send(big(i))) accepted++;
    assert.equal(accepted, 10);
    assert.equal(a.stats().messagesDropped, 90);
    await waitFor(() => rb.messages.length === 10, '10 delivered');
    // The bound frees as the queue is written: later sends are accepted again.
    assert.equal(a.send(big(200)), true);

    const net1 = new MemoryNetwork({ seed: 1 });
    const ma = net1.createTransport({ address: 'a:1', handler: new Recorder(), maxSendQueueBytes: bound });
    const mrec = new Recorder();
    const mb = net1.createTransport({ address: 'b:1', handler: mrec });
    await ma.start();
    await mb.start();
    ma.setAddress(1, 2, 'b:1');
    accepted = 0;
    for (let i = 0; i < 100; i++) if (ma.send(big(i))) accepted++;
    assert.equal(accepted, 10);
    assert.equal(ma.stats().messagesDropped, 90);
    await waitFor(() => mrec.messages.length === 10, '10 delivered in memory');
    await ma.close();
    await mb.close();
  });
});
