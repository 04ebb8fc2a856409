/**
 * The shared encoding of a run of entries (`entry-run-cache.ts`): the Replicate of a pass to a
 * second follower copies the bytes of the first's when its entries are the same objects, and
 * the frames are byte for byte those encoded without the cache; any other run is encoded anew.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { EntryType, MessageType, entry, message, type Entry, type Message } from '../../src/core/types.js';
import { BatchFrameEncoder } from '../../src/transport/batch-encoder.js';
import { decodeBatch } from '../../src/transport/codec.js';
import { EntryRunCache, MIN_CACHED_RUN } from '../../src/transport/entry-run-cache.js';
import { FRAME_HEADER_SIZE } from '../../src/transport/frame.js';

function run(n: number, from = 1): Entry[] {
  return Array.from({ length: n }, (_, i) => entry({
    term: 3, index: from + i, type: EntryType.Application, key: 2 ** 50 + from + i, clientId: 0, cmd: new Uint8Array([i, i + 1, i + 2]),
  }));
}

function replicate(to: number, entries: readonly Entry[]): Message {
  return message({ type: MessageType.Replicate, shardId: 1, from: 1, to, term: 3, logTerm: 3, logIndex: 0, commit: 0, entries });
}

const encoder = (runs?: EntryRunCache): BatchFrameEncoder => new BatchFrameEncoder(7, '127.0.0.1:7001', 1 << 20, 8 << 20, () => 0, runs);
const drop = (): void => assert.fail('nothing is dropped');

it('a second follower\'s Replicate of the same entry objects is copied, and its frame is the one encoded without the cache', () => {
  const runs = new EntryRunCache();
  const ents = run(64);
  const toA = encoder(runs).encode([replicate(2, ents)], drop);
  // The other follower's message: another array (as the leader's log slices it), the same objects.
  const toB = encoder(runs).encode([replicate(3, [...ents])], drop);
  assert.equal(runs.hits, 1);
  assert.deepEqual(toB, encoder().encode([replicate(3, ents)], drop), 'byte for byte what the plain encoder writes');
  assert.deepEqual(toA, encoder().encode([replicate(2, ents)], drop));
  const got = decodeBatch(toB[0]!.subarray(FRAME_HEADER_SIZE)).messages[0]!;
  assert.equal(got.to, 3);
  assert.deepEqual(got.entries.map((e) => [e.index, e.key, [...e.cmd]]), ents.map((e) => [e.index, e.key, [...e.cmd]]));
});

it('a run that differs in one object, in length, or is short is encoded anew', () => {
  const runs = new EntryRunCache();
  const ents = run(40);
  encoder(runs).encode([replicate(2, ents)], drop);
  // An equal-looking copy of one entry is another object: no hit, and its own bytes go out.
  const other = [...ents];
  other[17] = { ...ents[17]!, cmd: new Uint8Array([9, 9, 9]) };
  const frames = encoder(runs).encode([replicate(3, other)], drop);
  assert.equal(runs.hits, 0);
  assert.deepEqual([...decodeBatch(frames[0]!.subarray(FRAME_HEADER_SIZE)).messages[0]!.entries[17]!.cmd], [9, 9, 9]);
  // The cache now holds `other`; a prefix of it is another run.
  encoder(runs).encode([replicate(2, other.slice(0, 39))], drop);
  assert.equal(runs.hits, 0);
  // The same array changed in place after it was encoded is another run.
  const reused = run(20, 200);
  encoder(runs).encode([replicate(2, reused)], drop);
  reused[5] = { ...reused[5]!, cmd: new Uint8Array([7]) };
  const again = encoder(runs).encode([replicate(3, reused)], drop);
  assert.equal(runs.hits, 0);
  assert.deepEqual([...decodeBatch(again[0]!.subarray(FRAME_HEADER_SIZE)).messages[0]!.entries[5]!.cmd], [7]);
  // Runs below the threshold are never kept.
  const short = run(MIN_CACHED_RUN - 1, 100);
  encoder(runs).encode([replicate(2, short)], drop);
  encoder(runs).encode([replicate(3, short)], drop);
  assert.equal(runs.hits, 0);
  assert.equal(runs.lookup(short), null);
});
