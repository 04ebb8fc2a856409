/**
 * `node dist/bench/identity-cost.js`: what the cluster identity costs on the message path, in
 * isolation: encoding and decoding a typical batch (a Replicate of 64 16-byte entries and two
 * heartbeats) with and without per-message identities, and the receive-side check
 * (`ClusterIdentityGuard.admit`) per message. Prints ns per batch and per message; compare
 * with the messages per second a host sends (`bench/profile-library.js` prints them).
 */
import { ClusterIdentityGuard, type IdentityReplica } from '../src/host/cluster-identity.js';
import { MessageType, entry, message, type Message } from '../src/core/types.js';
import { Writer } from '../src/encoding/writer.js';
import { decodeBatch, encodeBatch } from '../src/transport/codec.js';
import type { MessageBatch } from '../src/contracts/message-batch.js';
import { noopLogger } from '../src/logger.js';

const cmd = new Uint8Array(16);
const messages: Message[] = [
  message({ type: MessageType.Replicate, shardId: 1, from: 1, to: 2, term: 3, logTerm: 3, logIndex: 1000, commit: 990,
    entries: Array.from({ length: 64 }, (_, i) => entry({ term: 3, index: 1001 + i, key: 8 * (123456 + i), cmd })) }),
  message({ type: MessageType.Heartbeat, shardId: 2, from: 1, to: 2, term: 3, commit: 50 }),
  message({ type: MessageType.Heartbeat, shardId: 3, from: 1, to: 2, term: 3, commit: 70 }),
];
const ID = 0xabcdef123456;

function time(label: string, n: number, per: number, fn: () => void): void {
  for (let i = 0; i < n / 10; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${label}: ${ns.toFixed(0)} ns per batch, ${(ns / per).toFixed(0)} ns per message`);
}

const w = new Writer(64 * 1024);
for (const withIds of [false, true, false, true]) {
  const batch: MessageBatch = { deploymentId: 7, sourceAddress: '127.0.0.1:26001', messages, ...(withIds ? { clusterIds: [ID, ID, ID] } : {}) };
  const bytes = encodeBatch(batch, w);
  time(`encode+decode, ${withIds ? 'with identities   ' : 'without identities'} (${bytes.length} B)`, 100_000, messages.length, () => {
    decodeBatch(encodeBatch(batch, w));
  });
}

const guard = new ClusterIdentityGuard({
  logger: noopLogger, logdb: { getBootstrap: () => null, saveBootstrap: () => Promise.resolve() }, emit: () => {}, notify: () => {},
});
const r: IdentityReplica = { shardId: 1, replicaId: 2, clusterId: ID, identityConflict: null, counters: { identityMismatches: 0 }, rejectAll: () => {} };
let admitted = 0;
time('admit (same identity)', 1_000_000, 1, () => { if (guard.admit(r, messages[1]!, ID, '127.0.0.1:26001')) admitted++; });
if (admitted === 0) throw new Error('nothing admitted');
