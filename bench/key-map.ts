/**
 * `node dist/bench/key-map.js [--live=1024] [--ops=2000000] [--reps=3]`: what a replica's
 * table of waiting proposals costs by itself, per proposal (one `set`, one `get`, one
 * `delete`), with `--live` proposals waiting and keys counted up from a 50-bit start as a
 * replica numbers them: a `Map` keyed by those keys (doubles, not small integers) against the
 * window the host uses (`src/host/sequential-key-map.ts`). Each waiter is a fresh object, as a
 * proposal's is. Prints ns per proposal for each, per repetition. This is the structure alone,
 * in a loop that does nothing else: what it does to the collector among a real write path's
 * objects is `trio-cpu.js`'s to show.
 */
import { parseArgs } from './host-rpc.js';
import { SequentialKeyMap } from '../src/host/sequential-key-map.js';

const args = parseArgs(process.argv.slice(2));
const live = Number(args.get('live') ?? 1024);
const ops = Number(args.get('ops') ?? 2_000_000);
const reps = Number(args.get('reps') ?? 3);

/** The three calls the host makes on its table. */
interface Table { set(k: number, v: { k: number }): void; get(k: number): { k: number } | undefined; delete(k: number): boolean }

/** ns per proposal for `table`: `live` waiting, then `ops` proposals each added, found and removed (oldest first). */
function measure(table: Table): number {
  const base = 2 ** 49 + 12_345;
  let next = base;
  let oldest = base;
  for (let i = 0; i < live; i++) { table.set(next, { k: next }); next++; }
  let found = 0;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    table.set(next, { k: next });
    next++;
    if (table.get(oldest) !== undefined) found++;
    table.delete(oldest);
    oldest++;
  }
  const ms = performance.now() - t0;
  if (found !== ops) throw new Error(`found ${found} of ${ops}`);
  return (ms * 1e6) / ops;
}

for (let r = 1; r <= reps; r++) {
  const map = measure(new Map<number, { k: number }>());
  const win = measure(new SequentialKeyMap<{ k: number }>());
  console.log(`rep ${r}: ${live} waiting, ${ops} proposals: Map ${map.toFixed(0)} ns, window ${win.toFixed(0)} ns per proposal`);
}
