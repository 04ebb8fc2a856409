// CRC-32 combination (issue 19): the CRC of A‖B from the CRCs of A and B and B's length, so a
// snapshot stream checksums each byte once and combines the pieces' CRCs into a frame's, a
// file's and a block's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { crc32, crc32Combine, crc32Table } from '../../src/encoding/crc32.js';

test('crc32Combine(crc(A), crc(B), |B|) is crc(A‖B), for any split, empty sides and MiB-sized pieces included', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(), (bytes, at) => {
    const k = bytes.length === 0 ? 0 : at % (bytes.length + 1);
    const a = bytes.subarray(0, k), b = bytes.subarray(k);
    assert.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(bytes));
    assert.equal(crc32Combine(crc32Table(a), crc32Table(b), b.length), crc32Table(bytes));
  }), { numRuns: 300 });
  const big = Buffer.alloc(5 * 1024 * 1024 + 7).map((_, i) => (i * 2654435761) >>> 24);
  for (const k of [0, 1, 65536, 2 * 1024 * 1024 + 3, big.length]) {
    assert.equal(crc32Combine(crc32(big.subarray(0, k)), crc32(big.subarray(k)), big.length - k), crc32(big), `split at ${k}`);
  }
});

test('combining many pieces in order equals one pass over all of them', () => {
  const bytes = Buffer.alloc(300_000).map((_, i) => (i * 31 + (i >> 9)) & 0xff);
  let c = 0;
  for (let at = 0; at < bytes.length; at += 65536) {
    const piece = bytes.subarray(at, at + 65536);
    c = crc32Combine(c, crc32(piece), piece.length);
  }
  assert.equal(c, crc32(bytes));
});
