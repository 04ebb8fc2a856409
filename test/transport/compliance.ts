// The transport compliance suite: every Transport implementation must pass it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { MessageType, emptySnapshot, message } from '../../src/core/types.js';
import type { Transport } from '../../src/contracts/transport.js';
import { Recorder, arbMessage, norm, heartbeat, replicate, tempDir, waitFor } from './helpers.js';

/** How the suite makes hosts of one implementation. */
export interface TransportFactory {
  readonly name: string;
  /** A started transport whose upcalls go to `handler`. */
  create(handler: Recorder, options?: { maxSendQueue?: number }): Promise<Transport>;
  /** An address at which no host answers. */
  deadAddress(): Promise<string>;
}

/** Registers the compliance tests for `f`. */
export function transportCompliance(f: TransportFactory): void {
  describe(`${f.name}: transport compliance`, () => {
    const opened: Transport[] = [];
    after(async () => {
      await Promise.all(opened.map((t) => t.close()));
    });
    const host = async (options?: { maxSendQueue?: number }): Promise<{ t: Transport; rec: Recorder }> => {
      const rec = new Recorder();
      const t = await f.create(rec, options);
      opened.push(t);
      return { t, rec };
    };

    it('delivers messages with every field intact', async () => {
      const a = await host();
      const b = await host();
      const msgs = fc.sample(arbMessage, { numRuns: 40, seed: 7 }).map((m) => ({ ...m, shardId: 1, to: 2 }));
      a.t.setAddress(1, 2, b.t.address);
      for (const m of msgs) assert.equal(a.t.send(m), true);
      await waitFor(() => b.rec.messages.length === msgs.length, 'all messages');
      assert.deepStrictEqual(norm(b.rec.messages), norm(msgs));
      assert.equal(b.rec.batches[0]!.sourceAddress, a.t.address);
    });

    it('sends messages queued in one turn as one batch, in order, for many shards', async () => {
      const a = await host();
      const b = await host();
      for (let s = 1; s <= 10; s++) a.t.setAddress(s, 2, b.t.address);
      for (let i = 0; i < 100; i++) a.t.send(heartbeat(1 + (i % 10), 1, 2, i));
      await waitFor(() => b.rec.messages.length === 100, '100 messages');
      assert.equal(b.rec.batches.length, 1);
      assert.deepEqual(b.rec.messages.map((m) => m.hint), [...Array(100).keys()]);
      assert.equal(a.t.stats().messagesSent, 100);
      assert.equal(b.t.stats().messagesReceived, 100);
    });

    it('exchanges messages among three hosts both ways', async () => {
      const hs = [await host(), await host(), await host()];
      for (const x of hs) hs.forEach((y, i) => x.t.setAddress(5, i + 1, y.t.address));
      for (let round = 0; round < 20; round++) {
        hs.forEach((x, i) => hs.forEach((_, j) => i !== j && x.t.send(replicate(5, i + 1, j + 1, 2, 32, round + 1))));
        await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => hs.every((x) => x.rec.messages.length === 40), 'every host got 40');
      for (const [i, x] of hs.entries()) assert.ok(x.rec.messages.every((m) => m.to === i + 1));
    });

    it('drops without an address, and after removeAddress', async () => {
      const a = await host();
      const b = await host();
      assert.equal(a.t.send(heartbeat(1, 1, 9)), false);
      a.t.setAddress(1, 2, b.t.address);
      assert.equal(a.t.send(heartbeat(1, 1, 2)), true);
      a.t.removeAddress(1, 2);
      assert.equal(a.t.send(heartbeat(1, 1, 2)), false);
      assert.equal(a.t.sendSnapshot(message({ type: MessageType.InstallSnapshot, shardId: 1, to: 2, snapshot: emptySnapshot(1) })), false);
      assert.ok(a.t.stats().messagesDropped >= 2);
    });

    it('reports Unreachable for a dead host once, and refuses further sends cheaply', async () => {
      const a = await host();
      a.t.setAddress(3, 7, await f.deadAddress());
      a.t.send(heartbeat(3, 1, 7));
      await waitFor(() => a.rec.unreachable.length > 0, 'unreachable');
      assert.deepEqual(a.rec.unreachable[0], [3, 7]);
      const t0 = performance.now();
      let accepted = 0;
      for (let i = 0; i < 20000; i++) if (a.t.send(heartbeat(3, 1, 7))) accepted++;
      assert.ok(performance.now() - t0 < 500, 'a dead host must be cheap');
      assert.ok(accepted <= 8192);
      assert.ok(a.rec.unreachable.length <= 3, `reported ${a.rec.unreachable.length} times`);
    });

    it('bounds the send queue and counts drops', async () => {
      const a = await host({ maxSendQueue: 10 });
      const b = await host();
      a.t.setAddress(1, 2, b.t.address);
      let accepted = 0;
      for (let i = 0; i < 100; i++) if (a.t.send(heartbeat(1, 1, 2, i))) accepted++;
      assert.equal(accepted, 10);
      assert.ok(a.t.stats().messagesDropped >= 90);
      await waitFor(() => b.rec.messages.length === 10, '10 delivered');
    });

    it('streams a snapshot with its external files and reports success', async () => {
      const a = await host();
      const b = await host();
      a.t.setAddress(4, 2, b.t.address);
      const dir = tempDir();
      const data = Buffer.alloc(300_000).map((_, i) => (i * 31) & 0xff);
      const files = { data: path.join(dir, 'snapshot.data'), x1: path.join(dir, 'x1'), x2: path.join(dir, 'empty') };
      writeFileSync(files.data, data);
      writeFileSync(files.x1, 'external one');
      writeFileSync(files.x2, '');
      const snap = {
        ...emptySnapshot(4), index: 100, term: 3, filepath: files.data, fileSize: data.length,
        files: [{ fileId: 1, filepath: files.x1, fileSize: 12, metadata: new Uint8Array([1]) },
          { fileId: 2, filepath: files.x2, fileSize: 0, metadata: new Uint8Array(0) }],
      };
      assert.equal(a.t.sendSnapshot(message({ type: MessageType.InstallSnapshot, shardId: 4, from: 1, to: 2, term: 3, snapshot: snap })), true);
      await waitFor(() => a.rec.snapshotStatus.length === 1 && b.rec.completed.length === 1, 'snapshot done', 10000);
      assert.deepEqual(a.rec.snapshotStatus[0], { shardId: 4, replicaId: 2, failed: false });
      const got = b.rec.completed[0]!.snapshot!;
      assert.equal(got.index, 100);
      assert.ok(got.filepath.startsWith(b.rec.snapshotRoot));
      assert.deepEqual(readFileSync(got.filepath), data);
      assert.equal(readFileSync(got.files[0]!.filepath, 'utf8'), 'external one');
      assert.equal(readFileSync(got.files[1]!.filepath).length, 0);
    });

    it('reports a failed snapshot when a file is missing', async () => {
      const a = await host();
      const b = await host();
      a.t.setAddress(4, 2, b.t.address);
      const snap = { ...emptySnapshot(4), index: 5, filepath: path.join(tempDir(), 'missing') };
      assert.equal(a.t.sendSnapshot(message({ type: MessageType.InstallSnapshot, shardId: 4, from: 1, to: 2, snapshot: snap })), true);
      await waitFor(() => a.rec.snapshotStatus.length === 1, 'snapshot status');
      assert.equal(a.rec.snapshotStatus[0]!.failed, true);
      assert.equal(b.rec.completed.length, 0);
    });

    it('refuses everything after close; close is idempotent', async () => {
      const a = await host();
      const b = await host();
      a.t.setAddress(1, 2, b.t.address);
      await a.t.close();
      await a.t.close();
      assert.equal(a.t.send(heartbeat(1, 1, 2)), false);
      await assert.rejects(a.t.start());
    });
  });
}
