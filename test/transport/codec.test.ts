// Codec and framing: round trips, and total decoding of hostile bytes (CodecError only, no hang).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MessageType, message } from '../../src/core/types.js';
import { CodecError } from '../../src/errors.js';
import { Writer } from '../../src/encoding/writer.js';
import { decodeBatch, decodeMessage, encodeBatch, encodeMessage } from '../../src/transport/codec.js';
import { FRAME_HEADER_SIZE, FrameDecoder, FrameKind, encodeFrame } from '../../src/transport/frame.js';
import { decodeAck, decodeChunk, decodeSnapshotHeader } from '../../src/transport/snapshot-protocol.js';
import { arbMessage, norm } from './helpers.js';

function onlyCodecErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
  }
}

describe('codec', () => {
  it('reads a batch written by release 0.1 (version 1, no cluster identities) and writes version 2', () => {
    // Two messages as sampan 0.1.0 encoded them: a heartbeat for shard 1 and a replicate with one entry for shard 2.
    const v1 = Buffer.from('01070e3132372e302e302e313a3730303100000002170001010302000005000000100002010304040909000001040a004d00000003010203', 'hex');
    const b = decodeBatch(v1);
    assert.equal(b.deploymentId, 7);
    assert.equal(b.sourceAddress, '127.0.0.1:7001');
    assert.equal(b.clusterIds, undefined, 'no identities: every message counts as unknown (0)');
    assert.deepEqual(b.messages.map((m) => [m.type, m.shardId, m.from, m.to, m.term, m.commit]),
      [[MessageType.Heartbeat, 1, 1, 3, 2, 5], [MessageType.Replicate, 2, 1, 3, 4, 9]]);
    assert.deepEqual([...(b.messages[1]?.entries[0]?.cmd ?? [])], [1, 2, 3]);
    const again = encodeBatch({ ...b, clusterIds: [0xabcdef012345, 1] });
    assert.equal(again[0], 2, 'written as version 2');
    assert.deepEqual(decodeBatch(again).clusterIds, [0xabcdef012345, 1]);
    assert.deepEqual(decodeBatch(again).messages.map(norm), b.messages.map(norm));
  });

  it('round-trips any message', () => {
    fc.assert(fc.property(arbMessage, (m) => {
      assert.deepStrictEqual(norm(decodeMessage(encodeMessage(m))), norm(m));
    }), { numRuns: 300 });
  });

  it('round-trips batches, reusing one writer', () => {
    const w = new Writer(16);
    fc.assert(fc.property(fc.nat(), fc.string({ maxLength: 30 }), fc.array(arbMessage, { maxLength: 6 }), (dep, src, msgs) => {
      const b = decodeBatch(encodeBatch({ deploymentId: dep, sourceAddress: src, messages: msgs }, w));
      assert.equal(b.deploymentId, dep);
      assert.equal(b.sourceAddress, src);
      assert.deepStrictEqual(norm(b.messages), norm(msgs));
    }), { numRuns: 150 });
  });

  it('decodes random bytes with CodecError only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      onlyCodecErrors(() => decodeBatch(bytes));
      onlyCodecErrors(() => decodeMessage(bytes));
      onlyCodecErrors(() => decodeSnapshotHeader(bytes));
      onlyCodecErrors(() => decodeChunk(bytes));
      onlyCodecErrors(() => decodeAck(bytes));
    }), { numRuns: 2000 });
  });

  it('rejects every truncation and single-byte corruption of a valid batch with CodecError only', () => {
    fc.assert(fc.property(fc.array(arbMessage, { minLength: 1, maxLength: 3 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (msgs, pos, x) => {
      const enc = encodeBatch({ deploymentId: 7, sourceAddress: 'a:1', messages: msgs });
      const cut = pos % enc.length;
      assert.throws(() => decodeBatch(enc.subarray(0, cut)), CodecError);
      const bad = Buffer.from(enc);
      bad[cut] = bad[cut]! ^ x;
      onlyCodecErrors(() => decodeBatch(bad));
    }), { numRuns: 500 });
  });

  it('refuses counts that the payload cannot hold, without allocating them', () => {
    const w = new Writer();
    w.u8(1); w.varint(0); w.strVar(''); w.u32be(0xffffffff);
    const t0 = Date.now();
    assert.throws(() => decodeBatch(w.copyOut()), CodecError);
    assert.ok(Date.now() - t0 < 100);
  });

  it('refuses to encode numbers that cannot round-trip', () => {
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN]) {
      assert.throws(() => encodeMessage(message({ type: MessageType.Heartbeat, term: bad })), CodecError);
    }
  });
});

describe('frames', () => {
  const payload = encodeBatch({ deploymentId: 1, sourceAddress: 'x:1', messages: [message({ type: MessageType.Heartbeat, to: 2 })] });
  const frame = encodeFrame(FrameKind.Batch, payload);

  it('reassembles frames split at every byte boundary', () => {
    for (let split = 0; split <= frame.length * 2; split++) {
      const two = Buffer.concat([frame, frame]);
      const d = new FrameDecoder(1024);
      const out = [...d.push(two.subarray(0, split)), ...d.push(two.subarray(split))];
      assert.equal(out.length, 2);
      assert.deepEqual(out[1]!.payload, payload);
      assert.equal(d.buffered, 0);
    }
  });

  it('gathers frames of a kind it is told to: the pieces as they arrived, not copied, the checksum left to the caller', () => {
    const big = Buffer.alloc(1000).map((_, i) => (i * 13) & 0xff);
    const chunk = encodeFrame(FrameKind.SnapshotChunk, big);
    const end = encodeFrame(FrameKind.SnapshotEnd, Buffer.from([1, 0]));
    const stream = Buffer.concat([chunk, end, chunk]);
    const d = new FrameDecoder(4096);
    d.gather(FrameKind.SnapshotChunk);
    const pieces: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 100) pieces.push(Buffer.from(stream.subarray(at, at + 100)));
    const out = pieces.flatMap((p) => d.pushGathered(p));
    assert.deepEqual(out.map((f) => f.kind), [FrameKind.SnapshotChunk, FrameKind.SnapshotEnd, FrameKind.SnapshotChunk]);
    const g = out[0]!;
    assert.ok('parts' in g);
    assert.equal(g.length, 1000);
    assert.equal(g.crc, chunk.readUInt32BE(12));
    assert.deepEqual(Buffer.concat(g.parts), big);
    assert.ok(g.parts.length > 1 && g.parts.every((p) => pieces.some((q) => q.buffer === p.buffer)), 'views of the input, not copies');
    assert.ok(!('parts' in out[1]!) && out[1]!.payload.equals(Buffer.from([1, 0])), 'other kinds come whole');
    // A damaged payload still comes out: checking it is the caller's part. Its header is still checked.
    const bad = Buffer.from(chunk);
    bad[500] = bad[500]! ^ 1;
    const d2 = new FrameDecoder(4096);
    d2.gather(FrameKind.SnapshotChunk);
    assert.equal(d2.pushGathered(bad).length, 1);
    const badHeader = Buffer.from(chunk);
    badHeader[9] = badHeader[9]! ^ 1;
    assert.throws(() => d2.pushGathered(badHeader), /header checksum/);
    // Without gather, push is unchanged: the damaged payload is refused.
    assert.throws(() => new FrameDecoder(4096).push(bad), /payload checksum mismatch/);
  });

  it('handles empty payloads, alone and between others', () => {
    const empty = encodeFrame(FrameKind.SnapshotEnd, Buffer.alloc(0));
    const d = new FrameDecoder(1024);
    assert.equal(d.push(empty).length, 1);
    const out = [...d.push(Buffer.concat([frame, empty]).subarray(0, 5)), ...d.push(Buffer.concat([frame, empty, frame]).subarray(5))];
    assert.deepEqual(out.map((f) => f.payload.length), [payload.length, 0, payload.length]);
  });

  it('rejects bad magic at the first wrong byte', () => {
    assert.throws(() => new FrameDecoder(1024).push(Buffer.from('SX')), CodecError);
  });

  it('rejects oversize lengths before buffering the payload', () => {
    assert.throws(() => new FrameDecoder(10).push(frame.subarray(0, FRAME_HEADER_SIZE)), /exceeds the limit/);
  });

  it('rejects any corrupted byte', () => {
    for (let i = 0; i < frame.length; i++) {
      const bad = Buffer.from(frame);
      bad[i] = bad[i]! ^ 0x40;
      assert.throws(() => new FrameDecoder(1024).push(bad), CodecError, `byte ${i}`);
    }
  });

  it('decodes random streams with CodecError only and bounded memory', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
      const d = new FrameDecoder(256);
      onlyCodecErrors(() => {
        for (const c of chunks) d.push(Buffer.from(c));
      });
      assert.ok(d.buffered <= 256 + FRAME_HEADER_SIZE + 64);
    }), { numRuns: 1000 });
  });
});
