/**
 * SNAPSHOTS.md §6 on one host with real restarts: recovery from the newest snapshot and
 * replay of only the tail; damaged snapshot files refused at restart (never applied);
 * automatic snapshots every `snapshotEntries`; closing a host in the middle of a long save
 * aborts it through the AbortSignal and leaves nothing half-written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostCluster } from './support/cluster.js';
import { ConcurrentKv, KvStateMachine, OnDiskKv, setCmd } from './support/kv.js';
import { rejectsWith, settle } from './support/assert.js';
import {
  EXTERNAL_FILE_ID, FileKv, SlowConcurrentKv, SlowKv, finalIndexes, snapshotDirOf, snapshotEntries, tempNames, until,
} from './support/snapshot-sm.js';
import { ClosedError, CorruptionError } from '../../src/errors.js';
import type { NodeHost } from '../../src/host/nodehost.js';
import type { ShardConfig } from '../../src/host/config.js';
import type { SnapshotReader } from '../../src/contracts/state-machine.js';
import { dataFileName, externalFileName, finalDirName } from '../../src/snapshot/snapshot-names.js';

const dec = new TextDecoder();

/** A regular KV that records each recovery: keys recovered and updates seen before it. */
class TrackingKv extends KvStateMachine {
  readonly recoveries: Array<{ keys: number; appliedBefore: number }> = [];
  override async recoverFromSnapshot(r: SnapshotReader): Promise<void> {
    await super.recoverFromSnapshot(r);
    this.recoveries.push({ keys: this.map.size, appliedBefore: this.applied.length });
  }
}

/** As TrackingKv, concurrent. */
class TrackingConcurrentKv extends ConcurrentKv {
  readonly recoveries: Array<{ keys: number; appliedBefore: number }> = [];
  override async recoverFromSnapshot(r: SnapshotReader): Promise<void> {
    await super.recoverFromSnapshot(r);
    this.recoveries.push({ keys: this.map.size, appliedBefore: this.applied.length });
  }
}

const SHARD: ShardConfig = { shardId: 1, replicaId: 1, electionRTT: 10 };

async function leads(c: HostCluster, nh: NodeHost): Promise<void> {
  await c.until(() => nh.getNodeHostInfo().shards[0]?.isLeader === true, 5000, 'single replica leads');
}

/** Proposes `n` commands one by one; returns their indexes. */
async function write(nh: NodeHost, n: number, prefix: string, value = 'v'): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const r = await nh.propose(1, setCmd(`${prefix}${k}`, value));
    out.push(Number(dec.decode(r.data)));
  }
  return out;
}

test('§6 a regular / concurrent replica restarted from disk recovers from its newest snapshot and replays only the tail', async () => {
  for (const kind of ['regular', 'concurrent'] as const) {
    const c = new HostCluster();
    try {
      const start = async (nh: NodeHost, members: ReadonlyMap<number, string>): Promise<TrackingKv | TrackingConcurrentKv> => {
        let sm: TrackingKv | TrackingConcurrentKv | undefined;
        const cfg = { ...SHARD, compactionOverhead: 3 };
        if (kind === 'regular') await nh.startReplica(members, false, () => (sm = new TrackingKv()), cfg);
        else await nh.startConcurrentReplica(members, false, () => (sm = new TrackingConcurrentKv()), cfg);
        assert.ok(sm !== undefined);
        return sm;
      };
      const nh = await c.start(1);
      await start(nh, c.members([1]));
      await leads(c, nh);
      await write(nh, 20, 'a');
      const s1 = await nh.requestSnapshot(1);
      await write(nh, 10, 'b');
      const s2 = await nh.requestSnapshot(1);
      assert.ok(s2 > s1);
      const tail = await write(nh, 7, 't');
      assert.ok(tail.every((i) => i > s2));
      await c.crash(1);

      const nh2 = await c.start(1);
      const sm = await start(nh2, new Map());
      // Recovered from the newest snapshot (30 keys, not the 20 of the older one) before any update.
      assert.deepEqual(sm.recoveries, [{ keys: 30, appliedBefore: 0 }], `${kind}: one recovery, from snapshot ${s2}`);
      assert.equal(nh2.getNodeHostInfo().shards[0]?.snapshotIndex, s2);
      await until(() => sm.map.get('t6') === 'v', 5000, `${kind}: tail replayed`);
      // Only the tail went through update: exactly the entries after the snapshot.
      assert.deepEqual(sm.applied, tail, `${kind}: update received only the tail`);
      assert.equal(sm.map.size, 37);
    } finally {
      await c.closeAll();
    }
  }
});

test('§6 an on-disk replica restarted from disk replays nothing its own state already holds', async () => {
  const c = new HostCluster();
  try {
    const disk = { map: [] as Array<[string, string]>, index: 0 };
    const nh = await c.start(1);
    await nh.startOnDiskReplica(c.members([1]), false, () => new OnDiskKv(disk), { ...SHARD, compactionOverhead: 2 });
    await leads(c, nh);
    await write(nh, 15, 'a');
    const s = await nh.requestSnapshot(1);
    const after = await write(nh, 5, 'b');
    assert.equal(disk.index, after.at(-1));
    await c.crash(1);

    const nh2 = await c.start(1);
    let sm: OnDiskKv | undefined;
    await nh2.startOnDiskReplica(new Map(), false, () => (sm = new OnDiskKv(disk)), { ...SHARD, compactionOverhead: 2 });
    assert.ok(sm !== undefined);
    assert.equal(sm.openedAt, after.at(-1));
    assert.equal(nh2.getNodeHostInfo().shards[0]?.snapshotIndex, s);
    await leads(c, nh2);
    const more = await write(nh2, 3, 'c');
    assert.deepEqual(sm.applied, more, 'entries at or below the state machine\'s own index were not applied again');
    assert.equal(sm.lookup('b4'), 'v');
  } finally {
    await c.closeAll();
  }
});

test('§6 flipped bytes in the newest snapshot\'s data file: restart refuses with CorruptionError and never applies it', async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    await nh.startReplica(c.members([1]), false, () => new TrackingKv(), SHARD);
    await leads(c, nh);
    await write(nh, 20, 'k', 'x'.repeat(200));
    const s1 = await nh.requestSnapshot(1);
    await write(nh, 5, 'm');
    const s2 = await nh.requestSnapshot(1);
    await c.crash(1);

    const file = join(snapshotDirOf(c.hostDir(1), 1, 1), finalDirName(s2), dataFileName(s2));
    const original = readFileSync(file);
    copyFileSync(file, `${file}.orig`);
    const damages: Array<[string, (b: Buffer) => void]> = [
      ['a payload byte', (b) => { const i = Math.floor(b.length / 2); b[i] = (b[i] as number) ^ 0x20; }],
      ['a header byte', (b) => { b[20] = (b[20] as number) ^ 0x01; }],
      ['a footer byte', (b) => { const i = b.length - 6; b[i] = (b[i] as number) ^ 0x80; }],
    ];
    for (const [what, damage] of damages) {
      const b = Buffer.from(original);
      damage(b);
      writeFileSync(file, b);
      const nh2 = await c.start(1);
      let sm: TrackingKv | undefined;
      try {
        await rejectsWith(nh2.startReplica(new Map(), false, () => (sm = new TrackingKv()), SHARD), CorruptionError, 'CORRUPTION');
        assert.ok(sm !== undefined);
        assert.deepEqual(sm.recoveries, [], `${what}: the damaged snapshot was never handed to the state machine`);
        assert.deepEqual(sm.applied, [], `${what}: nothing applied`);
        assert.equal(sm.map.size, 0);
        assert.equal(nh2.getNodeHostInfo().shards.length, 0, `${what}: the replica did not start`);
      } finally {
        await c.crash(1);
      }
    }
    // With the file intact again the same directory starts and serves every write.
    writeFileSync(file, original);
    const nh3 = await c.start(1);
    let sm: TrackingKv | undefined;
    await nh3.startReplica(new Map(), false, () => (sm = new TrackingKv()), SHARD);
    assert.deepEqual(sm?.recoveries, [{ keys: 25, appliedBefore: 0 }]);
    assert.ok(s1 < s2);
  } finally {
    await c.closeAll();
  }
});

test('§6 flipped bytes in an external file of the newest snapshot: restart refuses with CorruptionError and never applies it', async () => {
  const c = new HostCluster();
  try {
    const scratch = join(c.dir, 'sm-files');
    const nh = await c.start(1);
    await nh.startReplica(c.members([1]), false, () => new FileKv(scratch), SHARD);
    await leads(c, nh);
    await write(nh, 10, 'k', 'value');
    const s = await nh.requestSnapshot(1);
    await c.crash(1);

    const ext = join(snapshotDirOf(c.hostDir(1), 1, 1), finalDirName(s), externalFileName(EXTERNAL_FILE_ID));
    const original = readFileSync(ext);
    // Damage that keeps the JSON valid: one value's letter changed ("value" → "valuf").
    const text = original.toString('utf8');
    const at = text.indexOf('value') + 4;
    const damaged = Buffer.from(original);
    damaged[at] = 'f'.charCodeAt(0);
    writeFileSync(ext, damaged);
    const nh2 = await c.start(1);
    let sm: FileKv | undefined;
    const r = await settle(nh2.startReplica(new Map(), false, () => (sm = new FileKv(scratch)), SHARD));
    assert.ok(sm !== undefined);
    const seen = [...sm.map.values()].filter((v) => v !== 'value');
    assert.deepEqual(seen, [], `corrupt external file data was applied to the state machine: ${JSON.stringify(seen)}`);
    assert.equal(sm.recoveries.length, 0, 'the damaged snapshot was handed to recoverFromSnapshot');
    assert.ok(!r.ok && r.error instanceof CorruptionError, `expected CorruptionError, got ${r.ok ? 'a started replica' : String(r.error)}`);
  } finally {
    await c.closeAll();
  }
});

test('§6 automatic snapshots are taken every snapshotEntries applied entries, by the same path (compaction, retention)', async () => {
  const c = new HostCluster();
  try {
    const nh = await c.start(1);
    await nh.startReplica(c.members([1]), false, () => new KvStateMachine(), { ...SHARD, snapshotEntries: 10, compactionOverhead: 4 });
    const created: Array<{ index: number; exported: boolean }> = [];
    nh.on('snapshot:created', (e) => created.push({ index: e.index, exported: e.exported }));
    await leads(c, nh);
    const idx = await write(nh, 65, 'k');
    const last = idx.at(-1) as number;
    await until(() => (created.at(-1)?.index ?? 0) > last - 10, 3000, 'the last automatic snapshot');
    await new Promise((r) => setTimeout(r, 50));
    const at = created.map((e) => e.index);
    assert.ok(created.every((e) => !e.exported));
    assert.ok(at.length >= 6 && at.length <= 7, `~${Math.floor(last / 10)} snapshots for ${last} entries, got ${at.join(',')}`);
    assert.ok((at[0] as number) >= 10 && (at[0] as number) <= 12, `first at ${at[0]}`);
    for (let k = 1; k < at.length; k++) {
      const gap = (at[k] as number) - (at[k - 1] as number);
      assert.ok(gap >= 10 && gap <= 12, `gap ${gap} between automatic snapshots ${at.join(',')}`);
    }
    const info = nh.getNodeHostInfo().shards[0];
    assert.equal(info?.snapshotIndex, at.at(-1));
    assert.equal(info?.firstLogIndex, (at.at(-1) as number) - 4 + 1, 'automatic snapshots compact like requested ones');
    const names = snapshotEntries(c.hostDir(1), 1, 1);
    assert.deepEqual(finalIndexes(names), at.slice(-3));
    assert.deepEqual(tempNames(names), []);
  } finally {
    await c.closeAll();
  }
});

test('§6 automatic snapshots on every replica of a 3-replica concurrent shard, at different points of the log', async () => {
  const c = new HostCluster();
  try {
    const counts = new Map<number, number>();
    const at = new Map<number, number[]>();
    for (const i of [1, 2, 3]) {
      const nh = await c.start(i);
      nh.on('snapshot:created', (e) => {
        if (e.exported) return;
        counts.set(i, (counts.get(i) ?? 0) + 1);
        at.set(i, [...(at.get(i) ?? []), e.index]);
      });
      await nh.startConcurrentReplica(c.members([1, 2, 3]), false, () => new ConcurrentKv(), { shardId: 1, replicaId: i, electionRTT: 20, snapshotEntries: 8 });
    }
    const leader = await c.waitLeader(1, [1, 2, 3]);
    for (let k = 0; k < 40; k++) await c.get(leader).propose(1, setCmd(`k${k}`, 'v'));
    await until(() => [1, 2, 3].every((i) => (counts.get(i) ?? 0) >= 4), 5000, 'automatic snapshots on every replica');
    for (const i of [1, 2, 3]) {
      assert.ok((counts.get(i) ?? 0) <= 6, `host ${i}: ${counts.get(i)} snapshots for ~42 entries`);
      // The fourth is at least three intervals past the first (itself at least 4 in).
      assert.ok((c.get(i).getNodeHostInfo().shards[0]?.snapshotIndex ?? 0) >= 28);
    }
    // Staggered (snapshot-stagger.ts): replica 1 at 8, 16…, replica 2 at 6, 14…, replica 3 at
    // 11, 19…; an apply batch running past a point may bring two together, not all three.
    const firsts = [1, 2, 3].map((i) => at.get(i)?.[0]);
    assert.ok(new Set(firsts).size >= 2, `first automatic snapshots at ${firsts.join(', ')}: all at one index`);
  } finally {
    await c.closeAll();
  }
});

test('§6 closing a host in the middle of a long snapshot aborts it via the AbortSignal: ClosedError, nothing half-written, clean restart', async () => {
  for (const kind of ['regular', 'concurrent'] as const) {
    const c = new HostCluster();
    try {
      const nh = await c.start(1);
      const slow = kind === 'regular' ? new SlowKv(20_000) : new SlowConcurrentKv(20_000);
      if (slow instanceof SlowKv) await nh.startReplica(c.members([1]), false, () => slow, SHARD);
      else await nh.startConcurrentReplica(c.members([1]), false, () => slow, SHARD);
      let created = 0;
      nh.on('snapshot:created', () => { created++; });
      await leads(c, nh);
      await write(nh, 10, 'k');
      const p = settle(nh.requestSnapshot(1, { timeoutMs: 30_000 }));
      await until(() => slow.stats.started === 1, 3000, `${kind}: the save started`);
      await until(() => snapshotEntries(c.hostDir(1), 1, 1).some((n) => n.endsWith('.generating')), 3000, `${kind}: a temp dir exists`);
      const t0 = Date.now();
      await c.crash(1);
      const closeMs = Date.now() - t0;
      assert.ok(closeMs < 3000, `${kind}: close waited ${closeMs} ms for a 20 s save: not aborted`);
      const r = await p;
      assert.ok(!r.ok && r.error instanceof ClosedError, `${kind}: the pending request failed with ${r.ok ? r.value : String(r.error)}`);
      assert.equal(slow.stats.aborted, 1, `${kind}: the state machine saw the abort signal`);
      assert.equal(slow.stats.finished, 0);
      assert.equal(created, 0);
      assert.deepEqual(snapshotEntries(c.hostDir(1), 1, 1), [], `${kind}: no partial or committed snapshot left`);

      const nh2 = await c.start(1);
      let sm: KvStateMachine | ConcurrentKv | undefined;
      if (kind === 'regular') await nh2.startReplica(new Map(), false, () => (sm = new KvStateMachine()), SHARD);
      else await nh2.startConcurrentReplica(new Map(), false, () => (sm = new ConcurrentKv()), SHARD);
      await until(() => sm?.map.get('k9') === 'v', 5000, `${kind}: replayed after restart`);
      assert.equal(sm?.map.size, 10);
      await leads(c, nh2);
      await write(nh2, 1, 'after');
      const idx = await nh2.requestSnapshot(1);
      assert.deepEqual(snapshotEntries(c.hostDir(1), 1, 1), [finalDirName(idx)]);
    } finally {
      await c.closeAll();
    }
  }
});

