// When a snapshot stream is acknowledged (issue 19): only once the receiving host's `complete`
// has settled, that is once the follower holds the snapshot, and as refused when it rejects.
// Over real TCP and over the in-memory network.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { MessageType, emptySnapshot, message, type Message } from '../../src/core/types.js';
import type { Transport } from '../../src/contracts/transport.js';
import { MemoryNetwork } from '../../src/transport/memory-network.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { Recorder, tempDir, waitFor } from './helpers.js';

/** A recorder whose `complete` returns a promise the test settles. */
class GatedRecorder extends Recorder {
  private settle: { resolve: () => void; reject: (e: Error) => void } | null = null;
  override readonly snapshotReceiver = {
    tempDir: (meta: { shardId: number; index: number }, from: number): string => path.join(this.snapshotRoot, `s${meta.shardId}-i${meta.index}-f${from}`),
    complete: (m: Message): Promise<void> => {
      this.completed.push(m);
      return new Promise<void>((resolve, reject) => { this.settle = { resolve, reject }; });
    },
    failed: (_m: Message, err: Error): void => {
      this.failedSnapshots.push(err);
    },
  };

  /** Settles the pending `complete`: fulfilled, or rejected with `err`. */
  finish(err?: Error): void {
    const s = this.settle;
    assert.ok(s !== null, 'complete was called');
    this.settle = null;
    if (err === undefined) s.resolve();
    else s.reject(err);
  }
}

function installSnapshot(index: number): Message {
  const dir = tempDir();
  const dataPath = path.join(dir, 'snapshot.data');
  writeFileSync(dataPath, Buffer.alloc(100_000, 7));
  const snap = { ...emptySnapshot(4), index, term: 3, filepath: dataPath, fileSize: 100_000 };
  return message({ type: MessageType.InstallSnapshot, shardId: 4, from: 1, to: 2, term: 3, snapshot: snap });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends two snapshots from a to b: the first is held, then accepted; the second refused. */
async function checkAck(a: Transport, ra: Recorder, rb: GatedRecorder): Promise<void> {
  assert.equal(a.sendSnapshot(installSnapshot(100)), true);
  await waitFor(() => rb.completed.length === 1, 'stream complete at the receiver');
  // The receiver has every byte but its host has not taken the snapshot yet: no status.
  await sleep(200);
  assert.deepEqual(ra.snapshotStatus, [], 'no status while the receiver commits');
  rb.finish();
  await waitFor(() => ra.snapshotStatus.length === 1, 'status after the commit');
  assert.deepEqual(ra.snapshotStatus[0], { shardId: 4, replicaId: 2, failed: false });

  assert.equal(a.sendSnapshot(installSnapshot(101)), true);
  await waitFor(() => rb.completed.length === 2, 'second stream complete at the receiver');
  rb.finish(new Error('snapshot 101 is not newer than the current snapshot 101'));
  await waitFor(() => ra.snapshotStatus.length === 2, 'status after the refusal');
  assert.deepEqual(ra.snapshotStatus[1], { shardId: 4, replicaId: 2, failed: true });
  assert.equal(a.stats().snapshotFailures, 1);
  assert.equal(a.stats().snapshotsSent, 1);
}

void describe('snapshot stream acknowledgement', () => {
  const closing: Transport[] = [];
  after(async () => {
    await Promise.all(closing.map((t) => t.close()));
  });

  void it('TCP: the sender hears success only once the receiving host holds the snapshot, and a refusal as a failure', async () => {
    const ra = new Recorder();
    const rb = new GatedRecorder();
    const a = new TcpTransport({ deploymentId: 1, listenAddress: '127.0.0.1:0', handler: ra, random: new SeededRandom(3) });
    const b = new TcpTransport({ deploymentId: 1, listenAddress: '127.0.0.1:0', handler: rb, random: new SeededRandom(4) });
    closing.push(a, b);
    await a.start();
    await b.start();
    a.setAddress(4, 2, b.address);
    await checkAck(a, ra, rb);
  });

  void it('in memory: the same', async () => {
    const network = new MemoryNetwork({ seed: 1 });
    const ra = new Recorder();
    const rb = new GatedRecorder();
    const a = network.createTransport({ address: 'a:1', handler: ra });
    const b = network.createTransport({ address: 'b:1', handler: rb });
    closing.push(a, b);
    await a.start();
    await b.start();
    a.setAddress(4, 2, 'b:1');
    await checkAck(a, ra, rb);
  });
});
