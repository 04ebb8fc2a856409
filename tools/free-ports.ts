/** Free TCP ports on loopback, for tests and benchmarks that start real servers. */
import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * Candidates are drawn below Linux's default ephemeral range (32768–60999), which the kernel
 * uses for `listen(0)` and for the local end of every outgoing connection: a port handed out
 * there and released can be handed out again at once to another test file running beside this
 * one, whose server then answers in place of ours (seen as a replica "served by" the wrong id).
 */
const LOW = 10000;
const HIGH = 32767;

function bind(port: number): Promise<Server | null> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(null));
    s.listen(port, '127.0.0.1', () => res(s));
  });
}

/**
 * `n` distinct ports on 127.0.0.1 that were free a moment ago: random ports from 10000–32767,
 * each checked by binding it (all are held at once, then released).
 * @throws Error if `n` free ports are not found in 50·n tries.
 */
export async function freePorts(n: number): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let tries = 0; ports.length < n && tries < 50 * n; tries++) {
      const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
      if (ports.includes(port)) continue;
      const s = await bind(port);
      if (s === null) continue;
      held.push(s);
      ports.push((s.address() as AddressInfo).port);
    }
  } finally {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
  if (ports.length < n) throw new Error(`freePorts: found ${ports.length} of ${n} free ports`);
  return ports;
}
