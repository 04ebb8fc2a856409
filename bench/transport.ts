// Transport benchmark (not a test): messages/s and MB/s between two TcpTransports on
// loopback, against a plain node:net socket pushing the same number of bytes in chunks of
// the same size, in the same run. Usage: npm run bench:transport [-- runs]
import net from 'node:net';
import { SeededRandom } from '../src/core/random.js';
import { EntryType, MessageType, type Message } from '../src/core/types.js';
import { TcpTransport } from '../src/transport/tcp-transport.js';
import type { TransportHandler } from '../src/contracts/transport.js';

const runs = Number(process.argv[2] ?? 3);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function msg(i: number, cmd: Uint8Array): Message {
  return {
    type: MessageType.Replicate, shardId: 1 + (i & 7), from: 1, to: 2, term: 5, logTerm: 5, logIndex: 1000 + i, commit: 1000 + i,
    reject: false, hint: 0, hintHigh: 0, snapshot: null,
    entries: [{ term: 5, index: 1001 + i, type: EntryType.Application, key: i, clientId: 0, seriesId: 0, respondedTo: 0, cmd }],
  };
}

async function transportRun(n: number, size: number): Promise<{ seconds: number; bytes: number; frames: number }> {
  let received = 0;
  const handler: TransportHandler = {
    handleMessageBatch: (b) => void (received += b.messages.length),
    handleUnreachable: () => {}, handleSnapshotStatus: () => {},
    snapshotReceiver: { tempDir: () => '/tmp', complete: () => {}, failed: () => {} },
  };
  const opts = { listenAddress: '127.0.0.1:0', deploymentId: 1, handler, random: new SeededRandom(1), maxSendQueue: 16384 };
  const a = new TcpTransport(opts);
  const b = new TcpTransport(opts);
  await a.start();
  await b.start();
  for (let s = 1; s <= 8; s++) a.setAddress(s, 2, b.address);
  const cmd = new Uint8Array(size).fill(7);
  a.send(msg(0, cmd));
  while (received < 1) await turn();
  const window = 16000;
  const t0 = performance.now();
  let sent = 0;
  while (received < n + 1) {
    const room = Math.min(n - sent, window - (sent - received), 4000);
    for (let i = 0; i < room; i++) if (a.send(msg(sent + 1, cmd))) sent++;
    await turn();
  }
  const seconds = (performance.now() - t0) / 1000;
  const st = a.stats();
  await a.close();
  await b.close();
  return { seconds, bytes: st.bytesSent, frames: st.batchesSent };
}

async function socketRun(bytes: number, chunk: number): Promise<number> {
  let got = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const server = net.createServer((s) => s.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= bytes) done();
  }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const c = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise((r) => c.once('connect', r));
  const t0 = performance.now();
  let sent = 0;
  while (sent < bytes) {
    // Same shape as the transport: a fresh buffer per frame, written per event-loop turn.
    for (let k = 0; k < 64 && sent < bytes; k++) {
      const n = Math.min(chunk, bytes - sent);
      if (!c.write(Buffer.allocUnsafe(n).fill(1))) await new Promise((r) => c.once('drain', r));
      sent += n;
    }
    await turn();
  }
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  c.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return seconds;
}

const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;

for (const [size, n] of [[16, 400_000], [1024, 100_000]] as const) {
  const t: number[] = [];
  const mb: number[] = [];
  const base: number[] = [];
  for (let r = 0; r < runs; r++) {
    const x = await transportRun(n, size);
    const s = await socketRun(x.bytes, Math.ceil(x.bytes / x.frames));
    t.push(n / x.seconds);
    mb.push(x.bytes / 1e6 / x.seconds);
    base.push(x.bytes / 1e6 / s);
    console.log(`  run ${r + 1}: ${size} B entries: ${(n / x.seconds).toFixed(0)} msg/s, ${(x.bytes / 1e6 / x.seconds).toFixed(1)} MB/s ` +
      `(${x.frames} frames, avg ${(x.bytes / x.frames).toFixed(0)} B); plain socket ${(x.bytes / 1e6 / s).toFixed(1)} MB/s`);
  }
  const mt = median(t);
  const mm = median(mb);
  const mbase = median(base);
  console.log(`${size} B entries, ${n} messages, median of ${runs}: ${mt.toFixed(0)} msg/s, ${mm.toFixed(1)} MB/s on the wire; ` +
    `plain socket ${mbase.toFixed(1)} MB/s (${(mbase / (mm / mt)).toFixed(0)} msg/s equiv.); ratio transport/socket ${(mm / mbase).toFixed(2)}`);
}
