/** Free TCP ports on loopback, for tests and benchmarks that start real servers. */
import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * `n` distinct ports on 127.0.0.1 that were free a moment ago: all are bound at once on port 0
 * (so the kernel hands out distinct ones), then released.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<Server>((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => res(s));
  })));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
