/**
 * Typed events of a NodeHost. Listeners observe; correctness never depends on them, and a
 * listener that throws is logged and ignored.
 */
import type { Membership } from '../core/types.js';
import type { Logger } from '../logger.js';
import type { StorageError } from '../errors.js';

/** Every event a NodeHost emits, with its payload. */
export interface NodeHostEvents {
  /**
   * Leader placement started a transfer of a shard this host leads (see leader-balancer.ts):
   * to a replica of higher priority, or to even out leaders across hosts.
   */
  'leader:placement': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard (the leader). */
    replicaId: number;
    /** The replica leadership is moving to. */
    target: number;
    /** `priority`: the target outranks this leader; `balance`: this host led too many shards. */
    reason: 'priority' | 'balance';
    /** Shards this host led, before the move. */
    leading: number;
    /** Shards the target's host led, before the move. */
    targetLeading: number;
    /** ⌈shards / hosts⌉ over the shards hosted here: the most leaders balancing leaves on a host. */
    ceiling: number;
  };
  /** A replica learnt of a new leader (leaderId 0: none known) or term. */
  'leader:updated': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
    /** The leader's replica id; 0 when none is known. */
    leaderId: number;
    /** The replica's term. */
    term: number;
  };
  /** A replica applied a membership change. */
  'membership:changed': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
    /** The membership after the change. */
    membership: Membership;
  };
  /** A replica was started on this host. */
  'replica:ready': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
  };
  /** A replica was stopped on this host. */
  'replica:unloaded': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
  };
  /** A replica's state machine failed; the replica stopped. */
  'replica:failed': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
    /** What the state machine threw, or the CodecError of a compressed command that did not decode. */
    error: Error;
  };
  /** A snapshot was taken (or exported) at `index`. */
  'snapshot:created': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
    /** The last log index the snapshot includes. */
    index: number;
    /** True for an export (written to the export path, not kept as the replica's own snapshot). */
    exported: boolean;
  };
  /** A snapshot from the leader was received and committed. */
  'snapshot:received': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
    /** The last log index the snapshot includes. */
    index: number;
    /** The replica id of the sender (the leader). */
    from: number;
  };
  /** The state machine was recovered from a snapshot. */
  'snapshot:recovered': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
    /** The snapshot's index: the state machine's applied index now. */
    index: number;
  };
  /** Snapshots older than the newest few were removed. */
  'snapshot:compacted': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
    /** The index of the newest snapshot removed. */
    index: number;
  };
  /** Log entries up to `index` were removed. */
  'log:compacted': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
    /** The last index removed. */
    index: number;
  };
  /** An outgoing connection to another host was established: the other host answered on it. */
  'connection:established': {
    /** The other host's raft address. */
    address: string;
  };
  /** An outgoing connection to another host failed or stalled (once per outage, not per retry). */
  'connection:failed': {
    /** The other host's raft address. */
    address: string;
  };
  /**
   * A message for a shard came from a replica of another cluster identity and was refused
   * (`direction: 'received'`), or a peer reported refusing ours (`'reported'`). `fenced` is
   * true when this replica stopped serving because of it. Identities are 12 hex digits.
   */
  'cluster:identity-mismatch': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
    /** The replica of the other cluster. */
    remoteReplicaId: number;
    /** The raft address of the other replica's host. */
    remoteAddress: string;
    /** This replica's cluster identity. */
    localClusterId: string;
    /** The other replica's cluster identity. */
    remoteClusterId: string;
    /** `received`: this host refused the other's message; `reported`: the other refused ours. */
    direction: 'received' | 'reported';
    /** Whether this replica stopped serving the shard because of it. */
    fenced: boolean;
  };
  /**
   * A replica stopped because its own storage failed (a snapshot save hit ENOSPC or EIO; see
   * fail-stop.ts); the host and its other replicas go on. Restart the replica once fixed.
   */
  'replica:storage-failed': {
    /** The shard. */
    shardId: number;
    /** This host's replica of the shard. */
    replicaId: number;
    /** The failure; its message names the call, the errno and the path. */
    error: StorageError;
    /** The file or directory, when known. */
    path: string | null;
    /** The system error code (`ENOSPC`, `EIO`, …), when known. */
    errno: string | null;
  };
  /**
   * The host stopped because its shared write-ahead log failed (a write, fdatasync or segment
   * creation; see fail-stop.ts). Emitted just before `host:failed`. Restart on a healthy disk.
   */
  'host:storage-failed': {
    /** The failure; its message names the call, the errno and the path. */
    error: StorageError;
    /** The file or directory, when known. */
    path: string | null;
    /** The system error code (`EIO`, `ENOSPC`, …), when known. */
    errno: string | null;
  };
  /** The host stopped because of an unrecoverable error (e.g. a failed disk write). */
  'host:failed': {
    /** The error that stopped the host. */
    error: Error;
  };
}

/** An event name. */
export type NodeHostEventName = keyof NodeHostEvents;

/** A minimal typed emitter. */
export class TypedEmitter {
  private readonly listeners = new Map<NodeHostEventName, Set<(p: never) => void>>();

  constructor(private readonly logger: Logger) {}

  /** Adds a listener; returns a function that removes it. */
  on<K extends NodeHostEventName>(name: K, fn: (payload: NodeHostEvents[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(fn as (p: never) => void);
    return () => { set?.delete(fn as (p: never) => void); };
  }

  /** Calls every listener of `name`; a throwing listener is logged, never propagated. */
  emit<K extends NodeHostEventName>(name: K, payload: NodeHostEvents[K]): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    for (const fn of set) {
      try {
        (fn as (p: NodeHostEvents[K]) => void)(payload);
      } catch (e) {
        const { shardId, replicaId } = payload as { shardId?: number; replicaId?: number };
        this.logger.warn('event listener threw', { event: name, shardId, replicaId, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
}
