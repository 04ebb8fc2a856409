/**
 * The checks a replica's start makes about who it is: the initial members it is given, and
 * the cluster identity it starts with (see cluster-identity.ts).
 */
import { InvalidOptionError } from '../errors.js';
import type { Bootstrap } from '../contracts/log-db.js';
import type { Logger } from '../logger.js';
import type { SnapshotMeta } from '../core/types.js';
import { deriveClusterId, formatClusterId } from './cluster-identity.js';
import { isMemberAddress, type ResolvedShardConfig } from './config.js';
import { membersToBootstrapAgain } from './start-cleanup.js';
import type { LogDB } from '../contracts/log-db.js';

/**
 * Refuses initial members that cannot describe one cluster as this host sees it: the entry
 * for this replica must be this host's raft address or its host id (`nhid-<hostId>`; a replica
 * listed at another address would be two members in one), and no two members may share an address.
 * @throws InvalidOptionError naming the member(s).
 */
export function checkInitialMembers(members: ReadonlyMap<number, string>, replicaId: number, raftAddress: string, hostId?: string): void {
  const own = members.get(replicaId);
  if (own !== undefined && own !== raftAddress && (hostId === undefined || own !== `nhid-${hostId}`)) {
    throw new InvalidOptionError(`initial members list replica ${replicaId} at ${own}, but this host's raft address is ${raftAddress}`);
  }
  const byAddress = new Map<string, number>();
  for (const [id, address] of members) {
    const other = byAddress.get(address);
    if (other !== undefined) throw new InvalidOptionError(`initial members ${other} and ${id} have the same address ${address}`);
    byAddress.set(address, id);
  }
}

/** How `given` differs from `stored`, as one phrase, or null when they are equal. */
export function describeMemberDifference(given: ReadonlyMap<number, string>, stored: ReadonlyMap<number, string>): string | null {
  const parts: string[] = [];
  for (const [id, address] of given) {
    const was = stored.get(id);
    if (was === undefined) parts.push(`${id}=${address} is new`);
    else if (was !== address) parts.push(`${id} was ${was}, now ${address}`);
  }
  for (const [id, address] of stored) if (!given.has(id)) parts.push(`${id}=${address} is missing`);
  return parts.length === 0 ? null : parts.join(', ');
}

/** What a replica starts with, and whether its bootstrap record must be (re)written. */
export interface StartIdentity {
  readonly clusterId: number;
  /** The bootstrap record to save before the replica runs, or null to keep the stored one. */
  readonly save: Bootstrap | null;
}

/**
 * The cluster identity a replica starts with: derived from the initial members when it
 * bootstraps; the stored one when it restarts (derived now from the stored members, or from
 * an imported snapshot, for data written before identities existed); the expected one, or
 * none until first contact, when it joins. Warns (one line) when a restart is given initial
 * members other than those it was bootstrapped with: they are ignored, the log holds the
 * membership.
 * @throws InvalidOptionError when `cfg.clusterId` is given and differs.
 */
export function startIdentity(a: {
  cfg: ResolvedShardConfig; stored: Bootstrap | null; initialMembers: ReadonlyMap<number, string>; join: boolean;
  smType: Bootstrap['smType']; snapshot: SnapshotMeta; logger: Logger;
}): StartIdentity {
  const { cfg, stored } = a;
  let clusterId: number;
  let save: Bootstrap | null = null;
  if (stored === null) {
    clusterId = a.join ? cfg.clusterId : deriveClusterId(cfg.shardId, a.initialMembers, cfg.clusterToken);
    save = { members: a.initialMembers, join: a.join, smType: a.smType, ...(clusterId !== 0 ? { clusterId } : {}) };
  } else {
    clusterId = stored.clusterId ?? 0;
    if (clusterId === 0 && !stored.join && stored.members.size > 0) {
      clusterId = deriveClusterId(cfg.shardId, stored.members, cfg.clusterToken);
    } else if (clusterId === 0 && a.snapshot.imported && a.snapshot.membership.voters.size > 0) {
      // Every replica imported from one export with one member list derives the same identity.
      clusterId = deriveClusterId(cfg.shardId, a.snapshot.membership.voters, `imported at ${a.snapshot.index}/${a.snapshot.term}`);
    } else if (clusterId === 0 && cfg.clusterId !== 0) {
      clusterId = cfg.clusterId;
    }
    if (clusterId !== (stored.clusterId ?? 0)) save = { ...stored, clusterId };
    if (a.initialMembers.size > 0) {
      const diff = describeMemberDifference(a.initialMembers, stored.members);
      if (diff !== null && !stored.join) {
        a.logger.warn(`shard ${cfg.shardId} replica ${cfg.replicaId}: the initial members given differ from those it was bootstrapped with (${diff}); ignored, the log holds the membership`, {
          shardId: cfg.shardId, replicaId: cfg.replicaId,
        });
      }
    }
  }
  if (cfg.clusterId !== 0 && clusterId !== 0 && cfg.clusterId !== clusterId) {
    throw new InvalidOptionError(`shard ${cfg.shardId} replica ${cfg.replicaId} belongs to cluster ${formatClusterId(clusterId)}, not ${formatClusterId(cfg.clusterId)}`);
  }
  return { clusterId, save };
}

/**
 * Checks a start's initial members and join flag against what this host holds for the
 * replica, and returns the members to bootstrap it with: the given ones for a new replica;
 * none when it restarts from its log (or the stored ones, when a first start never wrote its
 * bootstrap entries).
 * @throws InvalidOptionError naming the problem.
 */
export function startMembers(a: {
  cfg: ResolvedShardConfig; initialMembers: ReadonlyMap<number, string>; join: boolean; stored: Bootstrap | null;
  raftAddress: string; hostId?: string; logdb: LogDB; logger: Logger;
}): ReadonlyMap<number, string> {
  const { cfg, initialMembers, join, stored } = a;
    for (const [id, addr] of initialMembers) {
      if (!Number.isSafeInteger(id) || id <= 0) throw new InvalidOptionError(`initial member id ${id} is invalid`);
      if (!isMemberAddress(addr)) throw new InvalidOptionError(`initial member ${id} has an invalid address '${addr}'`);
    }
    if (join && initialMembers.size > 0) throw new InvalidOptionError('a joining replica takes no initial members');
    let members: ReadonlyMap<number, string> = initialMembers;
    if (stored === null) {
      if (!join && initialMembers.size === 0) {
        throw new InvalidOptionError(`shard ${cfg.shardId} replica ${cfg.replicaId} has no data here: give initial members or join`);
      }
      if (!join && !initialMembers.has(cfg.replicaId) && !cfg.isNonVoting && !cfg.isWitness) {
        throw new InvalidOptionError(`initial members do not include replica ${cfg.replicaId}`);
      }
      checkInitialMembers(initialMembers, cfg.replicaId, a.raftAddress, a.hostId);
    } else {
      // Restarting: the log holds the membership (unless the first start never wrote it).
      members = membersToBootstrapAgain(a.logdb, cfg.shardId, cfg.replicaId, stored, a.logger) ?? new Map();
    }
  return members;
}
