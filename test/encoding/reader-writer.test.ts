/**
 * The one reader/writer and the layouts: every integer family round-trips at its limits, the
 * reader refuses what cannot be (CodecError, never another exception), and a schema written
 * against a layout reads back in that layout.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CodecError } from '../../src/errors.js';
import { FIXED, VARINT } from '../../src/encoding/layout.js';
import { readMembership, writeMembership } from '../../src/encoding/membership.js';
import { Reader } from '../../src/encoding/reader.js';
import { readSnapshotMeta, writeSnapshotMeta } from '../../src/encoding/snapshot-meta.js';
import { Writer } from '../../src/encoding/writer.js';
import { IMPORTED_SNAPSHOT, MEMBERSHIP, snapshotMeta } from './support/format-values.js';

const LIMITS = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 48 + 5, Number.MAX_SAFE_INTEGER];

void it('round-trips u8, u32 (LE and BE), u64 LE, varints and float64 at their limits; grows from 64 bytes', () => {
  const w = new Writer(1);
  for (const v of LIMITS) {
    w.u64le(v); w.varint(v); w.f64be(v);
    if (v < 2 ** 32) { w.u32le(v); w.u32be(v); }
    w.u8(v & 0xff);
  }
  assert.ok(w.capacity > 64, 'the writer grew');
  const r = new Reader(w.copyOut());
  for (const v of LIMITS) {
    assert.equal(r.u64le(), v); assert.equal(r.varint(), v); assert.equal(r.f64be(), v);
    if (v < 2 ** 32) { assert.equal(r.u32le(), v); assert.equal(r.u32be(), v); }
    assert.equal(r.u8(), v & 0xff);
  }
  r.done();
});

void it('writes the known byte layouts: u32 LE/BE, u64 LE, LEB128', () => {
  const w = new Writer();
  w.u32le(0x01020304); w.u32be(0x01020304); w.u64le(2 ** 32 + 2); w.varint(300);
  assert.equal(w.view().toString('hex'), '04030201' + '01020304' + '0200000001000000' + 'ac02');
  const at = w.skip(4);
  w.patchU32be(at, 0xa0b0c0d0);
  assert.equal(w.view(at).toString('hex'), 'a0b0c0d0');
  w.truncate(at);
  assert.equal(w.pos, at);
});

void it('refuses unencodable varints and impossible inputs with CodecError', () => {
  const w = new Writer();
  for (const bad of [-1, 1.5, 2 ** 53, Number.NaN]) assert.throws(() => w.varint(bad), CodecError);
  const cases: [string, (r: Reader) => unknown][] = [
    ['ffffffffffffff7f', (r) => r.varint()], // 8 bytes: above 2^53 - 1
    ['ffffffffffffffff01', (r) => r.varint()], // longer than 8 bytes
    ['0000000000002000', (r) => r.u64le()], // 2^53
    ['02', (r) => r.bool()],
    ['0500', (r) => r.bytesVar()], // length past the end
    ['05000000', (r) => r.bytes32(true)],
    ['02c328', (r) => r.strVar()], // invalid UTF-8
    ['ff', (r) => r.count(2)], // 255 items cannot fit in 0 bytes
    ['01000000', (r) => r.count32(1)],
    ['0102', (r) => { r.u8(); r.done(); }], // a trailing byte
  ];
  for (const [hex, read] of cases) assert.throws(() => read(new Reader(Buffer.from(hex, 'hex'))), CodecError, hex);
});

void it('bytes32 copies or views as asked; bytesVar views', () => {
  const src = Buffer.from('0300000061626303616263', 'hex');
  const copy = new Reader(src).bytes32(true);
  const view = new Reader(src).bytes32(false);
  src[4] = 0x7a;
  assert.deepEqual([...copy], [0x61, 0x62, 0x63]);
  assert.deepEqual([...view], [0x7a, 0x62, 0x63]);
  const r = new Reader(src, 7);
  assert.deepEqual([...r.bytesVar()], [0x61, 0x62, 0x63]);
});

void it('membership and snapshot records read back in the layout they were written in', () => {
  for (const l of [FIXED, VARINT]) {
    const w = new Writer(16);
    writeMembership(w, MEMBERSHIP, l);
    writeSnapshotMeta(w, snapshotMeta('/s'), l);
    writeSnapshotMeta(w, IMPORTED_SNAPSHOT, l);
    const r = new Reader(w.copyOut());
    assert.deepEqual(readMembership(r, l), MEMBERSHIP);
    const s = readSnapshotMeta(r, l);
    assert.deepEqual({ ...s, checksum: [...s.checksum], files: s.files.map((f) => ({ ...f, metadata: [...f.metadata] })) },
      { ...snapshotMeta('/s'), checksum: [...snapshotMeta('/s').checksum], files: snapshotMeta('/s').files.map((f) => ({ ...f, metadata: [...f.metadata] })) });
    assert.equal(readSnapshotMeta(r, l).imported, true);
    r.done();
  }
});

void it('writes the same LEB128 bytes as a BigInt reference for values of every width from 2^31 to 2^53 - 1', () => {
  // The writer's path for values of 2^32 and more splits them into 32-bit halves; its bytes
  // are the wire and WAL format, so they must not change (a peer of another release reads them).
  const leb = (v: bigint): string => {
    const out: number[] = [];
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      out.push(v > 0n ? low | 0x80 : low);
    } while (v > 0n);
    return Buffer.from(out).toString('hex');
  };
  let seed = 12345;
  const rand = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  const values = [2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 35 - 1, 2 ** 35, 2 ** 49 - 1, 2 ** 49, 2 ** 53 - 1];
  for (let bits = 31; bits <= 53; bits++) {
    for (let k = 0; k < 50; k++) values.push(Math.min(2 ** 53 - 1, Math.floor(2 ** (bits - 1) + rand() * 2 ** (bits - 1))));
  }
  for (const v of values) {
    const w = new Writer(64);
    w.varint(v);
    assert.equal(Buffer.from(w.buf.subarray(0, w.pos)).toString('hex'), leb(BigInt(v)), `varint(${v})`);
    assert.equal(new Reader(w.buf.subarray(0, w.pos)).varint(), v);
  }
});
