/**
 * The values behind the golden format fixtures in test/fixtures/formats/: the generator
 * (gen-format-fixtures.ts) wrote them with the release before src/encoding/ existed, and the
 * compat test decodes the fixtures with the current code and compares against these.
 * Never change a value here without regenerating the fixtures from that release.
 */
import {
  ConfigChangeType, EntryType, MessageType, StateMachineType, entry, message,
  type ConfigChange, type Entry, type HardState, type Membership, type Message, type SnapshotMeta,
} from '../../../src/core/types.js';

/** Above 2^32 so the high word of every fixed u64 and a long varint are exercised. */
export const BIG = 0x12_3456_789a;

/** Config changes covering every flag combination of the payload's third byte. */
export const CONFIG_CHANGES: readonly ConfigChange[] = [
  { configChangeId: 0, type: ConfigChangeType.AddVoter, replicaId: 1, address: 'a1:7001', initialize: true },
  { configChangeId: 7, type: ConfigChangeType.AddNonVoting, replicaId: 4, address: 'héte:7004', initialize: false },
  { configChangeId: BIG, type: ConfigChangeType.AddWitness, replicaId: 5, address: 'w5:7005', initialize: false, ordered: true },
  { configChangeId: 9, type: ConfigChangeType.RemoveReplica, replicaId: 3, address: '', initialize: false, ordered: false },
];

/** A membership with every role, a removed replica and a non-ASCII address. */
export const MEMBERSHIP: Membership = {
  configChangeId: 42,
  voters: new Map([[1, 'a1:7001'], [2, 'a2:7002'], [BIG, 'big:7003']]),
  nonVoting: new Map([[4, 'héte:7004']]),
  witnesses: new Map([[5, 'w5:7005']]),
  removed: new Set([3, 300]),
};

/** An empty membership (every count zero). */
export const EMPTY_MEMBERSHIP: Membership = {
  configChangeId: 0, voters: new Map(), nonVoting: new Map(), witnesses: new Map(), removed: new Set(),
};

/** Bytes 0..n-1 mod 251 (deterministic payloads). */
export function bytes(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) % 251;
  return b;
}

/** Log entries of shard 1: a bootstrap config change, application entries, a metadata entry. */
export function logEntries(encodeCc: (cc: ConfigChange) => Uint8Array): Entry[] {
  return [
    entry({ term: 1, index: 1, type: EntryType.ConfigChange, key: 11, cmd: encodeCc(CONFIG_CHANGES[0]!) }),
    entry({ term: 1, index: 2, cmd: bytes(0) }),
    entry({ term: 2, index: 3, key: BIG, clientId: BIG + 1, seriesId: 5, respondedTo: 4, cmd: bytes(37, 1) }),
    entry({ term: 2, index: 4, type: EntryType.ConfigChange, key: 12, cmd: encodeCc(CONFIG_CHANGES[2]!) }),
    entry({ term: 3, index: 5, type: EntryType.Metadata, key: 13, clientId: 9, seriesId: 2, respondedTo: 1, cmd: bytes(0) }),
    entry({ term: 3, index: 6, key: 14, cmd: bytes(300, 2) }),
  ];
}

/** The hard state saved with the entries. */
export const HARD_STATE: HardState = { term: 3, vote: 2, commit: 5 };

/** The WAL's bootstrap record (with a cluster identity). */
export const BOOTSTRAP = {
  members: new Map([[1, 'a1:7001'], [2, 'a2:7002'], [BIG, 'big:7003']]),
  join: false,
  smType: StateMachineType.OnDisk,
  clusterId: 0xabc_def0_1234,
} as const;

/** A bootstrap record of a joiner from before cluster identities (no id). */
export const BOOTSTRAP_JOIN = { members: new Map<number, string>(), join: true, smType: StateMachineType.Regular } as const;

/** A snapshot record with external files and every flag but imported. */
export function snapshotMeta(dir: string): SnapshotMeta {
  return {
    shardId: 1, index: 4, term: 2, membership: MEMBERSHIP, filepath: `${dir}/snapshot.data`, fileSize: 1234,
    checksum: Uint8Array.from([0xde, 0xad, 0xbe, 0xef]), type: StateMachineType.OnDisk,
    files: [
      { fileId: 1, filepath: `${dir}/external-1`, fileSize: 10, metadata: bytes(5, 3) },
      { fileId: BIG, filepath: `${dir}/external-2`, fileSize: 0, metadata: bytes(0) },
    ],
    dummy: true, witness: true, onDiskIndex: 3, imported: false,
  };
}

/** An imported snapshot record (empty paths, no files). */
export const IMPORTED_SNAPSHOT: SnapshotMeta = {
  shardId: 2, index: BIG, term: 7, membership: EMPTY_MEMBERSHIP, filepath: '', fileSize: 0,
  checksum: new Uint8Array(0), type: StateMachineType.Regular, files: [],
  dummy: false, witness: false, onDiskIndex: 0, imported: true,
};

/** The wire batch's deployment id, source address and per-message cluster identities. */
export const DEPLOYMENT_ID = 0x1_0000_0001;
export const SOURCE_ADDRESS = 'src-host:7000';

/** One message of every kind that carries entries, a membership or a snapshot record. */
export function wireMessages(encodeCc: (cc: ConfigChange) => Uint8Array): Message[] {
  const entries = logEntries(encodeCc);
  return [
    message({ type: MessageType.Replicate, shardId: 1, from: 1, to: 2, term: 3, logTerm: 1, logIndex: 0, commit: 2, entries }),
    message({ type: MessageType.Replicate, shardId: BIG, from: 1, to: BIG, term: BIG, logTerm: 2, logIndex: 3, commit: 3, hint: 1, hintHigh: 2, entries: [] }),
    message({ type: MessageType.InstallSnapshot, shardId: 1, from: 1, to: 3, term: 3, snapshot: snapshotMeta('/data/snap-4') }),
    message({ type: MessageType.InstallSnapshot, shardId: 2, from: 2, to: 3, term: 7, snapshot: IMPORTED_SNAPSHOT }),
    message({ type: MessageType.ReplicateResp, shardId: 1, from: 2, to: 1, term: 3, logIndex: 6, reject: true, hint: 4 }),
    message({ type: MessageType.Heartbeat, shardId: 1, from: 1, to: 2, term: 3, commit: 5, hint: BIG, hintHigh: 77 }),
  ];
}

/** Cluster identities of {@link wireMessages} in the version-2 batch (0: unknown). */
export const CLUSTER_IDS: readonly number[] = [0xabc_def0_1234, 5, 0, 9, 0xabc_def0_1234, 1];

/** Sessions bytes and payload of the snapshot data file fixtures. */
export const SNAPSHOT_SESSIONS = bytes(23, 4);
export const SNAPSHOT_PAYLOAD = bytes(100, 5);
/** Block size of the snapshot data fixtures (small: several blocks, the last one partial). */
export const SNAPSHOT_BLOCK_SIZE = 32;
/** CRCs of the external files recorded in the metadata fixture. */
export const FILE_CRCS: ReadonlyMap<number, number> = new Map([[1, 0x1234_5678], [BIG, 0xffff_ffff]]);
