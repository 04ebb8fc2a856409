/**
 * The chaos clients and the history they record. Each client is a loop of random operations
 * (get 4 : put 3 : cas 3 : delete 1) on a few keys, each against a random current member, on
 * a fresh connection, with every invocation and completion timestamped; every written value is
 * unique. An outcome is `ok`, `fail` (certainly not applied) or `info` (unknown).
 */
import { appendFileSync } from 'node:fs';
import type { ChaosCluster } from './cluster.js';
import { send, sleep, type Answer } from './http-client.js';
import type { KvOp, OpKind, OpStatus } from './linearizability.js';
import { Rng } from './rng.js';

/** The recorded history of a run (appended to `history.jsonl` as it grows). */
export class History {
  /** Every operation, in completion order. */
  readonly ops: KvOp[] = [];
  private nextId = 0;

  constructor(private readonly file: string, readonly now: () => number, private readonly conservative: boolean) {}

  /** Whether an answer proves the operation was not applied. */
  private classify(a: Answer): OpStatus {
    if (a.error !== undefined) return a.error.sent ? 'info' : 'fail';
    if (a.status === 429 || a.status === 409 || a.status === 400 || a.status === 413) return 'fail';
    if (a.status === 503 && !this.conservative) return 'fail';
    return 'info';
  }

  /** Runs one operation against the replica at `addr` (replica `node`) and records it. */
  async run(client: number, node: number, addr: string, f: OpKind, key: string, value?: string, expected?: string | null): Promise<KvOp> {
    const id = ++this.nextId;
    const path = f === 'cas' ? `/cas/${key}` : `/kv/${key}`;
    const method = f === 'put' ? 'PUT' : f === 'get' ? 'GET' : f === 'delete' ? 'DELETE' : 'POST';
    const body = f === 'put' ? value : f === 'cas' ? JSON.stringify({ expected, value }) : undefined;
    const call = this.now();
    const a = await send(addr, method, path, body, 8000);
    const ret = this.now();
    const base = { id, client, node, key, f, call, ...(value === undefined ? {} : { value }), ...(f === 'cas' ? { expected } : {}) };
    let rec: KvOp & { node: number; http?: number; error?: string };
    if (a.error === undefined && a.status === 200) {
      if (f === 'get') rec = { ...base, ret, status: 'ok', read: a.text };
      else if (f === 'cas') {
        const r = JSON.parse(a.text) as { ok: boolean; current?: string | null };
        rec = { ...base, ret, status: 'ok', ok: r.ok, ...(r.ok ? {} : { current: r.current ?? null }) };
      } else rec = { ...base, ret, status: 'ok' };
    } else if (f === 'get' && a.status === 404 && a.text.includes('KEY_NOT_FOUND')) {
      rec = { ...base, ret, status: 'ok', read: null };
    } else {
      const st = this.classify(a);
      rec = { ...base, ...(st === 'fail' ? { ret } : {}), status: st, http: a.status, error: a.error?.code ?? a.text.slice(0, 160) };
    }
    this.ops.push(rec);
    appendFileSync(this.file, `${JSON.stringify(rec)}\n`);
    return rec;
  }
}

/** Runs client `c` until `stopAt` (ms on the history's clock). */
export async function runClient(history: History, cluster: ChaosCluster, c: number, seed: number, keys: readonly string[], stopAt: number): Promise<void> {
  const rng = new Rng(seed * 1000 + c);
  const lastSeen = new Map<string, string | null>();
  let seq = 0;
  while (history.now() < stopAt) {
    const key = rng.pick(keys);
    const members = cluster.members;
    const node = members[rng.int(0, members.length - 1)] as number;
    const addr = cluster.node(node).httpAddr;
    const f = rng.weighted<OpKind>([['get', 4], ['put', 3], ['cas', 3], ['delete', 1]]);
    const value = `c${c}-${++seq}`;
    const r = f === 'get' ? await history.run(c, node, addr, 'get', key)
      : f === 'delete' ? await history.run(c, node, addr, 'delete', key)
        : f === 'put' ? await history.run(c, node, addr, 'put', key, value)
          : await history.run(c, node, addr, 'cas', key, value, rng.next() < 0.15 ? null : (lastSeen.get(key) ?? null));
    if (r.status === 'ok') {
      if (f === 'get') lastSeen.set(key, r.read ?? null);
      else if (f === 'put' || (f === 'cas' && r.ok === true)) lastSeen.set(key, value);
      else if (f === 'delete') lastSeen.set(key, null);
      else lastSeen.set(key, r.current ?? null);
    } else await sleep(r.status === 'fail' ? 200 : 10);
  }
}
