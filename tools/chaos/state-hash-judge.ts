/**
 * The judge's state-hash check (NodeHost.verifyShard through `POST /admin/verify`): after a
 * run, once the replicas converged, each shard gets one marker; every member must hash its
 * state at the marker's index, and the hashes must be equal (`compareHashes`, as
 * `GET /cluster` does). A mismatch means two state machines diverged even if every key read
 * back equal (a value the checker never reads, an order the reads cannot see).
 */
import { compareHashes, type StateHashJson } from '../../src/kv/state-hash-check.js';
import type { ChaosCluster } from './cluster.js';
import { send, sleep } from './http-client.js';

/** Verifies every shard of `cluster`; appends what went wrong to `problems`, notes each result. */
export async function sameStateHash(cluster: ChaosCluster, shards: number, problems: string[], note: (e: Record<string, unknown>) => void): Promise<void> {
  const ids = cluster.members;
  for (let shard = 1; shard <= shards; shard++) {
    let marker: StateHashJson | undefined;
    for (let attempt = 0; attempt < 10 && marker === undefined; attempt++) {
      const via = ids[attempt % ids.length] as number;
      const a = await send(cluster.node(via).httpAddr, 'POST', `/admin/verify?shard=${shard}`, undefined, 10_000);
      if (a.status === 200) marker = JSON.parse(a.text) as StateHashJson;
      else await sleep(500);
    }
    if (marker === undefined) {
      problems.push(`shard ${shard}: POST /admin/verify failed 10 times`);
      continue;
    }
    const got = new Map<number, StateHashJson | null>();
    const deadline = Date.now() + 20_000;
    while (got.size < ids.length && Date.now() < deadline) {
      for (const id of ids) {
        if (got.has(id)) continue;
        const h = (await cluster.status(id, 2000))?.shards.find((x) => x.shardId === shard)?.stateHash;
        if (h !== undefined && h !== null && h.index >= marker.index) got.set(id, h.index === marker.index ? h : null);
      }
      if (got.size < ids.length) await sleep(200);
    }
    const at = ids.map((id) => got.get(id));
    note({ event: 'state-hash', shard, index: marker.index, hashes: ids.map((id, i) => `${id}=${at[i]?.hash ?? 'none'}`).join(' ') });
    const missing = ids.filter((id) => !got.has(id));
    if (missing.length > 0) problems.push(`shard ${shard}: replicas ${missing.join(',')} did not hash the marker at ${marker.index} within 20 s`);
    if (compareHashes(at) === 'mismatch') {
      problems.push(`shard ${shard}: state hashes differ at index ${marker.index}: ${ids.map((id, i) => `${id}=${at[i]?.hash ?? 'none'}`).join(' ')}`);
    }
  }
}
