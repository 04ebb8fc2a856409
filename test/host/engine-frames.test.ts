/**
 * The engine and the transport's per-host batching (issue 19): on a host that leads one shard
 * and follows another, the answers a LogDB write releases (ReplicateResp, after the write) and
 * the entries the next pass sends (Replicate, before its write) leave in ONE frame per remote
 * host, not two: the engine queues its next pass before it hands the answers to the transport,
 * so that pass runs first and its flush carries them. Driven with stand-in replicas and a
 * transport that batches as TcpTransport's remote hosts do (a queue per remote, flushed at the
 * end of the turn by `setImmediate` or at once by `flushPending`), so the frame count is exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/host/engine.js';
import { realRuntime } from '../../src/runtime/index.js';
import { noopLogger } from '../../src/logger.js';
import { MessageType, entry, message, type Message } from '../../src/core/types.js';
import type { Update } from '../../src/core/peer.js';
import type { LogDB, ReplicaUpdate } from '../../src/contracts/log-db.js';
import type { Transport } from '../../src/contracts/transport.js';
import type { Replica } from '../../src/host/replica.js';

/** Frames per remote address, batched per turn as RemoteHost does. */
class BatchingTransport {
  readonly frames: Message[][] = [];
  private queue: Message[] = [];
  private scheduled = false;

  send(m: Message): boolean {
    this.queue.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => { this.scheduled = false; this.flushPending(); });
    }
    return true;
  }

  flushPending(): void {
    if (this.queue.length === 0) return;
    this.frames.push(this.queue);
    this.queue = [];
  }
}

function update(shardId: number, messages: Message[], entriesToSave = 0): Update {
  return {
    shardId, replicaId: 1, hardState: null, snapshot: null, messages,
    entriesToSave: Array.from({ length: entriesToSave }, (_, i) => entry({ term: 1, index: i + 1 })),
    committedEntries: [], readyToReads: [], droppedEntries: [], droppedReads: [], softState: null,
  };
}

/** A replica stand-in whose core hands out the updates queued in `next`. */
function standIn(onPersist: () => void = () => {}): Replica & { next: Update[] } {
  const next: Update[] = [];
  const r = {
    next, stopped: false, failure: null,
    peer: { hasUpdate: () => next.length > 0, getUpdate: () => next.shift() as Update },
    handleEvents: () => {},
    committedLocalProposal: () => false,
    applyBeforePersist: () => {},
    afterPersist: () => onPersist(),
  };
  return r as unknown as Replica & { next: Update[] };
}

test('answers released by a LogDB write and the next pass\'s entries to the same host leave in one frame', async () => {
  const t = new BatchingTransport();
  const writes: Array<() => void> = [];
  const logdb = { saveUpdates: (_u: readonly ReplicaUpdate[]) => new Promise<void>((res) => { writes.push(res); }) } as unknown as LogDB;
  const engine: Engine = new Engine(logdb, t as unknown as Transport, noopLogger, (e) => { throw e; }, () => false, realRuntime);
  try {
    // Shard 2 is led here: its next proposals become ready when shard 1's write completes
    // (as a client whose answer that write releases proposes again).
    const leader = standIn();
    const follower = standIn(() => {
      leader.next.push(update(2, [message({ type: MessageType.Replicate, shardId: 2, to: 2, entries: [entry({ term: 1, index: 5 })] })], 1));
      engine.setReady(leader);
    });
    // The follower of shard 1 saves entries; its answer waits for the write.
    follower.next.push(update(1, [message({ type: MessageType.ReplicateResp, shardId: 1, to: 2, logIndex: 3 })], 3));
    engine.setReady(follower);
    await new Promise((r) => setImmediate(r));
    assert.equal(writes.length, 1, 'the follower\'s write was taken');
    assert.equal(t.frames.length, 0, 'its answer waits for the write');
    (writes.shift() as () => void)();
    // The write completes; the answer and the leader's new entries go out.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    const kinds = t.frames.map((f) => f.map((m) => m.type));
    assert.deepEqual(kinds, [[MessageType.ReplicateResp, MessageType.Replicate]], `frames: ${JSON.stringify(kinds)}`);
  } finally {
    for (const w of writes) w();
    engine.close();
  }
});
