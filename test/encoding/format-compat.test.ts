/**
 * The formats stay readable and unchanged: decodes the golden fixtures of
 * test/fixtures/formats/ (written by the release before src/encoding/ existed, see its
 * README.md) with the current code, checks every value field by field, and re-encodes what is
 * still written to check that the bytes are identical.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ConfigChange, Entry, Membership, Message, SnapshotMeta } from '../../src/core/types.js';
import { decodeConfigChange, encodeConfigChange } from '../../src/encoding/config-change.js';
import { readEntryFixed, writeEntryFixed } from '../../src/encoding/entry.js';
import { decodeMembership, encodeMembership } from '../../src/encoding/membership.js';
import { Reader } from '../../src/encoding/reader.js';
import { writeBootstrapFixed } from '../../src/encoding/bootstrap.js';
import { writeHardStateFixed } from '../../src/encoding/hard-state.js';
import { FIXED } from '../../src/encoding/layout.js';
import { writeSnapshotMeta } from '../../src/encoding/snapshot-meta.js';
import { Writer } from '../../src/encoding/writer.js';
import { FrameType, sealFrame, visitFrames, FRAME_HEADER_BYTES } from '../../src/logdb/wal-format.js';
import { WalLogDB } from '../../src/logdb/wal-log-db.js';
import { beginRecord, endRecord, readBatch, readCheckpoint, RecordType, writeCheckpoint } from '../../src/logdb/wal-records.js';
import { openSnapshotFile } from '../../src/snapshot/file-reader.js';
import { SnapshotFileWriter } from '../../src/snapshot/file-writer.js';
import { decodeMetadata, encodeMetadata } from '../../src/snapshot/metadata-file.js';
import { BatchFrameEncoder } from '../../src/transport/batch-encoder.js';
import { decodeBatch, encodeBatch, writeMessage } from '../../src/transport/codec.js';
import type { MessageBatch } from '../../src/contracts/message-batch.js';
import { FrameDecoder, FrameKind } from '../../src/transport/frame.js';
import {
  BIG, BOOTSTRAP, BOOTSTRAP_JOIN, CLUSTER_IDS, CONFIG_CHANGES, DEPLOYMENT_ID, EMPTY_MEMBERSHIP, FILE_CRCS, HARD_STATE,
  IMPORTED_SNAPSHOT, MEMBERSHIP, SNAPSHOT_BLOCK_SIZE, SNAPSHOT_PAYLOAD, SNAPSHOT_SESSIONS, SOURCE_ADDRESS,
  logEntries, snapshotMeta, wireMessages,
} from './support/format-values.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/formats');
const fixture = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, name));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sampan-format-compat-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ENTRIES = logEntries(encodeConfigChange);
const MESSAGES = wireMessages(encodeConfigChange);

/** Bytes compared by content (a decoded view may be a Buffer, the value a Uint8Array). */
function assertBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  assert.deepEqual([...got], [...want], what);
}

function assertConfigChange(got: ConfigChange, want: ConfigChange, what: string): void {
  assert.equal(got.type, want.type, `${what}.type`);
  assert.equal(got.replicaId, want.replicaId, `${what}.replicaId`);
  assert.equal(got.configChangeId, want.configChangeId, `${what}.configChangeId`);
  assert.equal(got.address, want.address, `${what}.address`);
  assert.equal(got.initialize, want.initialize, `${what}.initialize`);
  assert.equal(got.ordered, want.ordered, `${what}.ordered`);
  assert.equal('ordered' in got, 'ordered' in want, `${what}: ordered present`);
}

function assertEntry(got: Entry, want: Entry, what: string): void {
  for (const f of ['term', 'index', 'type', 'key', 'clientId', 'seriesId', 'respondedTo'] as const) {
    assert.equal(got[f], want[f], `${what}.${f}`);
  }
  assertBytes(got.cmd, want.cmd, `${what}.cmd`);
}

function assertMembership(got: Membership, want: Membership, what: string): void {
  assert.equal(got.configChangeId, want.configChangeId, `${what}.configChangeId`);
  // Order matters too: it is the encoding order, so re-encoding depends on it.
  assert.deepEqual([...got.voters], [...want.voters], `${what}.voters`);
  assert.deepEqual([...got.nonVoting], [...want.nonVoting], `${what}.nonVoting`);
  assert.deepEqual([...got.witnesses], [...want.witnesses], `${what}.witnesses`);
  assert.deepEqual([...got.removed], [...want.removed], `${what}.removed`);
}

function assertSnapshot(got: SnapshotMeta | null, want: SnapshotMeta, what: string): void {
  assert.ok(got !== null, `${what} missing`);
  for (const f of ['shardId', 'index', 'term', 'filepath', 'fileSize', 'type', 'dummy', 'witness', 'imported', 'onDiskIndex'] as const) {
    assert.equal(got[f], want[f], `${what}.${f}`);
  }
  assertMembership(got.membership, want.membership, `${what}.membership`);
  assertBytes(got.checksum, want.checksum, `${what}.checksum`);
  assert.equal(got.files.length, want.files.length, `${what}.files.length`);
  got.files.forEach((f, i) => {
    const w = want.files[i]!;
    assert.equal(f.fileId, w.fileId, `${what}.files[${i}].fileId`);
    assert.equal(f.filepath, w.filepath, `${what}.files[${i}].filepath`);
    assert.equal(f.fileSize, w.fileSize, `${what}.files[${i}].fileSize`);
    assertBytes(f.metadata, w.metadata, `${what}.files[${i}].metadata`);
  });
}

function assertMessage(got: Message, want: Message, what: string): void {
  for (const f of ['type', 'shardId', 'from', 'to', 'term', 'logTerm', 'logIndex', 'commit', 'reject', 'hint', 'hintHigh'] as const) {
    assert.equal(got[f], want[f], `${what}.${f}`);
  }
  assert.equal(got.entries.length, want.entries.length, `${what}.entries.length`);
  got.entries.forEach((e, i) => assertEntry(e, want.entries[i]!, `${what}.entries[${i}]`));
  if (want.snapshot === null) assert.equal(got.snapshot, null, `${what}.snapshot`);
  else assertSnapshot(got.snapshot, want.snapshot, `${what}.snapshot`);
}

/** Decodes a batch fixture and checks its header and every message against the values. */
function assertBatch(b: Uint8Array, clusterIds: readonly number[] | undefined): MessageBatch {
  const batch = decodeBatch(b);
  assert.equal(batch.deploymentId, DEPLOYMENT_ID);
  assert.equal(batch.sourceAddress, SOURCE_ADDRESS);
  assert.deepEqual(batch.clusterIds, clusterIds);
  assert.equal(batch.messages.length, MESSAGES.length);
  batch.messages.forEach((m, i) => assertMessage(m, MESSAGES[i]!, `message ${i}`));
  return batch;
}

describe('format compatibility with the fixtures of the release before src/encoding/', () => {
  void it('config-change payloads: decode to the values, re-encode to the same bytes', () => {
    CONFIG_CHANGES.forEach((cc, i) => {
      const b = fixture(`config-change-${i}.bin`);
      assertConfigChange(decodeConfigChange(b), cc, `config change ${i}`);
      assertBytes(encodeConfigChange(cc), b, `config change ${i} bytes`);
    });
  });

  void it('membership sections: decode to the values, re-encode to the same bytes', () => {
    for (const [name, m] of [['membership.bin', MEMBERSHIP], ['membership-empty.bin', EMPTY_MEMBERSHIP]] as const) {
      const b = fixture(name);
      assertMembership(decodeMembership(b), m, name);
      assertBytes(encodeMembership(m), b, `${name} bytes`);
    }
  });

  void it('wire batch version 2: decodes, and is written byte for byte the same', () => {
    const b = fixture('wire-batch-v2.bin');
    const batch = assertBatch(b, CLUSTER_IDS);
    // Config-change entries inside a Replicate still decode as config changes.
    assertConfigChange(decodeConfigChange(batch.messages[0]!.entries[3]!.cmd), CONFIG_CHANGES[2]!, 'replicated config change');
    assertBytes(encodeBatch({ deploymentId: DEPLOYMENT_ID, sourceAddress: SOURCE_ADDRESS, messages: MESSAGES, clusterIds: CLUSTER_IDS }), b, 'batch bytes');
  });

  void it('wire batch version 1 (a peer of an earlier release): decodes without cluster identities; its messages are today\'s', () => {
    const b = fixture('wire-batch-v1.bin');
    assertBatch(b, undefined);
    // Version 1 is no longer written, but its messages are laid out as version 2's.
    const w = new Writer(1024);
    w.u8(1); w.varint(DEPLOYMENT_ID); w.strVar(SOURCE_ADDRESS); w.u32be(MESSAGES.length);
    for (const m of MESSAGES) writeMessage(w, m);
    assertBytes(w.view(), b, 'version 1 bytes');
  });

  void it('a framed batch: the frame checks out, its batch decodes, and the encoder writes the same bytes', () => {
    const b = fixture('wire-frame-v2.bin');
    const frames = new FrameDecoder(1 << 20).push(b);
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.kind, FrameKind.Batch);
    const batch = decodeBatch(frames[0]!.payload);
    assert.deepEqual(batch.clusterIds, MESSAGES.map((m) => (m.shardId === 1 ? CLUSTER_IDS[0] : 0)));
    batch.messages.forEach((m, i) => assertMessage(m, MESSAGES[i]!, `message ${i}`));
    const again = new BatchFrameEncoder(DEPLOYMENT_ID, SOURCE_ADDRESS, 1 << 20, 1 << 20, (s) => (s === 1 ? CLUSTER_IDS[0]! : 0))
      .encode(MESSAGES, (_m, err) => { throw err; });
    assert.equal(again.length, 1);
    assertBytes(again[0]!, b, 'frame bytes');
  });

  void it('a WAL segment: opens with every record as written', async () => {
    const dir = path.join(tmp, 'wal-open');
    fs.mkdirSync(dir);
    for (const name of fs.readdirSync(path.join(FIXTURES, 'wal'))) fs.copyFileSync(path.join(FIXTURES, 'wal', name), path.join(dir, name));
    const db = await WalLogDB.open({ dir, fsync: false });
    try {
      assert.deepEqual(db.listReplicas(), [{ shardId: 1, replicaId: 1 }, { shardId: 2, replicaId: 1 }]);
      assert.deepEqual(db.getBootstrap(1, 1), BOOTSTRAP);
      assert.deepEqual(db.getBootstrap(2, 1), BOOTSTRAP_JOIN);
      assert.deepEqual(db.readHardState(1, 1), HARD_STATE);
      assert.deepEqual(db.getEntryRange(1, 1), { firstIndex: 1, lastIndex: 6 });
      const got = db.readEntries(1, 1, 1, 7, Number.MAX_SAFE_INTEGER);
      assert.equal(got.length, ENTRIES.length);
      got.forEach((e, i) => assertEntry(e, ENTRIES[i]!, `entry ${i + 1}`));
      assertConfigChange(decodeConfigChange(got[0]!.cmd), CONFIG_CHANGES[0]!, 'stored config change');
      assertSnapshot(db.getSnapshot(1, 1), snapshotMeta('/data/snap-4'), 'snapshot record');
      // The import replaced shard 2's state: its snapshot, and a hard state at the snapshot.
      assertSnapshot(db.getSnapshot(2, 1), IMPORTED_SNAPSHOT, 'imported snapshot');
      assert.deepEqual(db.readHardState(2, 1), { term: 7, vote: 0, commit: BIG });
      assert.equal(db.getEntryRange(2, 1), null);
    } finally {
      await db.close();
    }
  });

  void it('a WAL segment: every frame re-encodes from its decoded records to the same bytes', () => {
    const [name] = fs.readdirSync(path.join(FIXTURES, 'wal'));
    const buf = fixture(`wal/${name!}`);
    const kinds: number[] = [];
    const end = visitFrames(buf, name!, true, (type, payloadStart, payloadEnd, frameStart) => {
      kinds.push(type);
      const w = new Writer(1024);
      w.pos = FRAME_HEADER_BYTES;
      if (type === FrameType.Checkpoint) {
        const replicas = readCheckpoint(buf, payloadStart, payloadEnd);
        writeCheckpoint(w, replicas, replicas.length);
      } else {
        readBatch(buf, payloadStart, payloadEnd, (rec) => {
          const at = beginRecord(w, rec.type, rec.shardId, rec.replicaId);
          switch (rec.type) {
            case RecordType.Entries:
            case RecordType.Copy: {
              w.u32le(rec.count);
              const r = new Reader(buf, rec.start, payloadEnd);
              for (let i = 0; i < rec.count; i++) writeEntryFixed(w, readEntryFixed(r));
              break;
            }
            case RecordType.HardState: writeHardStateFixed(w, rec.hardState); break;
            case RecordType.Snapshot: w.u8(rec.dropEntries ? 1 : 0); writeSnapshotMeta(w, rec.snapshot, FIXED); break;
            case RecordType.Bootstrap: writeBootstrapFixed(w, rec.bootstrap); break;
            case RecordType.RemoveTo: w.u64le(rec.index); break;
            case RecordType.RemoveReplica: break;
            case RecordType.Import: writeSnapshotMeta(w, rec.snapshot, FIXED); break;
          }
          endRecord(w, at);
        });
      }
      sealFrame(w.buf, 0, w.pos, type);
      assertBytes(w.view(), buf.subarray(frameStart, payloadEnd), `frame at ${frameStart}`);
    });
    assert.equal(end, buf.length, 'the whole segment is intact frames');
    assert.equal(kinds[0], FrameType.Checkpoint);
    assert.ok(kinds.length >= 5, `frames: ${kinds.join(',')}`);
  });

  void it('snapshot data files (raw and snappy blocks): open with their parts, and are written the same', async () => {
    const cases = [
      { name: 'snapshot.data', compression: 'none' as const, payload: SNAPSHOT_PAYLOAD },
      { name: 'snapshot-snappy.data', compression: 'snappy' as const, payload: new Uint8Array(SNAPSHOT_PAYLOAD.length).fill(7) },
    ];
    for (const c of cases) {
      const f = await openSnapshotFile(path.join(FIXTURES, 'snapshot', c.name));
      assert.equal(f.header.version, 1);
      assert.equal(f.header.blockSize, SNAPSHOT_BLOCK_SIZE);
      assert.equal(f.header.sessionsSize, SNAPSHOT_SESSIONS.length);
      assert.equal(f.footer.blockCount, Math.ceil(c.payload.length / SNAPSHOT_BLOCK_SIZE));
      assert.equal(f.footer.payloadSize, c.payload.length);
      assertBytes(f.sessions, SNAPSHOT_SESSIONS, `${c.name} sessions`);
      assertMembership(decodeMembership(f.membership), MEMBERSHIP, `${c.name} membership`);
      assertBytes(await f.payload.readAll(), c.payload, `${c.name} payload`);
      const file = path.join(tmp, c.name);
      const w = await SnapshotFileWriter.create(file, { blockSize: SNAPSHOT_BLOCK_SIZE, compression: c.compression }, SNAPSHOT_SESSIONS, encodeMembership(MEMBERSHIP));
      await w.write(c.payload);
      const summary = await w.finish();
      assertBytes(summary.checksum, f.checksum, `${c.name} checksum`);
      assertBytes(fs.readFileSync(file), fixture(`snapshot/${c.name}`), `${c.name} bytes`);
    }
  });

  void it('a snapshot metadata file: decodes to the record and file CRCs, and is written the same', () => {
    const dir = path.join(tmp, 'snapshot-dir');
    const b = fixture('snapshot/snapshot.metadata');
    const md = decodeMetadata(dir, b);
    assertSnapshot(md.meta, snapshotMeta(dir), 'metadata record');
    assert.deepEqual([...md.fileCrcs], [...FILE_CRCS]);
    assertBytes(encodeMetadata(dir, snapshotMeta(dir), FILE_CRCS), b, 'metadata bytes');
  });
});
