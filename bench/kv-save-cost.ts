/**
 * `node dist/bench/kv-save-cost.js [--keys=100000] [--reps=6]`: what one automatic snapshot of
 * the KV service's in-memory state machine costs the process that takes it (issue 19: all
 * three replicas used to take theirs at the same index). Fills a `MemoryKvStateMachine` with
 * `--keys` 16-byte values, then saves it `--reps` times into a real snapshot file (fsync
 * included) and prints per save the wall time, the CPU time (user + system), the file's size
 * and the longest gap between two turns of a 0 ms timer (how long the save held the thread).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryKvStateMachine } from '../src/kv/memory-state-machine.js';
import { encodeCommand, KvOp } from '../src/kv/command-codec.js';
import { SnapshotFileWriter } from '../src/snapshot/file-writer.js';
import { parseArgs } from './host-rpc.js';

const args = parseArgs(process.argv.slice(2));
const keys = Number(args.get('keys') ?? 100_000);
const reps = Number(args.get('reps') ?? 6);

const sm = new MemoryKvStateMachine();
const value = Buffer.from('0123456789abcdef');
const entries = Array.from({ length: keys }, (_, i) => ({
  index: i + 1, cmd: encodeCommand({ op: KvOp.Put, key: Buffer.from(`k${String(i).padStart(5, '0')}`), value }),
}));
sm.update(entries);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sampan-save-cost-'));
try {
  for (let rep = 0; rep < reps; rep++) {
    const file = path.join(dir, `snapshot-${rep}`);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let last = t0;
    let longest = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 0);
    const view = sm.prepareSnapshot();
    const writer = await SnapshotFileWriter.create(file, {}, new Uint8Array(0), new Uint8Array(0));
    await sm.saveSnapshot(view, writer, { addFile: () => {} }, new AbortController().signal);
    await writer.finish();
    clearInterval(probe);
    const cpu = process.cpuUsage(cpu0);
    console.log(`save ${rep + 1}: wall ${(performance.now() - t0).toFixed(1)} ms, CPU ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms, `
      + `${fs.statSync(file).size} bytes, longest gap between turns ${longest.toFixed(1)} ms`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
