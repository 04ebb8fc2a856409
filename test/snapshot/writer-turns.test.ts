/**
 * The snapshot writer yields the event loop (issue 19): a save loop that awaits each `write`
 * and spends time producing every chunk (as a state machine encoding its pairs does) runs in
 * turns of a few milliseconds. Before, `write` returned a settled promise until a second block
 * was sealed, so such a loop ran a whole block (1 MiB: here 64 chunks of 1 ms) in one turn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, stat } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { SNAPSHOT_WRITE_SLICE_MS, SnapshotFileWriter } from '../../src/snapshot/file-writer.js';
import { openSnapshotFile } from '../../src/snapshot/file-reader.js';

/** Busy for `ms`: the cost of producing a chunk. */
function work(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

test('a save loop that awaits write yields every few ms: no turn holds a whole 1 MiB block of 1 ms chunks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-writer-turns-'));
  try {
    const w = await SnapshotFileWriter.create(join(dir, 'snap'), {}, new Uint8Array(0), new Uint8Array(0));
    const chunk = Buffer.alloc(16 * 1024, 7);
    let last = performance.now();
    let turns = 0;
    let longest = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      turns++;
    }, 1);
    try {
      await new Promise((r) => setTimeout(r, 5));
      last = performance.now();
      for (let i = 0; i < 256; i++) {
        work(1);
        await w.write(chunk);
      }
      longest = Math.max(longest, performance.now() - last);
    } finally {
      clearInterval(probe);
    }
    const summary = await w.finish();
    assert.equal(summary.payloadSize, 256 * chunk.length);
    const back = await (await openSnapshotFile(join(dir, 'snap'))).payload.readAll();
    assert.equal(back.length, 256 * chunk.length);
    // 256 ms of chunk work in slices of 4 ms plus one chunk: about 50 turns, the timer running
    // between them (the old writer: 5 or 6, one per block). A loaded machine may stretch a
    // slice (GC, the OS taking the core away), so the longest turn is only checked loosely.
    assert.ok(turns >= 20, `the timer ran between slices (${turns} times)`);
    assert.ok(longest < 150, `longest turn ${longest.toFixed(1)} ms (slice ${SNAPSHOT_WRITE_SLICE_MS} ms)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a slice that ran in the poll phase hands off past the next poll: I/O that arrived meanwhile runs before the next slice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-writer-poll-'));
  // A loopback connection: bytes written to it are readable at the next poll, with no thread
  // pool in between (a file operation's completion could be late on a loaded machine).
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', r));
  const peer = await accepted;
  try {
    const w = await SnapshotFileWriter.create(join(dir, 'snap'), {}, new Uint8Array(0), new Uint8Array(0));
    const chunk = Buffer.alloc(1024, 7);
    // A save that resumes in the poll phase, as one does after a file operation completes.
    const writesBeforeIo = await new Promise<number>((resolve, reject) => {
      stat(dir, () => {
        let writes = 0;
        let io = -1;
        peer.once('data', () => { io = writes; });
        client.write('x');
        void (async () => {
          while (io < 0 && writes < 200) {
            work(1);
            await w.write(chunk);
            writes++;
          }
          resolve(io);
        })().catch(reject);
      });
    });
    await w.finish();
    // One slice of 1 ms chunks is about SNAPSHOT_WRITE_SLICE_MS + 1 writes. With one
    // setImmediate a slice run in the poll phase continued in the same iteration's check
    // phase, and the I/O waited for a second slice.
    assert.ok(writesBeforeIo >= 1 && writesBeforeIo <= SNAPSHOT_WRITE_SLICE_MS + 2,
      `the I/O callback ran after ${writesBeforeIo} writes (one slice is about ${SNAPSHOT_WRITE_SLICE_MS + 1})`);
  } finally {
    client.destroy();
    peer.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
