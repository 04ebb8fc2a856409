// Shared test helpers: a recording TransportHandler, a bounded wait, and message generators.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { Entry, Message, SnapshotMeta } from '../../src/core/types.js';
import { EntryType, MessageType, StateMachineType, entry, message } from '../../src/core/types.js';
import type { MessageBatch } from '../../src/contracts/message-batch.js';
import type { TransportHandler } from '../../src/contracts/transport.js';

export function tempDir(prefix = 'sampan-transport-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Polls `cond` every 5 ms; rejects after `timeoutMs` with `what` in the message. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A TransportHandler that records every upcall. */
export class Recorder implements TransportHandler {
  readonly batches: MessageBatch[] = [];
  readonly unreachable: Array<[number, number]> = [];
  readonly snapshotStatus: Array<{ shardId: number; replicaId: number; failed: boolean }> = [];
  readonly completed: Message[] = [];
  readonly failedSnapshots: Error[] = [];
  readonly snapshotRoot: string;

  constructor() {
    this.snapshotRoot = tempDir('sampan-snap-recv-');
  }

  get messages(): Message[] {
    return this.batches.flatMap((b) => b.messages);
  }

  handleMessageBatch(batch: MessageBatch): void {
    this.batches.push(batch);
  }
  handleUnreachable(shardId: number, replicaId: number): void {
    this.unreachable.push([shardId, replicaId]);
  }
  handleSnapshotStatus(shardId: number, replicaId: number, failed: boolean): void {
    this.snapshotStatus.push({ shardId, replicaId, failed });
  }
  readonly snapshotReceiver = {
    tempDir: (meta: SnapshotMeta, from: number): string => path.join(this.snapshotRoot, `s${meta.shardId}-i${meta.index}-f${from}`),
    complete: (m: Message): void => {
      this.completed.push(m);
    },
    failed: (_m: Message, err: Error): void => {
      this.failedSnapshots.push(err);
    },
  };
}

const safe = fc.oneof(fc.nat(300), fc.maxSafeNat());
const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });

export const arbEntry: fc.Arbitrary<Entry> = fc.record({
  term: safe, index: safe, type: fc.constantFrom(...Object.values(EntryType)), key: safe, clientId: safe,
  seriesId: safe, respondedTo: safe, cmd: bytes(64),
});

const addrMap = fc.array(fc.tuple(safe, fc.string({ maxLength: 20 })), { maxLength: 4 }).map((xs) => new Map(xs));

export const arbSnapshot: fc.Arbitrary<SnapshotMeta> = fc.record({
  shardId: safe, index: safe, term: safe,
  membership: fc.record({
    configChangeId: safe, voters: addrMap, nonVoting: addrMap, witnesses: addrMap,
    removed: fc.array(safe, { maxLength: 4 }).map((xs) => new Set(xs)),
  }),
  filepath: fc.string({ maxLength: 40 }), fileSize: safe, checksum: bytes(32),
  type: fc.constantFrom(...Object.values(StateMachineType)),
  files: fc.array(fc.record({ fileId: safe, filepath: fc.string({ maxLength: 30 }), fileSize: safe, metadata: bytes(16) }), { maxLength: 3 }),
  dummy: fc.boolean(), witness: fc.boolean(), onDiskIndex: safe, imported: fc.boolean(),
});

export const arbMessage: fc.Arbitrary<Message> = fc.record({
  type: fc.constantFrom(...Object.values(MessageType).filter((t) => t >= 16)),
  shardId: safe, from: safe, to: safe, term: safe, logTerm: safe, logIndex: safe, commit: safe,
  reject: fc.boolean(), hint: safe, hintHigh: safe,
  entries: fc.array(arbEntry, { maxLength: 5 }),
  snapshot: fc.option(arbSnapshot, { nil: null }),
});

/** A Replicate message with `n` entries of `size` bytes. */
export function replicate(shardId: number, from: number, to: number, n = 1, size = 16, base = 1): Message {
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) entries.push(entry({ term: 1, index: base + i, cmd: new Uint8Array(size).fill(i & 0xff) }));
  return message({ type: MessageType.Replicate, shardId, from, to, term: 1, logIndex: base - 1, commit: base, entries });
}

export function heartbeat(shardId: number, from: number, to: number, hint = 0): Message {
  return message({ type: MessageType.Heartbeat, shardId, from, to, term: 1, hint });
}

/** Plain comparable form: byte arrays of any class as number arrays, maps and sets as arrays, null prototypes dropped. */
export function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (v instanceof Map) return [...v].map(norm);
  if (v instanceof Set) return [...v].map(norm);
  if (Array.isArray(v)) return v.map(norm);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

/** An address on loopback where nothing listens (a port just bound and released). */
export async function deadLoopbackAddress(): Promise<string> {
  const net = await import('node:net');
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `127.0.0.1:${port}`;
}
