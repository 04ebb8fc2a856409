/**
 * The options form of `NodeHost.startReplica` (and its concurrent and on-disk variants): the
 * four positional parameters of dragonboat's `StartReplica(initialMembers, join, create,
 * config)` by name, in one object, so a call reads without counting booleans:
 *
 * ```ts
 * const kv = await nh.startReplica({ initialMembers, create: () => new MySM(), config: { shardId: 1, replicaId: 1 } });
 * await kv.propose(cmd);
 * ```
 *
 * It resolves with a {@link ShardHandle} whose `read` is typed by the state machine's `lookup`.
 * The positional form stays, unchanged, and resolves with nothing.
 */
import { InvalidOptionError } from '../errors.js';
import type { ReplicaId } from '../contracts/ids.js';
import type { StateMachineFactory } from '../contracts/state-machine.js';
import type { ShardConfig } from './config.js';
import type { ShardHandle } from './shard-handle.js';

/** How to start a replica: what `startReplica`'s positional parameters say, by name. */
export interface StartOptions<SM> {
  /**
   * The voting members of a new shard (replica id → raft address), this replica among them.
   * Omit (or leave empty) to join an existing shard or to restart from this host's data.
   */
  readonly initialMembers?: ReadonlyMap<ReplicaId, string>;
  /** Join an existing shard (after `requestAddReplica` there) instead of forming one. Default false. */
  readonly join?: boolean;
  /** Makes this replica's state machine; called once per start. */
  readonly create: StateMachineFactory<SM>;
  /** The replica's settings: at least `shardId` and `replicaId`. */
  readonly config: ShardConfig;
}

/** The query type of a state machine's `lookup` (`unknown` when it does not say). */
export type QueryOf<SM> = SM extends {
  /** The state machine's lookup. */
  lookup(query: infer Q): unknown;
} ? Q : unknown;

/** The result type of a state machine's `lookup`, awaited (`unknown` when it does not say). */
export type ResultOf<SM> = SM extends {
  /** The state machine's lookup. */
  lookup(query: never): infer R;
} ? Awaited<R> : unknown;

/** The handle the options form of a start resolves with, typed by the state machine's `lookup`. */
export type HandleOf<SM> = ShardHandle<QueryOf<SM>, ResultOf<SM>>;

/** Either form of a start's arguments. */
export type StartArgs<SM> =
  | [options: StartOptions<SM>]
  | [initialMembers: ReadonlyMap<ReplicaId, string>, join: boolean, create: StateMachineFactory<SM>, config: ShardConfig];

/** A start's arguments, whichever form they came in. */
export interface StartRequest<SM> {
  /** The initial members (empty when none). */
  readonly initialMembers: ReadonlyMap<number, string>;
  /** Whether the replica joins. */
  readonly join: boolean;
  /** The state machine factory. */
  readonly create: StateMachineFactory<SM>;
  /** The replica's settings. */
  readonly config: ShardConfig;
  /** True for the options form (which resolves with a handle). */
  readonly options: boolean;
}

/**
 * Reads a start's arguments in either form.
 * @throws InvalidOptionError for an options object without a `create` function or `config`,
 *   or `initialMembers` that is not a Map.
 */
export function startArgs<SM>(args: StartArgs<SM>): StartRequest<SM> {
  if (args.length !== 1) {
    const [initialMembers, join, create, config] = args;
    return { initialMembers, join, create, config, options: false };
  }
  const o = args[0] as Partial<StartOptions<SM>> | null;
  if (typeof o !== 'object' || o === null) throw new InvalidOptionError('start options must be an object');
  if (typeof o.create !== 'function') throw new InvalidOptionError('start options need a create function');
  if (typeof o.config !== 'object' || o.config === null) throw new InvalidOptionError('start options need a config');
  const members = o.initialMembers ?? new Map<number, string>();
  if (typeof members.entries !== 'function') throw new InvalidOptionError('initialMembers must be a Map of replica id to address');
  return { initialMembers: members, join: o.join ?? false, create: o.create, config: o.config, options: true };
}
