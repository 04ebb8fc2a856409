/**
 * Entry compression (`ShardConfig.entryCompression`) through NodeHosts on the in-memory network
 * with the WAL on real files: the state machines and `queryRaftLog` see the commands as
 * proposed; the log (WAL and wire) carries fewer bytes; replicas configured differently
 * converge, a restart with the option off still applies what was compressed; a compressed
 * command that does not decode fails its replica with a typed error, and nothing else; with
 * notifyCommit a compressed proposal resolves at commit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, type Entry } from '../../src/core/types.js';
import type { LogDB } from '../../src/contracts/log-db.js';
import { CodecError, StateMachineError } from '../../src/errors.js';
import type { NodeHost } from '../../src/host/nodehost.js';
import type { Replica } from '../../src/host/replica.js';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';

const dec = new TextDecoder();

/** About `size` bytes of JSON-like records: compressible as real values are, not a run of one byte. */
function record(i: number, size = 1000): string {
  let s = '';
  for (let k = 0; s.length < size; k++) {
    s += `{"id":${i * 1000 + k},"user":"user-${(i * 7 + k) % 997}","status":"active","region":"eu-west-1","score":${(i * 31 + k * 17) % 1009}},`;
  }
  return s.slice(0, size);
}

/** The entries host `nh` stores for `shardId` (replica `replicaId`), as the WAL holds them. */
function stored(nh: NodeHost, shardId: number, replicaId: number): Entry[] {
  const db = (nh as unknown as { logdb: LogDB }).logdb;
  const range = db.getEntryRange(shardId, replicaId);
  if (range === null) return [];
  return db.readEntries(shardId, replicaId, range.firstIndex, range.lastIndex + 1, Number.MAX_SAFE_INTEGER);
}

function replicaOf(nh: NodeHost, shardId: number): Replica {
  const r = (nh as unknown as { replicas: Map<number, Replica> }).replicas.get(shardId);
  assert.ok(r !== undefined, `no replica of shard ${shardId}`);
  return r;
}

/** Sum over hosts of the WAL bytes written and the transport bytes sent. */
function bytes(c: HostCluster, hosts: readonly number[]): { wal: number; wire: number } {
  let wal = 0, wire = 0;
  for (const i of hosts) {
    const s = c.get(i).getStats();
    wal += s.logdb?.bytesWritten ?? 0;
    wire += s.transport.bytesSent;
  }
  return { wal, wire };
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

test('compression on one shard and off on another: every state machine and queryRaftLog see the commands as proposed; the compressed shard writes and sends far fewer bytes', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  const hosts = [1, 2, 3];
  try {
    for (const i of hosts) await c.start(i);
    await c.startShard(1, hosts, { config: { entryCompression: 'snappy' } });
    await c.startShard(2, hosts);
    for (const s of [1, 2]) await c.waitLeader(s, hosts);

    const n = 60;
    const used: Record<number, { wal: number; wire: number }> = {};
    const want: Record<number, string[]> = {};
    for (const s of [1, 2]) {
      const before = bytes(c, hosts);
      want[s] = Array.from({ length: n }, (_, k) => `set k${k} ${record(k)}`);
      // From every host, so followers' proposals (compressed where made, forwarded) count too.
      for (let k = 0; k < n; k++) await c.get(1 + (k % 3)).propose(s, setCmd(`k${k}`, record(k)));
      await c.until(() => hosts.every((i) => c.sm(i, s).commands.length === n), 5000, `shard ${s} applied everywhere`);
      const after = bytes(c, hosts);
      used[s] = { wal: after.wal - before.wal, wire: after.wire - before.wire };
    }

    for (const s of [1, 2]) {
      for (const i of hosts) assert.deepEqual(sorted(c.sm(i, s).commands), sorted(want[s] ?? []), `shard ${s} host ${i}: the commands as proposed`);
      assert.deepEqual(c.sm(2, s).commands, c.sm(1, s).commands, `shard ${s}: the same order`);
    }
    // The log holds Encoded entries on shard 1 (everywhere: followers store what the leader sent), plain ones on shard 2.
    for (const i of hosts) {
      const kinds = (s: number): Set<number> => new Set(stored(c.get(i), s, i).filter((e) => e.cmd.length > 100).map((e) => e.type));
      assert.deepEqual([...kinds(1)], [EntryType.Encoded], `host ${i} shard 1 stores its commands compressed`);
      assert.deepEqual([...kinds(2)], [EntryType.Application], `host ${i} shard 2 stores them as given`);
    }
    // queryRaftLog returns the commands decompressed, as application entries.
    const q = c.get(3).queryRaftLog(1, 1, c.applied(3, 1) + 1);
    const cmds = q.entries.filter((e) => e.cmd.length > 100);
    assert.ok(cmds.every((e) => e.type === 'application'));
    assert.deepEqual(sorted(cmds.map((e) => dec.decode(e.cmd))), sorted(want[1] ?? []));

    const u1 = used[1] as { wal: number; wire: number }, u2 = used[2] as { wal: number; wire: number };
    assert.ok(u1.wal < 0.5 * u2.wal, `WAL bytes: compressed ${u1.wal} vs plain ${u2.wal}`);
    assert.ok(u1.wire < 0.5 * u2.wire, `wire bytes: compressed ${u1.wire} vs plain ${u2.wire}`);
  } finally {
    await c.closeAll();
  }
});

test('session proposals are compressed too: a retried one is applied once and answers alike', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const hosts = [1, 2, 3];
  try {
    for (const i of hosts) await c.start(i);
    await c.startShard(1, hosts, { config: { entryCompression: 'snappy' } });
    await c.waitLeader(1, hosts);
    const session = await c.get(1).getNewSession(1);
    const cmd = setCmd('s', record(1));
    const first = await c.get(1).propose(1, cmd, { session });
    const retry = await c.get(2).propose(1, cmd, { session });
    assert.deepEqual(retry, first);
    for (const i of hosts) await c.get(i).readIndex(1);
    await c.until(() => hosts.every((i) => c.sm(i, 1).commands.length === 1), 3000, 'applied everywhere');
    for (const i of hosts) assert.deepEqual(c.sm(i, 1).commands, [`set s ${record(1)}`], `host ${i} applied it once, as proposed`);
    const sessionEntries = stored(c.get(1), 1, 1).filter((e) => e.clientId === session.clientId && e.cmd.length > 0);
    assert.ok(sessionEntries.length >= 1 && sessionEntries.every((e) => e.type === EntryType.Encoded), 'the session entries are stored compressed');
  } finally {
    await c.closeAll();
  }
});

test('a mixed shard (one replica compresses, two do not) converges; restarted with compression off, that replica still applies what it compressed', { timeout: 30000 }, async () => {
  const c = new HostCluster();
  const hosts = [1, 2, 3];
  try {
    for (const i of hosts) await c.start(i);
    await c.startShard(1, [1], { members: hosts, config: { entryCompression: 'snappy' } });
    await c.startShard(1, [2, 3], { members: hosts });
    await c.waitLeader(1, hosts);
    const n = 30;
    await Promise.all(Array.from({ length: n }, (_, k) => c.get(1 + (k % 3)).propose(1, setCmd(`k${k}`, record(k)))));
    await c.until(() => hosts.every((i) => c.sm(i, 1).commands.length === n), 5000, 'applied everywhere');
    for (const i of [2, 3]) assert.deepEqual(c.sm(i, 1).commands, c.sm(1, 1).commands, `host ${i} applied the same commands in the same order`);
    assert.deepEqual(sorted(c.sm(1, 1).commands), sorted(Array.from({ length: n }, (_, k) => `set k${k} ${record(k)}`)));

    // Each entry is stored as its proposer encoded it, byte for byte the same on every replica.
    const logs = hosts.map((i) => stored(c.get(i), 1, i).filter((e) => e.cmd.length > 100));
    const types = logs[0]?.map((e) => e.type) ?? [];
    assert.equal(types.filter((t) => t === EntryType.Encoded).length, n / 3, "host 1's proposals are compressed");
    assert.equal(types.filter((t) => t === EntryType.Application).length, 2 * n / 3, "hosts 2 and 3's are not");
    for (const l of logs.slice(1)) {
      assert.deepEqual(l.map((e) => [e.index, e.type, [...e.cmd]]), logs[0]?.map((e) => [e.index, e.type, [...e.cmd]]));
    }

    // A rolling change of the option: host 1 comes back with it off; a fresh state machine
    // replays the whole log, compressed entries included, by the entries' own headers.
    const before = c.sm(1, 1).commands;
    await c.crash(1);
    await c.start(1);
    await c.startShard(1, [1], { members: [] });
    await c.get(2).propose(1, setCmd('after', 'restart'));
    await c.until(() => c.sm(1, 1).commands.length === n + 1, 5000, 'host 1 replayed its log');
    assert.deepEqual(c.sm(1, 1).commands, [...before, 'set after restart']);
    assert.equal(stored(c.get(1), 1, 1).at(-1)?.type, EntryType.Application, 'proposals made with the option off are stored plain');
  } finally {
    await c.closeAll();
  }
});

test('a compressed command that does not decode fails its replica with a CodecError (StateMachineError to the proposer); the host and its other shards go on', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const hosts = [1, 2, 3];
  try {
    for (const i of hosts) await c.start(i);
    await c.startShard(1, hosts, { config: { entryCompression: 'snappy' } });
    await c.startShard(2, hosts);
    const leader = await c.waitLeader(1, hosts);
    await c.waitLeader(2, hosts);
    await c.get(leader).propose(1, setCmd('a', record(0)));
    const failed: Array<{ host: number; error: Error }> = [];
    for (const i of hosts) c.get(i).on('replica:failed', ({ shardId, error }) => { if (shardId === 1) failed.push({ host: i, error }); });

    // The header says Snappy; the block's length preamble says 100 bytes, its one literal holds 3.
    const corrupt = Uint8Array.of(0x02, 100, 0x08, 1, 2, 3);
    const r = replicaOf(c.get(leader), 1);
    await assert.rejects(r.propose(corrupt, undefined, { timeoutMs: 5000 }, undefined, EntryType.Encoded), (e: unknown) => {
      assert.ok(e instanceof StateMachineError, String(e));
      assert.ok(e.cause instanceof CodecError && e.cause.code === 'CODEC', String(e.cause));
      return true;
    });
    await c.until(() => failed.length === 3, 5000, 'every replica of shard 1 failed');
    assert.ok(failed.every((f) => f.error instanceof CodecError), 'each with the CodecError');
    // The entry is in the log: reading it back says why, typed.
    const index = stored(c.get(leader), 1, leader).at(-1)?.index ?? 0;
    assert.throws(() => c.get(leader).queryRaftLog(1, index, index + 1), CodecError);
    // Shard 1 refuses new work, typed; shard 2 on the same hosts goes on.
    await assert.rejects(c.get(leader).propose(1, setCmd('b', '1')), StateMachineError);
    for (const i of hosts) await c.get(i).propose(2, setCmd('b', String(i)));
    await c.until(() => hosts.every((i) => c.sm(i, 2).commands.length === 3), 3000, 'shard 2 applied everywhere');
  } finally {
    await c.closeAll();
  }
});

test('notifyCommit: a compressed proposal resolves at commit, as a plain one does', { timeout: 20000 }, async () => {
  const c = new HostCluster();
  const hosts = [1, 2, 3];
  try {
    for (const i of hosts) await c.start(i, { notifyCommit: true });
    await c.startShard(1, hosts, { config: { entryCompression: 'snappy' } });
    const leader = await c.waitLeader(1, hosts);
    // At apply the state machine would answer { value: 1, data }; the commit notice is { value: 0 }.
    assert.deepEqual(await c.get(leader).propose(1, setCmd('k', record(5))), { value: 0 });
    assert.equal(stored(c.get(leader), 1, leader).at(-1)?.type, EntryType.Encoded);
    await c.until(() => c.sm(leader, 1).commands.length === 1, 3000, 'applied');
    assert.deepEqual(c.sm(leader, 1).commands, [`set k ${record(5)}`]);
  } finally {
    await c.closeAll();
  }
});
