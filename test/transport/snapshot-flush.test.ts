// The receiving end of a snapshot stream flushes a large file in the background as it arrives
// (issue 19): the disk writes while the stream goes on, not all at the final sync; a failed
// background flush fails the stream with a StorageError.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { MessageType, emptySnapshot, message, type Message } from '../../src/core/types.js';
import { StorageError } from '../../src/errors.js';
import { FaultFileSystem } from '../../src/runtime/fault-fs.js';
import { realFileSystem, realRuntime, type FileHandle, type FileSystem } from '../../src/runtime/index.js';
import { FLUSH_EVERY_BYTES } from '../../src/transport/snapshot-receive.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { Recorder, tempDir, waitFor } from './helpers.js';

/** The real file system, recording when each file's data is synced and how much of it was written by then. */
function recordingFs(log: Array<{ call: 'datasync' | 'sync'; written: number }>): FileSystem {
  const wrap = (h: FileHandle): FileHandle => {
    let written = 0;
    return new Proxy(h, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        if (prop === 'writev' || prop === 'write') {
          return async (...a: unknown[]) => {
            const r = await (v as (...x: unknown[]) => Promise<{ bytesWritten: number }>).apply(target, a);
            written += r.bytesWritten;
            return r;
          };
        }
        if (prop === 'datasync' || prop === 'sync') {
          return () => {
            log.push({ call: prop, written });
            return (v as () => Promise<void>).apply(target);
          };
        }
        return (v as (...x: unknown[]) => unknown).bind(target);
      },
    });
  };
  const promises = new Proxy(realFileSystem.promises, {
    get(target, prop, receiver) {
      if (prop !== 'open') return Reflect.get(target, prop, receiver) as unknown;
      return async (p: string, flags: string, mode?: number) => wrap(await target.open(p, flags, mode));
    },
  });
  return new Proxy(realFileSystem, { get: (t, prop, r) => (prop === 'promises' ? promises : Reflect.get(t, prop, r) as unknown) });
}

function installSnapshot(index: number, bytes: number): Message {
  const dir = tempDir();
  const dataPath = path.join(dir, 'snapshot.data');
  writeFileSync(dataPath, Buffer.alloc(bytes).map((_, i) => (i * 7 + (i >> 12)) & 0xff));
  const snap = { ...emptySnapshot(4), index, term: 3, filepath: dataPath, fileSize: bytes };
  return message({ type: MessageType.InstallSnapshot, shardId: 4, from: 1, to: 2, term: 3, snapshot: snap });
}

void describe('snapshot stream: background flushes', () => {
  const opened: TcpTransport[] = [];
  after(async () => {
    await Promise.all(opened.map((t) => t.close()));
  });
  async function pair(fs: FileSystem): Promise<{ a: TcpTransport; ra: Recorder; rb: Recorder }> {
    const ra = new Recorder();
    const rb = new Recorder();
    const a = new TcpTransport({ deploymentId: 1, listenAddress: '127.0.0.1:0', handler: ra, random: new SeededRandom(3) });
    const b = new TcpTransport({ deploymentId: 1, listenAddress: '127.0.0.1:0', handler: rb, random: new SeededRandom(4), runtime: { ...realRuntime, fs } });
    opened.push(a, b);
    await a.start();
    await b.start();
    a.setAddress(4, 2, b.address);
    return { a, ra, rb };
  }

  void it('a file of 2.5 flush intervals is flushed twice while it arrives, then synced at its end', async () => {
    const log: Array<{ call: 'datasync' | 'sync'; written: number }> = [];
    const { a, ra, rb } = await pair(recordingFs(log));
    const size = Math.floor(2.5 * FLUSH_EVERY_BYTES);
    assert.equal(a.sendSnapshot(installSnapshot(100, size)), true);
    await waitFor(() => ra.snapshotStatus.length === 1, 'stream done', 30_000);
    assert.deepEqual(ra.snapshotStatus[0], { shardId: 4, replicaId: 2, failed: false });
    assert.equal(rb.completed.length, 1);
    const flushes = log.filter((e) => e.call === 'datasync');
    assert.equal(flushes.length, 2, `background flushes: ${JSON.stringify(log)}`);
    assert.ok(flushes.every((e) => e.written >= FLUSH_EVERY_BYTES && e.written < size), `while the file arrived: ${JSON.stringify(log)}`);
    assert.deepEqual(log.at(-1), { call: 'sync', written: size }, 'the final sync after the last byte');
  });

  void it('a failed background flush fails the stream with a StorageError', async () => {
    const ffs = new FaultFileSystem(realFileSystem);
    ffs.fail({ ops: ['fdatasync'], errno: 'EIO' });
    const { a, ra, rb } = await pair(ffs);
    assert.equal(a.sendSnapshot(installSnapshot(101, FLUSH_EVERY_BYTES + 1_000_000)), true);
    await waitFor(() => ra.snapshotStatus.length === 1 && rb.failedSnapshots.length === 1, 'stream failed', 30_000);
    assert.deepEqual(ra.snapshotStatus[0], { shardId: 4, replicaId: 2, failed: true });
    assert.ok(rb.failedSnapshots[0] instanceof StorageError, String(rb.failedSnapshots[0]));
    assert.match(rb.failedSnapshots[0].message, /fdatasync .*EIO/);
    assert.equal(rb.completed.length, 0);
  });
});
