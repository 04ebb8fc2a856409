/**
 * The LogDB's records in the fixed layouts of src/encoding/, and the checksum: round trips, and random or truncated bytes only ever
 * produce CodecError (never another exception, a hang or a crash).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CodecError } from '../../src/errors.js';
import { crc32, crc32Table } from '../../src/encoding/crc32.js';
import { readBootstrapFixed as readBootstrap, writeBootstrapFixed as writeBootstrap } from '../../src/encoding/bootstrap.js';
import { readEntryFixed as readEntry, writeEntryFixed as writeEntry } from '../../src/encoding/entry.js';
import { Reader } from '../../src/encoding/reader.js';
import { FIXED } from '../../src/encoding/layout.js';
import { readSnapshotMeta, writeSnapshotMeta } from '../../src/encoding/snapshot-meta.js';
import { Writer } from '../../src/encoding/writer.js';
import { readBatch, readCheckpoint } from '../../src/logdb/wal-records.js';
import { ents, snap } from './compliance.js';
import { seeded } from './helpers.js';

void it('CRC-32 matches the reference value and the table fallback', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  const rnd = seeded(7);
  for (let i = 0; i < 50; i++) {
    const b = Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
    assert.equal(crc32(b), crc32Table(b));
    assert.equal(crc32(b.subarray(7), crc32(b.subarray(0, 7))), crc32(b));
  }
});

void it('reads bootstrap records written by release 0.1 (no cluster identity) and round-trips one with an identity', () => {
  // writeBootstrap of 0.1.0: {1: 'a:1', 2: 'b:2'}, not joining, type 2; then {}, joining, type 1.
  const old = Buffer.from('02000000010000000000000003000000613a31020000000000000003000000623a320002000000000101', 'hex');
  const r = new Reader(old, 0, old.length);
  assert.deepEqual(readBootstrap(r), { members: new Map([[1, 'a:1'], [2, 'b:2']]), join: false, smType: 2 });
  assert.deepEqual(readBootstrap(r), { members: new Map(), join: true, smType: 1 });
  r.done();
  const w = new Writer(16);
  const boot = { members: new Map([[1, 'a:1']]), join: true, smType: 3 as const, clusterId: 2 ** 48 - 1 };
  writeBootstrap(w, boot);
  assert.deepEqual(readBootstrap(new Reader(w.buf, 0, w.pos)), boot);
});

void it('round-trips entries, snapshots and bootstrap info, with 2^53 - 1 values', () => {
  const w = new Writer(16);
  const e = { ...(ents(5, 5, 3, 40)[0] as ReturnType<typeof ents>[number]), key: Number.MAX_SAFE_INTEGER, seriesId: 2 ** 40 };
  writeEntry(w, e);
  writeSnapshotMeta(w, snap(9, 100, 4), FIXED);
  const boot = { members: new Map([[1, 'a'], [2 ** 50, 'ü→b']]), join: false, smType: 2 as const };
  writeBootstrap(w, boot);
  const r = new Reader(w.view());
  const got = readEntry(r);
  assert.deepEqual({ ...got, cmd: [...got.cmd] }, { ...e, cmd: [...e.cmd] });
  assert.deepEqual(readSnapshotMeta(r, FIXED), snap(9, 100, 4));
  assert.deepEqual(readBootstrap(r), boot);
  r.done();
});

void it('turns random and truncated bytes into CodecError only', () => {
  const rnd = seeded(11);
  const w = new Writer();
  writeSnapshotMeta(w, snap(1, 2, 3), FIXED);
  const good = Buffer.from(w.view());
  const decoders: ((b: Buffer) => unknown)[] = [
    (b) => readSnapshotMeta(new Reader(b), FIXED),
    (b) => readEntry(new Reader(b)),
    (b) => readBatch(b, 0, b.length, () => undefined),
    (b) => readCheckpoint(b, 0, b.length),
  ];
  for (let i = 0; i < 2000; i++) {
    let b: Buffer;
    if (i % 3 === 0) b = good.subarray(0, Math.floor(rnd() * good.length));
    else if (i % 3 === 1) { b = Buffer.from(good); b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256); }
    else b = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)));
    for (const decode of decoders) {
      try { decode(b); } catch (err) { assert.ok(err instanceof CodecError, `unexpected ${String(err)}`); }
    }
  }
});
