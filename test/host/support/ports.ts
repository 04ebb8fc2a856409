/**
 * Free TCP ports on the loopback interface, for multi-host tests over real sockets.
 */
import net from 'node:net';

/**
 * Returns `n` distinct ports that were free a moment ago: each is found by listening on port
 * 0 and closing the listener (all held at once, so the kernel hands out distinct ones).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.listen(0, '127.0.0.1', () => res());
      });
      const addr = s.address();
      if (addr === null || typeof addr === 'string') throw new Error('no port');
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
  }
}
