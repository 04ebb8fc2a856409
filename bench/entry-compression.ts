/**
 * `npm run bench:entry-compression -- [--proposals=5000] [--in-flight=64] [--bytes=1024]
 * [--rounds=1] [--fsync] [--tcp]`: what `entryCompression: 'snappy'` costs and saves with
 * compressible entries (JSON-like records of `bytes` bytes, the same for both modes).
 *
 * 1. The codec alone: the compressed size of one entry (the per-entry choice sampan makes)
 *    against a Snappy block over 8 and 64 entries together (what per-batch compression would
 *    get), and the CPU time to compress and decompress one entry.
 * 2. The write path, once per mode and round (alternating none, snappy): three NodeHosts in this
 *    process on the in-memory network (batches encoded and decoded; `--tcp`: TCP over loopback),
 *    the WAL in a temp dir (fsync off unless `--fsync`), one shard whose replicas all have the
 *    mode, `proposals` proposals from the leader with `in-flight` outstanding at once. Prints
 *    proposals per second, and per entry the WAL bytes written (the three hosts together, framing
 *    included) and the bytes the transports sent (the three hosts together: entries to the two
 *    followers, heartbeats and replies).
 *
 * Timings swing by tens of percent on a shared machine; the byte counts do not.
 */
import { decodeCommand, encodeCommand, type EntryCompression } from '../src/host/entry-compression.js';
import { snappyCompress } from '../src/snapshot/compression.js';
import { parseArgs } from './host-rpc.js';
import { startTrio } from './in-process-trio.js';

const args = parseArgs(process.argv.slice(2));
const n = Number(args.get('proposals') ?? 5000);
const inFlight = Number(args.get('in-flight') ?? 64);
const size = Number(args.get('bytes') ?? 1024);
const rounds = Number(args.get('rounds') ?? 1);
const fsync = args.has('fsync');
const tcp = args.has('tcp');

const enc = new TextEncoder();

/** Entry `i`: JSON-like records (ids, names, a status, a region, a score) cut to `size` bytes. */
function entryBytes(i: number): Uint8Array {
  let s = '';
  for (let k = 0; s.length < size; k++) {
    s += `{"id":${i * 1000 + k},"user":"user-${(i * 7 + k) % 997}","status":"active","region":"eu-west-1","score":${(i * 31 + k * 17) % 1009}},`;
  }
  return enc.encode(s.slice(0, size));
}

function codecFigures(): void {
  const sample = Array.from({ length: 1024 }, (_, i) => entryBytes(i));
  const perEntry = sample.reduce((t, e) => t + encodeCommand(e, 'snappy').cmd.length, 0) / sample.length;
  const perBatch = (k: number): number => {
    let total = 0;
    for (let i = 0; i < sample.length; i += k) {
      const batch = Buffer.concat(sample.slice(i, i + k));
      total += (snappyCompress(batch) ?? batch).length;
    }
    return total / sample.length;
  };
  console.log(`${size}-byte compressible entries, Snappy: per entry ${perEntry.toFixed(0)} bytes stored (header byte included, ratio ${(size / perEntry).toFixed(2)}); ` +
    `per batch of 8 ${perBatch(8).toFixed(0)} bytes an entry (${(size / perBatch(8)).toFixed(2)}), of 64 ${perBatch(64).toFixed(0)} (${(size / perBatch(64)).toFixed(2)})`);
  const encoded = sample.map((e) => encodeCommand(e, 'snappy').cmd);
  const reps = 20;
  let t = performance.now();
  for (let r = 0; r < reps; r++) for (const e of sample) encodeCommand(e, 'snappy');
  const cUs = (performance.now() - t) * 1000 / (reps * sample.length);
  t = performance.now();
  for (let r = 0; r < reps; r++) for (const e of encoded) decodeCommand(e, 0);
  const dUs = (performance.now() - t) * 1000 / (reps * sample.length);
  console.log(`  CPU per entry: compress ${cUs.toFixed(1)} µs, decompress (checked) ${dUs.toFixed(1)} µs`);
}

async function run(mode: EntryCompression): Promise<void> {
  const { hosts, leader, close } = await startTrio({ tcp, fsync, prefix: 'sampan-entry-compression-', shard: { entryCompression: mode } });
  try {
    const lead = leader;
    const cmds = Array.from({ length: 256 }, (_, i) => entryBytes(i));
    const drive = async (count: number): Promise<void> => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < count) {
          const k = next++;
          await lead.propose(1, cmds[k % cmds.length] as Uint8Array);
        }
      };
      await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
    };
    await drive(500); // warm-up
    const before = hosts.map((h) => h.getStats());
    const t0 = performance.now();
    await drive(n);
    const ms = performance.now() - t0;
    // Let the followers' last appends land before counting bytes.
    await new Promise((r) => setTimeout(r, 200));
    let wal = 0, wire = 0;
    hosts.forEach((h, i) => {
      const a = before[i], b = h.getStats();
      wal += (b.logdb?.bytesWritten ?? 0) - (a?.logdb?.bytesWritten ?? 0);
      wire += b.transport.bytesSent - (a?.transport.bytesSent ?? 0);
    });
    console.log(`  ${mode.padEnd(6)}: ${(n / ms * 1000).toFixed(0)} proposals/s (${n} in ${ms.toFixed(0)} ms, ${inFlight} in flight); ` +
      `per entry ${(wal / n).toFixed(0)} WAL bytes (3 hosts), ${(wire / n).toFixed(0)} wire bytes sent (3 hosts)`);
  } finally {
    await close();
  }
}

codecFigures();
console.log(`write path: 3 hosts, ${tcp ? 'TCP' : 'in-memory network'}, fsync ${fsync ? 'on' : 'off'}`);
for (let r = 0; r < rounds; r++) {
  for (const mode of ['none', 'snappy'] as const) await run(mode);
}
