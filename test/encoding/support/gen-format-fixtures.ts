/**
 * Writes the golden format fixtures of test/fixtures/formats/ (see its README.md): a WAL
 * segment, wire batches of both versions (bare and framed), snapshot data files, a snapshot
 * metadata file, membership and config-change payloads. Run from the repository root after a
 * build: `node dist/test/encoding/support/gen-format-fixtures.js [outDir]`.
 *
 * The committed fixtures were written by the release before src/encoding/ existed; this
 * generator is kept (ported to the current imports) so the fixtures can be inspected and the
 * compat test's expectations traced, NOT to regenerate them: the point of the fixtures is
 * that they come from the older code.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeConfigChange } from '../../../src/encoding/config-change.js';
import { encodeMembership } from '../../../src/encoding/membership.js';
import { Writer } from '../../../src/encoding/writer.js';
import { WalLogDB } from '../../../src/logdb/wal-log-db.js';
import { SnapshotFileWriter } from '../../../src/snapshot/file-writer.js';
import { writeMetadataFile } from '../../../src/snapshot/metadata-file.js';
import { BatchFrameEncoder } from '../../../src/transport/batch-encoder.js';
import { encodeBatch, writeMessage } from '../../../src/transport/codec.js';
import {
  BOOTSTRAP, BOOTSTRAP_JOIN, CLUSTER_IDS, CONFIG_CHANGES, DEPLOYMENT_ID, EMPTY_MEMBERSHIP, FILE_CRCS, HARD_STATE,
  IMPORTED_SNAPSHOT, MEMBERSHIP, SNAPSHOT_BLOCK_SIZE, SNAPSHOT_PAYLOAD, SNAPSHOT_SESSIONS, SOURCE_ADDRESS,
  logEntries, snapshotMeta, wireMessages,
} from './format-values.js';

async function main(out: string): Promise<void> {
  fs.mkdirSync(out, { recursive: true });
  const put = (name: string, b: Uint8Array): void => fs.writeFileSync(path.join(out, name), b);

  // Payloads.
  CONFIG_CHANGES.forEach((cc, i) => put(`config-change-${i}.bin`, encodeConfigChange(cc)));
  put('membership.bin', encodeMembership(MEMBERSHIP));
  put('membership-empty.bin', encodeMembership(EMPTY_MEMBERSHIP));

  // Wire: version 2 as written today, version 1 as the release before cluster identities wrote it.
  const msgs = wireMessages(encodeConfigChange);
  put('wire-batch-v2.bin', encodeBatch({ deploymentId: DEPLOYMENT_ID, sourceAddress: SOURCE_ADDRESS, messages: msgs, clusterIds: CLUSTER_IDS }));
  const w = new Writer(1024);
  w.u8(1); w.varint(DEPLOYMENT_ID); w.strVar(SOURCE_ADDRESS); w.u32be(msgs.length);
  for (const m of msgs) writeMessage(w, m);
  put('wire-batch-v1.bin', w.copyOut());
  const frames = new BatchFrameEncoder(DEPLOYMENT_ID, SOURCE_ADDRESS, 1 << 20, 1 << 20, (s) => (s === 1 ? CLUSTER_IDS[0]! : 0))
    .encode(msgs, (_m, err) => { throw err; });
  if (frames.length !== 1) throw new Error(`expected one frame, got ${frames.length}`);
  put('wire-frame-v2.bin', frames[0]!);

  // WAL: one segment holding bootstrap, entries, hard state, snapshot and import records.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sampan-fixtures-'));
  try {
    const walDir = path.join(tmp, 'wal');
    const db = await WalLogDB.open({ dir: walDir, fsync: false });
    await db.saveBootstrap(1, 1, BOOTSTRAP);
    await db.saveBootstrap(2, 1, BOOTSTRAP_JOIN);
    await db.saveUpdates([{ shardId: 1, replicaId: 1, hardState: HARD_STATE, entries: logEntries(encodeConfigChange) }]);
    await db.saveUpdates([{ shardId: 1, replicaId: 1, entries: [], snapshot: snapshotMeta('/data/snap-4') }]);
    await db.importSnapshot(IMPORTED_SNAPSHOT, 1);
    await db.close();
    fs.mkdirSync(path.join(out, 'wal'), { recursive: true });
    for (const name of fs.readdirSync(walDir)) {
      if (name.endsWith('.wal')) fs.copyFileSync(path.join(walDir, name), path.join(out, 'wal', name));
    }

    // Snapshot directory: a raw and a snappy data file, and the metadata file.
    const snapDir = path.join(tmp, 'snap');
    fs.mkdirSync(snapDir);
    const membership = encodeMembership(MEMBERSHIP);
    const raw = await SnapshotFileWriter.create(path.join(snapDir, 'snapshot.data'), { blockSize: SNAPSHOT_BLOCK_SIZE }, SNAPSHOT_SESSIONS, membership);
    await raw.write(SNAPSHOT_PAYLOAD);
    await raw.finish();
    const snappy = await SnapshotFileWriter.create(path.join(snapDir, 'snapshot-snappy.data'),
      { blockSize: SNAPSHOT_BLOCK_SIZE, compression: 'snappy' }, SNAPSHOT_SESSIONS, membership);
    await snappy.write(new Uint8Array(SNAPSHOT_PAYLOAD.length).fill(7));
    await snappy.finish();
    await writeMetadataFile(snapDir, snapshotMeta(snapDir), FILE_CRCS);
    fs.mkdirSync(path.join(out, 'snapshot'), { recursive: true });
    for (const name of fs.readdirSync(snapDir)) fs.copyFileSync(path.join(snapDir, name), path.join(out, 'snapshot', name));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main(process.argv[2] ?? 'test/fixtures/formats');
