/**
 * The single-replica host that the SIGKILL test's child runs (fixtures/snapshot-crash-host.ts)
 * and that the test restarts in its own process on the same directory: one definition, so
 * both sides open the same shard with the same state machine and settings.
 */
import { join } from 'node:path';
import { NodeHost } from '../../../src/host/nodehost.js';
import type { ShardConfig } from '../../../src/host/config.js';
import { MemoryNetwork } from '../../../src/transport/memory-network.js';
import { FileKv } from './snapshot-sm.js';

export const CRASH_ADDRESS = '127.0.0.1:29001';
export const CRASH_SHARD: ShardConfig = { shardId: 1, replicaId: 1, electionRTT: 10, compactionOverhead: 3 };

/** The host directory and the state machines' scratch directory under `base`. */
export function crashDirs(base: string): { hostDir: string; scratch: string } {
  return { hostDir: join(base, 'host'), scratch: join(base, 'sm-files') };
}

/**
 * Opens the host on `base` and starts the replica (a new shard when `fresh`); resolves once it
 * leads. The FileKv made is returned so the caller can look at what it recovered.
 */
export async function openCrashHost(base: string, fresh: boolean): Promise<{ nh: NodeHost; sm: () => FileKv }> {
  const { hostDir, scratch } = crashDirs(base);
  const net = new MemoryNetwork({ seed: 1 });
  const nh = await NodeHost.create({
    nodeHostDir: hostDir, raftAddress: CRASH_ADDRESS, rttMillisecond: 10,
    transportFactory: (handler) => net.createTransport({ address: CRASH_ADDRESS, handler }),
  });
  let sm: FileKv | undefined;
  try {
    await nh.startReplica(fresh ? new Map([[1, CRASH_ADDRESS]]) : new Map(), false, () => (sm = new FileKv(scratch, true)), CRASH_SHARD);
  } catch (e) {
    await nh.close();
    throw e;
  }
  return { nh, sm: () => sm as FileKv };
}

/** Waits until the replica leads (bounded). */
export async function crashHostLeads(nh: NodeHost, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (nh.getNodeHostInfo().shards[0]?.isLeader !== true) {
    if (Date.now() > end) throw new Error('the crash host did not become leader');
    await new Promise((r) => setTimeout(r, 5));
  }
}
