/**
 * `node dist/bench/profile-library.js [--shards=1] [--inflight=1] [--size=16] [--seconds=5] [--read]`:
 * one load run of the library workload (`library.ts`) with every host under `node --cpu-prof`,
 * then the hottest functions (self time) of each host. Host 1 is not necessarily the leader:
 * the line `leads` says which host leads which shards. `--no-prof` runs without the profiler
 * and `--reps=N` repeats the run (one line each): a quick A/B of two builds. Each run also prints
 * its counts per 1,000 proposals and CPU µs per proposal per process (figures the machine's load
 * moves less than ops/s); `--types` adds the messages each host sent, by type (a wrapper of the
 * transport's `send`, so leave it off when measuring ops/s).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLoad, startLibrary } from './library.js';
import { parseArgs, topSelfTime } from './host-rpc.js';
import { MessageType } from '../src/core/types.js';

/** Message type names by number, for `--types`. */
const MESSAGE_NAMES = new Map<number, string>(Object.entries(MessageType).map(([name, n]) => [n, name]));

const args = parseArgs(process.argv.slice(2));
const shards = Number(args.get('shards') ?? 1);
const inflight = Number(args.get('inflight') ?? 1);
const size = Number(args.get('size') ?? 16);
const seconds = Number(args.get('seconds') ?? 5);
const top = Number(args.get('top') ?? 25);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sampan-prof-'));
const profDir = path.join(dir, 'prof');
const prof = !args.has('no-prof');
const reps = Number(args.get('reps') ?? 1);
const cl = await startLibrary(dir, shards, prof ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-name=host-{i}.cpuprofile'] : []);
try {
  await runLoad(cl, inflight, size, 1, args.has('read'));
  for (let i = 0; i < reps; i++) {
    const r = await runLoad(cl, inflight, size, seconds, args.has('read'), args.has('types'));
    console.log(`${inflight} in flight, ${shards} shard(s): ${r.ops.toFixed(0)} ops/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, p99.9 ${r.p999.toFixed(2)} ms, CPU ${r.cpuPct.map((c) => c.toFixed(0)).join('/')} % (user ${r.userPct.map((c) => c.toFixed(0)).join('/')}), `
      + `passes/s ${r.rates.map((x) => x.passes).join('/')}, frames/s ${r.rates.map((x) => x.frames).join('/')}, messages/s ${r.rates.map((x) => x.messages).join('/')}`);
    console.log(`  per process: pass p50 ms ${r.timings.map((x) => x.passMs.toFixed(2)).join('/')}, LogDB batch p50 ms ${r.timings.map((x) => x.batchMs.toFixed(2)).join('/')}, `
      + `fdatasync p50/p90 ms ${r.timings.map((x) => `${x.syncMsP50.toFixed(2)}:${x.syncMsP90.toFixed(2)}`).join('/')}, syncs/s ${r.timings.map((x) => x.syncsPerSec).join('/')}, entries/batch ${r.timings.map((x) => x.entriesPerBatch).join('/')}`);
    // The same counts per 1,000 proposals (whole cluster's proposals; one figure per process),
    // and CPU µs per proposal: figures that do not move with the machine's load as ops/s do.
    const k = (x: number): string => ((x / r.ops) * 1000).toFixed(2);
    console.log(`  per 1k proposals: passes ${r.rates.map((x) => k(x.passes)).join('/')}, updates ${r.rates.map((x) => k(x.updates)).join('/')}, frames ${r.rates.map((x) => k(x.frames)).join('/')}, `
      + `messages ${r.rates.map((x) => k(x.messages)).join('/')}, syncs ${r.timings.map((x) => k(x.syncsPerSec)).join('/')}; `
      + `CPU µs/proposal ${r.cpuPct.map((c) => ((c / 100 / r.ops) * 1e6).toFixed(2)).join('/')} (sum ${((r.cpuPct.reduce((a, b) => a + b, 0) / 100 / r.ops) * 1e6).toFixed(2)})`);
    if (args.has('types')) {
      const total = r.ops * seconds;
      r.types.forEach((ts, i) => console.log(`  host-${i + 1} messages per 1k proposals by type: ${[...ts].sort((a, b) => b.n - a.n)
        .map((t) => `${MESSAGE_NAMES.get(t.type) ?? t.type} ${((t.n / total) * 1000).toFixed(2)}${t.entries > 0 ? ` (${(t.entries / t.n).toFixed(1)} entries each)` : ''}`).join(', ')}`));
    }
  }
  console.log(`leads: ${cl.led.map((s, i) => `host-${i + 1}: [${s.join(',')}]`).join(' ')}`);
} finally {
  await cl.stop();
}
for (let i = 1; i <= 3; i++) {
  const f = path.join(profDir, `host-${i}.cpuprofile`);
  if (fs.existsSync(f)) console.log([`\nhost-${i}:`, ...topSelfTime(f, top)].join('\n'));
}
if (!args.has('keep')) fs.rmSync(dir, { recursive: true, force: true });
else console.log(`kept ${dir}`);
