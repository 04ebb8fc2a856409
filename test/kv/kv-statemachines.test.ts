/**
 * The KV state machines on their own: the command codec, the shard hash, and the in-memory and
 * on-disk state machines applying, answering, snapshotting and recovering identically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SMEntry, SnapshotReader } from '../../src/index.js';
import { KvOp, decodeCommand, decodeOptional, encodeCommand } from '../../src/kv/command-codec.js';
import { DiskKvStateMachine } from '../../src/kv/disk-state-machine.js';
import { MemoryKvStateMachine } from '../../src/kv/memory-state-machine.js';
import { fnv1a32, shardOf } from '../../src/kv/shard-hash.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (v: unknown): string | null => (v instanceof Uint8Array ? new TextDecoder().decode(v) : null);
const signal = new AbortController().signal;

function reader(chunks: Uint8Array[]): SnapshotReader {
  return {
    async *[Symbol.asyncIterator]() { for (const c of chunks) yield c; },
    readAll: async () => Buffer.concat(chunks),
  };
}

function split(chunks: Uint8Array[], size: number): Uint8Array[] {
  const all = Buffer.concat(chunks);
  const out: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.subarray(i, i + size));
  return out;
}

const script: SMEntry[] = [
  { index: 5, cmd: encodeCommand({ op: KvOp.Put, key: b('a'), value: b('1') }) },
  { index: 6, cmd: encodeCommand({ op: KvOp.Cas, key: b('a'), expected: b('2'), value: b('x') }) },
  { index: 7, cmd: encodeCommand({ op: KvOp.Cas, key: b('a'), expected: b('1'), value: b('3') }) },
  { index: 8, cmd: encodeCommand({ op: KvOp.Cas, key: b('n'), expected: null, value: b('new') }) },
  { index: 9, cmd: encodeCommand({ op: KvOp.Put, key: b('gone'), value: new Uint8Array(0) }) },
  { index: 10, cmd: encodeCommand({ op: KvOp.Delete, key: b('gone') }) },
  { index: 11, cmd: encodeCommand({ op: KvOp.Cas, key: b('gone'), expected: b(''), value: b('z') }) },
];

test('command codec round-trips and rejects garbage', () => {
  for (const e of script) assert.deepEqual(encodeCommand(decodeCommand(e.cmd)), e.cmd);
  assert.throws(() => decodeCommand(Uint8Array.of(9, 0, 0, 0, 0)), /unknown KV operation/);
  assert.throws(() => decodeCommand(Uint8Array.of(1, 0, 0, 0, 9)), /overruns/);
  assert.equal(decodeOptional(Uint8Array.of(0)), null);
  assert.equal(fnv1a32(b('')), 0x811c9dc5);
  assert.equal(fnv1a32(b('a')), 0xe40c292c);
  for (let i = 0; i < 100; i++) assert.ok([1, 2, 3, 4].includes(shardOf(b(`k${i}`), 4)));
});

test('memory and disk state machines give the same results, snapshots and recoveries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-kvsm-'));
  const mem = new MemoryKvStateMachine();
  const disk = new DiskKvStateMachine(join(dir, 'a.sqlite'));
  assert.equal(await disk.open(signal), 0);
  const r1 = mem.update(script);
  const r2 = disk.update(script);
  assert.deepEqual(r1, r2);
  assert.deepEqual(r1.map((r) => r.value), [5, 0, 1, 1, 9, 10, 0]);
  assert.equal(s(decodeOptional(r1[1]?.data)), '1');
  assert.equal(decodeOptional(r1[6]?.data), null);
  for (const sm of [mem, disk]) {
    assert.equal(s(sm.lookup({ kind: 'get', key: b('a') })), '3');
    assert.equal(s(sm.lookup({ kind: 'get', key: b('n') })), 'new');
    assert.equal(sm.lookup({ kind: 'get', key: b('gone') }), null);
    assert.equal(sm.lookup({ kind: 'count' }), 2);
    assert.throws(() => sm.lookup('nope'), /not a KV query/);
  }

  // Memory: the view is a copy taken between updates, written while updates continue;
  // recover into a fresh one, in odd chunk sizes.
  const memView = mem.prepareSnapshot();
  mem.update([{ index: 12, cmd: encodeCommand({ op: KvOp.Put, key: b('later'), value: b('l') }) }, { index: 13, cmd: encodeCommand({ op: KvOp.Put, key: b('a'), value: b('changed') }) }]);
  const memChunks: Uint8Array[] = [];
  await mem.saveSnapshot(memView, { write: async (c: Uint8Array) => { memChunks.push(Uint8Array.from(c)); } }, { addFile: () => {} }, signal);
  const mem2 = new MemoryKvStateMachine();
  await mem2.recoverFromSnapshot(reader(split(memChunks, 3)), [], signal);
  assert.equal(s(mem2.lookup({ kind: 'get', key: b('a') })), '3', 'the image holds the value as of prepareSnapshot');
  assert.equal(mem2.lookup({ kind: 'get', key: b('later') }), null, 'a later write is not in the image');
  assert.equal(s(mem.lookup({ kind: 'get', key: b('a') })), 'changed');
  await assert.rejects(new MemoryKvStateMachine().recoverFromSnapshot(reader(split(memChunks, 3).slice(0, -1)), [], signal), /truncated/);

  // Disk: the view is pinned while updates continue; the image carries its index.
  const view = disk.prepareSnapshot();
  disk.update([{ index: 12, cmd: encodeCommand({ op: KvOp.Put, key: b('later'), value: b('l') }) }]);
  const diskChunks: Uint8Array[] = [];
  await disk.saveSnapshot(view, { write: async (c) => { diskChunks.push(Uint8Array.from(c)); } }, signal);
  const disk2 = new DiskKvStateMachine(join(dir, 'b.sqlite'));
  await disk2.open(signal);
  disk2.update([{ index: 1, cmd: encodeCommand({ op: KvOp.Put, key: b('stale'), value: b('s') }) }]);
  await disk2.recoverFromSnapshot(reader(split(diskChunks, 5)), signal);
  assert.equal(disk2.lookup({ kind: 'get', key: b('later') }), null);
  assert.equal(disk2.lookup({ kind: 'get', key: b('stale') }), null);
  assert.equal(s(disk2.lookup({ kind: 'get', key: b('a') })), '3');
  disk2.close();
  const reopened = new DiskKvStateMachine(join(dir, 'b.sqlite'));
  assert.equal(await reopened.open(signal), 11, 'open returns the image index');
  reopened.close();

  // The applied index is stored with the data: reopening returns the last batch's index.
  await disk.sync();
  disk.close();
  const again = new DiskKvStateMachine(join(dir, 'a.sqlite'));
  assert.equal(await again.open(signal), 12);
  assert.equal(s(again.lookup({ kind: 'get', key: b('later') })), 'l');
  again.close();
});
