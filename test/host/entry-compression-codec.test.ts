/**
 * The encoded-entry codec (`src/host/entry-compression.ts`) and the Snappy block check it
 * relies on: what is compressed and when, the header byte, the entry type in both layouts, and
 * that no damaged payload decodes to anything but a CodecError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EntryType, entry } from '../../src/core/types.js';
import { readEntryFixed, readEntryVarint, writeEntryFixed, writeEntryVarint } from '../../src/encoding/entry.js';
import { Reader } from '../../src/encoding/reader.js';
import { Writer } from '../../src/encoding/writer.js';
import { CodecError, InvalidOptionError } from '../../src/errors.js';
import { resolveShardConfig } from '../../src/host/config.js';
import { decodeCommand, decodeEntries, decodeEntry, encodeCommand } from '../../src/host/entry-compression.js';
import { snappyBlockLength } from '../../src/snapshot/compression.js';
import { SeededRandom } from '../../src/core/random.js';

const enc = new TextEncoder();

function record(i: number, size = 1024): Uint8Array {
  let s = '';
  for (let k = 0; s.length < size; k++) s += `{"id":${i * 1000 + k},"user":"user-${(i * 7 + k) % 997}","status":"active","region":"eu-west-1"},`;
  return enc.encode(s.slice(0, size));
}

test('encodeCommand: compressed only with snappy and when smaller, header byte 0x02; decodeCommand gives the bytes back', () => {
  const cmd = record(1);
  const z = encodeCommand(cmd, 'snappy');
  assert.equal(z.type, EntryType.Encoded);
  assert.equal(z.cmd[0], 0x02, 'version 0, Snappy, no session (dragonboat\'s layout)');
  assert.ok(z.cmd.length < cmd.length / 2, `${z.cmd.length} bytes for ${cmd.length}`);
  assert.deepEqual([...decodeCommand(z.cmd, 1)], [...cmd]);

  for (const [what, c] of [['random bytes', new Uint8Array(randomBytes(1024))], ['empty', new Uint8Array(0)], ['two bytes', enc.encode('ab')]] as const) {
    const r = encodeCommand(c, 'snappy');
    assert.equal(r.type, EntryType.Application, `${what}: not worth it, stored as given`);
    assert.equal(r.cmd, c);
  }
  const off = encodeCommand(cmd, 'none');
  assert.equal(off.type, EntryType.Application);
  assert.equal(off.cmd, cmd);
  // Dragonboat's uncompressed encoded form (compression 0) decodes as well.
  assert.deepEqual([...decodeCommand(Uint8Array.of(0x00, 7, 8, 9), 1)], [7, 8, 9]);
});

test('decodeEntry/decodeEntries: only Encoded entries change (to Application with the command); a list without any is returned as is', () => {
  const cmd = record(2);
  const z = encodeCommand(cmd, 'snappy');
  const e = entry({ term: 3, index: 9, type: z.type, key: 5, clientId: 7, seriesId: 2, respondedTo: 1, cmd: z.cmd });
  const d = decodeEntry(e);
  assert.deepEqual({ ...d, cmd: [...d.cmd] }, { ...e, type: EntryType.Application, cmd: [...cmd] });
  const plain = [entry({ term: 1, index: 1, cmd }), entry({ term: 1, index: 2, type: EntryType.Metadata })];
  assert.equal(decodeEntries(plain), plain);
  assert.equal(decodeEntries([...plain, e])[2]?.type, EntryType.Application);
});

test('an Encoded entry is type byte 3 in the WAL and wire layouts and round-trips through both', () => {
  const z = encodeCommand(record(3), 'snappy');
  const e = entry({ term: 2, index: 4, type: z.type, key: 1, cmd: z.cmd });
  const w = new Writer(64);
  writeEntryFixed(w, e);
  const fixed = w.view();
  assert.equal(fixed[16], 3, 'the type byte follows term and index');
  const back = readEntryFixed(new Reader(fixed));
  assert.equal(back.type, EntryType.Encoded);
  assert.deepEqual([...back.cmd], [...z.cmd]);
  const v = new Writer(64);
  writeEntryVarint(v, e);
  const back2 = readEntryVarint(new Reader(v.view()));
  assert.equal(back2.type, EntryType.Encoded);
  assert.deepEqual([...back2.cmd], [...z.cmd]);
});

test('damaged payloads: bad headers, every truncation and random byte changes decode to the original, other bytes of the right length, or a CodecError; never another error', () => {
  for (const h of [0x12, 0x03, 0x04, 0x0e]) {
    assert.throws(() => decodeCommand(Uint8Array.of(h, 1, 0), 1), CodecError, `header ${h}`);
  }
  assert.throws(() => decodeCommand(new Uint8Array(0), 1), CodecError);
  const cmd = record(4);
  const z = encodeCommand(cmd, 'snappy').cmd;
  for (let n = 1; n < z.length; n++) assert.throws(() => decodeCommand(z.subarray(0, n), 1), CodecError, `truncated to ${n}`);
  const rnd = new SeededRandom(11);
  let refused = 0;
  for (let t = 0; t < 2000; t++) {
    const bad = z.slice();
    const flips = 1 + rnd.intn(3);
    for (let f = 0; f < flips; f++) bad[1 + rnd.intn(bad.length - 1)] = rnd.intn(256);
    try {
      const out = decodeCommand(bad, 1);
      // A changed literal byte still decodes (only a checksum could see it; the WAL and the wire have theirs).
      assert.equal(out.length, snappyBlockLength(bad.subarray(1)));
    } catch (e) {
      assert.ok(e instanceof CodecError, `mutation ${t}: ${String(e)}`);
      refused++;
    }
  }
  assert.ok(refused > 100, `${refused} of 2000 damaged payloads refused`);
});

test('snappyBlockLength agrees with the raw length for what snappyjs writes, and refuses streams snappyjs would decode silently wrong', () => {
  const rnd = new SeededRandom(5);
  for (const size of [1, 10, 100, 1024, 70_000]) {
    const raw = new Uint8Array(size);
    for (let i = 0; i < size; i++) raw[i] = rnd.intn(4) === 0 ? rnd.intn(256) : 97 + (i % 7);
    const z = encodeCommand(raw, 'snappy');
    if (z.type === EntryType.Encoded) assert.equal(snappyBlockLength(z.cmd.subarray(1)), size);
  }
  // Declares 100 bytes, holds 3 (snappyjs would pad with zeros); declares 2, holds 3 (it would drop one).
  assert.equal(snappyBlockLength(Uint8Array.of(100, 0x08, 1, 2, 3)), null);
  assert.equal(snappyBlockLength(Uint8Array.of(2, 0x08, 1, 2, 3)), null);
  // A copy reaching before the output's start.
  assert.equal(snappyBlockLength(Uint8Array.of(8, 0x00, 1, 0x01, 5)), null);
  assert.equal(snappyBlockLength(Uint8Array.of(5, 0x00, 1, 0x01, 1)), 5);
});

test('entryCompression: none and snappy are taken, anything else is InvalidOptionError', () => {
  assert.equal(resolveShardConfig({ shardId: 1, replicaId: 1 }).entryCompression, 'none');
  assert.equal(resolveShardConfig({ shardId: 1, replicaId: 1, entryCompression: 'snappy' }).entryCompression, 'snappy');
  assert.throws(() => resolveShardConfig({ shardId: 1, replicaId: 1, entryCompression: 'lz4' as 'none' }), InvalidOptionError);
});
