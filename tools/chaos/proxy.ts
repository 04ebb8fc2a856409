/**
 * A fault-injecting TCP proxy: it listens on one address and forwards every connection, both
 * ways, to a target (a replica's real raft port). Connections are told apart by their source
 * IP address (each replica dials from its own loopback address, `sampan kv --dial-from-host`),
 * so a rule "block source S" cuts exactly the traffic S sends to this target: existing
 * connections from S are destroyed and new ones are reset as soon as they are accepted.
 * Traffic the target sends back to S travels through S's own proxy and is not affected,
 * which is what makes one-way partitions possible. Unblocking lets new connections through
 * again (the transport reconnects with back-off).
 *
 * A block is a reset (a firewall's reject: the dialer learns at once) or a blackhole (a
 * firewall's drop, a dead link: nobody learns anything). A blackholed connection stays open
 * at both ends but every byte, either way, is discarded, and so is the close of either side
 * (a FIN would be dropped too); a new connection from a blackholed source is accepted (the
 * proxy's kernel completes the handshake, which a firewall would not) and swallowed without
 * reaching the target. Healing lets new connections through but leaves dark the connections
 * that went dark: their lost bytes cannot be replayed, so the model is a TCP connection whose
 * retransmission timer has backed off for good — the endpoints must notice and redial.
 */
import net from 'node:net';

/** Counters of one proxy. */
export interface ProxyStats {
  /** Connections forwarded to the target. */
  accepted: number;
  /** New connections reset because their source was blocked. */
  refused: number;
  /** Established connections destroyed by a new block. */
  cut: number;
  /** Established connections that went dark under a new blackhole. */
  darkened: number;
  /** New connections from a blackholed source, accepted and swallowed. */
  swallowed: number;
  /** Connections whose target could not be reached (it is down). */
  targetDown: number;
}

interface Pair {
  readonly source: string;
  readonly client: net.Socket;
  /** Null for a connection swallowed by a blackhole (it never reaches the target). */
  readonly upstream: net.Socket | null;
  /** Blackholed: bytes and closes are discarded both ways. */
  dark: boolean;
}

/** How a blocked source is treated. */
export type BlockMode = 'reset' | 'blackhole';

const discard = (): void => {};

/** Makes a socket read and discard everything, so that the peer's bytes vanish without backpressure. */
function swallow(s: net.Socket): void {
  s.on('data', discard);
  // A FIN is lost like any other packet: this side just goes away, the other hears nothing.
  s.once('end', () => s.destroy());
  s.resume();
}

/** The source IP of a socket, without the `::ffff:` prefix of IPv4-mapped addresses. */
function sourceOf(s: net.Socket): string {
  return (s.remoteAddress ?? '').replace(/^::ffff:/, '');
}

/**
 * Refuses a socket just accepted with a TCP reset, as a firewall's reject would look. Only
 * there: libuv does not allow a reset after a shutdown (which `pipe` issues when the other
 * side ends), and mixing them left a handle that made the process spin at exit.
 */
function refuse(s: net.Socket): void {
  if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
  else s.destroy();
}

/** One proxy in front of one target. Create with {@link FaultProxy.start}. */
export class FaultProxy {
  private readonly blocked = new Map<string, BlockMode>();
  private readonly pairs = new Set<Pair>();
  /** This proxy's counters. */
  readonly stats: ProxyStats = { accepted: 0, refused: 0, cut: 0, targetDown: 0, darkened: 0, swallowed: 0 };

  private constructor(private readonly server: net.Server, private target: { host: string; port: number }, readonly address: string) {}

  /**
   * Listens on `listen` (`host:port`, port 0 for any free port) and forwards to `target`.
   * @throws the listen error (e.g. EADDRINUSE).
   */
  static async start(listen: string, target: string): Promise<FaultProxy> {
    const [lh, lp] = split(listen);
    const [th, tp] = split(target);
    const server = net.createServer({ noDelay: true, allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: lh, port: lp }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = (server.address() as net.AddressInfo).port;
    const proxy = new FaultProxy(server, { host: th, port: tp }, `${lh}:${bound}`);
    server.on('connection', (s) => proxy.accept(s));
    server.on('error', () => {});
    return proxy;
  }

  /**
   * Blocks traffic from `source` (an IP address). With `mode` 'reset' (the default) its
   * connections are cut and new ones refused; with 'blackhole' they go dark and new ones are
   * swallowed (see the module comment). Returns the number of connections cut or darkened.
   */
  block(source: string, mode: BlockMode = 'reset'): number {
    this.blocked.set(source, mode);
    let n = 0;
    for (const p of [...this.pairs]) {
      if (p.source !== source || p.dark) continue;
      n++;
      if (mode === 'reset') {
        this.stats.cut++;
        this.drop(p, true);
      } else {
        this.stats.darkened++;
        this.darken(p);
      }
    }
    return n;
  }

  /** Forwards new connections to `target` (`host:port`) from now on (the target moved). */
  retarget(target: string): void {
    const [host, port] = split(target);
    this.target = { host, port };
  }

  /** Lets traffic from `source` through again. */
  unblock(source: string): void {
    this.blocked.delete(source);
  }

  /** Lifts every block. */
  heal(): void {
    this.blocked.clear();
  }

  /** Whether traffic from `source` is blocked (either way). */
  isBlocked(source: string): boolean {
    return this.blocked.has(source);
  }

  /** Connections dark now (blackholed, and swallowed), healed or not. */
  get dark(): number {
    let n = 0;
    for (const p of this.pairs) if (p.dark) n++;
    return n;
  }

  /** Connections open now: forwarded or dark. */
  get open(): number {
    return this.pairs.size;
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const p of [...this.pairs]) this.drop(p, true);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const source = sourceOf(client);
    const mode = this.blocked.get(source);
    if (mode === 'reset') {
      client.on('error', () => {});
      this.stats.refused++;
      refuse(client);
      return;
    }
    if (mode === 'blackhole') {
      this.stats.swallowed++;
      const pair: Pair = { source, client, upstream: null, dark: true };
      this.pairs.add(pair);
      client.on('error', () => this.drop(pair, true));
      client.on('close', () => this.drop(pair, true));
      swallow(client);
      return;
    }
    this.stats.accepted++;
    const upstream = net.connect({ host: this.target.host, port: this.target.port, noDelay: true, allowHalfOpen: true });
    const pair: Pair = { source, client, upstream, dark: false };
    this.pairs.add(pair);
    let connected = false;
    upstream.once('connect', () => { connected = true; });
    // An error on either side closes the other at once (a target that is down looks down to
    // the dialer); an orderly close is passed on as one, after what is still buffered. On a
    // dark connection neither is passed on: that side alone is closed.
    upstream.on('error', () => {
      if (!connected) this.stats.targetDown++;
      this.sideClosed(pair, upstream, true);
    });
    client.on('error', () => this.sideClosed(pair, client, true));
    client.on('close', () => this.sideClosed(pair, client, false));
    upstream.on('close', () => this.sideClosed(pair, upstream, false));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private sideClosed(p: Pair, side: net.Socket, hard: boolean): void {
    if (!p.dark) {
      this.drop(p, hard);
      return;
    }
    side.destroy();
    if (p.client.destroyed && (p.upstream === null || p.upstream.destroyed)) this.pairs.delete(p);
  }

  /** Stops forwarding on a connection: both sides stay open, everything they send is discarded. */
  private darken(p: Pair): void {
    p.dark = true;
    p.client.unpipe();
    swallow(p.client);
    if (p.upstream !== null) {
      p.upstream.unpipe();
      swallow(p.upstream);
    }
  }

  /** Forgets a connection and closes both sides: at once (`hard`), or once flushed. */
  private drop(p: Pair, hard: boolean): void {
    if (!this.pairs.delete(p)) return;
    for (const s of [p.client, p.upstream]) {
      if (s === null) continue;
      if (hard) s.destroy();
      else s.destroySoon();
    }
  }
}

function split(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new Error(`bad address ${address}: want host:port`);
  return [address.slice(0, i), port];
}
