/**
 * Shard and replica ids as the API names them (part of sampan's contracts, `src/contracts/`).
 *
 * Both are numbers with a *soft* brand: the brand property is optional, so a plain `number`
 * is accepted wherever a {@link ShardId} or {@link ReplicaId} is (every dragonboat-style call
 * keeps taking `1`), and a branded id is accepted wherever a `number` is. What the brand
 * refuses, at compile time, is one kind of id where the other is expected: a value made by
 * {@link replicaId} (or read from a field typed {@link ReplicaId}) passed as a shard id. A hard
 * brand (`number & { __brand: 'ShardId' }`) would refuse plain numbers too, breaking every
 * existing caller; no brand at all would catch nothing.
 */
import { InvalidOptionError } from '../errors.js';

/** The key of the optional brand property; it exists in types only, never on a value. */
declare const idKind: unique symbol;

/** A shard id: a positive safe integer. A plain number is one too; see the module comment. */
export type ShardId = number & {
  /** The kind of id: in types only, absent from every value. */
  readonly [idKind]?: 'ShardId';
};

/** A replica id within a shard: a positive safe integer. A plain number is one too; see the module comment. */
export type ReplicaId = number & {
  /** The kind of id: in types only, absent from every value. */
  readonly [idKind]?: 'ReplicaId';
};

function positive(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidOptionError(`${what} ${String(n)} is not a positive safe integer`);
  return n;
}

/**
 * `n` as a {@link ShardId}, checked.
 * @throws InvalidOptionError unless `n` is a positive safe integer.
 */
export function shardId(n: number): ShardId {
  return positive('shard id', n) as ShardId;
}

/**
 * `n` as a {@link ReplicaId}, checked.
 * @throws InvalidOptionError unless `n` is a positive safe integer.
 */
export function replicaId(n: number): ReplicaId {
  return positive('replica id', n) as ReplicaId;
}
