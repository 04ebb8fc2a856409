/**
 * `node dist/bench/accept-burst.js [--kind=http|net] [--conns=256] [--seconds=1] [--reps=4]`:
 * how fast a Node server takes a burst of new connections while it is busy with the ones it
 * has (issue 19: the service's p99 over a second of fresh connections was near one second).
 * One server process for all runs (`node:http` keeping PUT bodies in a `Map` and answering
 * `{}`, with nothing else behind it, or a bare `net` server answering each request head with a
 * fixed response); each run
 * is one `wrk` opening `--conns` connections at once for `--seconds`. Per run it prints wrk's
 * p99 and longest latency, when the server accepted the connections (the count in the first
 * 100 ms, the last one's offset from the first), and the largest accept queue `ss -ltn` saw on
 * the listener (sampled every 50 ms). Needs wrk and ss (Debian: wrk, iproute2).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './host-rpc.js';
import { freePorts } from '../tools/free-ports.js';

const args = parseArgs(process.argv.slice(2));

/** The server: accept times (ms) since the last report; "report" on stdin prints and clears them. */
function child(kind: string, port: number): void {
  let accepted: number[] = [];
  const note = (): void => { accepted.push(performance.now()); };
  if (kind === 'http') {
    const store = new Map<string, Buffer>();
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'PUT') store.set(req.url ?? '', Buffer.concat(chunks));
        res.writeHead(200, ['content-type', 'application/json', 'content-length', '2']);
        res.end('{}');
      });
    });
    server.on('connection', note);
    server.listen(port, '127.0.0.1', () => console.log('ready'));
  } else {
    const reply = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}');
    const server = createNetServer((s: Socket) => {
      note();
      s.on('data', (d: Buffer) => {
        // One answer per request head seen (wrk's requests are small and never split here).
        for (let i = d.indexOf('\r\n\r\n'); i >= 0; i = d.indexOf('\r\n\r\n', i + 4)) s.write(reply);
      });
      s.on('error', () => {});
    });
    server.listen(port, '127.0.0.1', () => console.log('ready'));
  }
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', () => {
    console.log(JSON.stringify(accepted));
    accepted = [];
  });
}

/** The next line `c` prints. */
function nextLine(c: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const on = (d: Buffer): void => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      c.stdout?.off('data', on);
      resolve(buf.slice(0, nl));
    };
    c.stdout?.on('data', on);
  });
}

/** The listener's accept queue (Recv-Q of `ss -ltn` for the port), or -1 when ss fails. */
function acceptQueue(port: number): number {
  const r = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  const q = Number(r.stdout?.trim().split(/\s+/)[1]);
  return Number.isFinite(q) ? q : -1;
}

async function main(): Promise<void> {
  const kind = args.get('kind') ?? 'http';
  const conns = Number(args.get('conns') ?? 256);
  const seconds = Number(args.get('seconds') ?? 1);
  const reps = Number(args.get('reps') ?? 4);
  if (kind !== 'http' && kind !== 'net') throw new Error(`--kind must be http or net, got ${kind}`);
  for (const tool of ['wrk', 'ss']) {
    if (spawnSync(tool, ['--version']).error !== undefined) throw new Error(`accept-burst needs ${tool} (Debian: apt-get install -y ${tool === 'ss' ? 'iproute2' : tool})`);
  }
  const port = (await freePorts(1))[0] as number;
  const dir = mkdtempSync(join(tmpdir(), 'sampan-accept-burst-'));
  const script = join(dir, 'put.lua');
  writeFileSync(script, 'wrk.method = "PUT"\nwrk.body = "0123456789abcdef"\n'
    + 'done = function(s, latency, r) io.write(string.format("latency %.3f %.3f %d\\n", latency:percentile(99) / 1000, latency.max / 1000, s.requests)) end\n');
  const server = spawn(process.execPath, [fileURLToPath(import.meta.url), `--child=${kind}`, `--port=${port}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await nextLine(server);
    console.log(`${kind} server, ${conns} new connections per run of ${seconds} s (wrk, one thread); node ${process.version}; ${new Date().toISOString()}`);
    for (let rep = 0; rep < reps; rep++) {
      const wrk = spawn('wrk', ['-t1', `-c${conns}`, `-d${seconds}s`, '-s', script, `http://127.0.0.1:${port}/kv/k`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      wrk.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const ended = new Promise<void>((resolve) => wrk.on('close', () => resolve()));
      let maxQueue = 0;
      let running = true;
      void ended.then(() => { running = false; });
      while (running) {
        maxQueue = Math.max(maxQueue, acceptQueue(port));
        await new Promise((r) => setTimeout(r, 50));
      }
      await ended;
      const m = /latency ([\d.]+) ([\d.]+) (\d+)/.exec(out);
      server.stdin?.write('report\n');
      const times = JSON.parse(await nextLine(server)) as number[];
      const t0 = Math.min(...times);
      const early = times.filter((t) => t - t0 < 100).length;
      const last = times.length > 0 ? Math.max(...times) - t0 : 0;
      console.log(`run ${rep + 1}/${reps}: p99 ${m?.[1] ?? '?'} ms, max ${m?.[2] ?? '?'} ms, ${m?.[3] ?? '?'} requests; `
        + `accepted ${times.length}, ${early} in the first 100 ms, the last ${last.toFixed(0)} ms after the first; largest accept queue seen ${maxQueue}`);
    }
  } finally {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const childKind = args.get('child');
if (childKind !== undefined) child(childKind, Number(args.get('port')));
else await main();
