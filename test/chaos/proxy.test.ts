/**
 * The chaos suite's fault-injecting proxy, with plain sockets: it forwards both ways, tells
 * connections apart by their source address (127.0.0.x on loopback), blocks one source
 * (cutting its connections and refusing new ones) without touching the others or the other
 * direction, and lets everything through again once healed. And it leaves no handle behind that
 * keeps a process from exiting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { FaultProxy } from '../../tools/chaos/proxy.js';

/** An echo server that counts the connections it accepted. */
async function echoServer(): Promise<{ address: string; accepted: () => number; close: () => Promise<void> }> {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    n++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    accepted: () => n,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A client connection to `address` from local address `from`, with what it received and whether it closed. */
interface Client {
  readonly socket: net.Socket;
  received: string;
  closed: boolean;
  /** Sends `text` and resolves once it came back, or rejects when the connection closes first. */
  echo(text: string): Promise<void>;
}

function connect(address: string, from: string): Client {
  const [host, port] = address.split(':') as [string, string];
  const socket = net.connect({ host, port: Number(port), localAddress: from });
  const c: Client = {
    socket, received: '', closed: false,
    echo: (text) => new Promise((resolve, reject) => {
      const start = c.received.length;
      const check = (): void => {
        if (c.received.slice(start).includes(text)) {
          socket.off('data', check);
          socket.off('close', onClose);
          resolve();
        }
      };
      const onClose = (): void => reject(new Error(`connection from ${from} closed`));
      socket.on('data', check);
      socket.once('close', onClose);
      socket.write(text);
    }),
  };
  socket.on('data', (d: Buffer) => { c.received += d.toString(); });
  socket.on('error', () => {});
  socket.on('close', () => { c.closed = true; });
  return c;
}

async function eventually(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('the proxy forwards both ways and reports the source of each connection', async () => {
  const echo = await echoServer();
  const proxy = await FaultProxy.start('127.0.0.1:0', echo.address);
  try {
    const a = connect(proxy.address, '127.0.0.2');
    await a.echo('hello');
    await a.echo('x'.repeat(200_000));
    assert.equal(proxy.stats.accepted, 1);
    assert.equal(proxy.open, 1);
    a.socket.end();
    await eventually('the pair closes', () => proxy.open === 0 && a.closed);
  } finally {
    await proxy.close();
    await echo.close();
  }
});

test('blocking a source cuts its connections and refuses new ones; other sources are untouched; heal lets it in again', async () => {
  const echo = await echoServer();
  const proxy = await FaultProxy.start('127.0.0.1:0', echo.address);
  try {
    const a = connect(proxy.address, '127.0.0.2');
    const b = connect(proxy.address, '127.0.0.3');
    await a.echo('a1');
    await b.echo('b1');
    assert.equal(proxy.block('127.0.0.2'), 1);
    assert.ok(proxy.isBlocked('127.0.0.2'));
    await eventually('the blocked connection closes', () => a.closed);
    await b.echo('b2');
    const before = echo.accepted();
    const a2 = connect(proxy.address, '127.0.0.2');
    await assert.rejects(a2.echo('a2'), /closed/);
    assert.equal(echo.accepted(), before, 'a refused connection never reaches the target');
    assert.equal(proxy.stats.refused, 1);
    assert.equal(proxy.stats.cut, 1);
    proxy.heal();
    const a3 = connect(proxy.address, '127.0.0.2');
    await a3.echo('a3');
    await b.echo('b3');
    a3.socket.destroy();
    b.socket.destroy();
  } finally {
    await proxy.close();
    await echo.close();
  }
});

test('a blackhole keeps connections open but drops bytes and closes both ways, swallows new ones, and leaves dark ones dark after the heal', async () => {
  let open = 0;
  const echo = await echoServer();
  const proxy = await FaultProxy.start('127.0.0.1:0', echo.address);
  const silent = async (c: Client, text: string): Promise<void> => {
    const before = c.received.length;
    c.socket.write(text);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(c.received.length, before, `nothing comes back through the blackhole (${text})`);
    assert.equal(c.closed, false, 'the connection stays open');
  };
  try {
    const a = connect(proxy.address, '127.0.0.2');
    const b = connect(proxy.address, '127.0.0.3');
    await a.echo('a1');
    await b.echo('b1');
    open = proxy.open;
    assert.equal(proxy.block('127.0.0.2', 'blackhole'), 1);
    assert.equal(proxy.stats.darkened, 1);
    await silent(a, 'lost');
    await b.echo('b2');
    const accepted = echo.accepted();
    const a2 = connect(proxy.address, '127.0.0.2');
    await new Promise<void>((r) => a2.socket.once('connect', () => r()));
    await silent(a2, 'swallowed');
    assert.equal(echo.accepted(), accepted, 'a swallowed connection never reaches the target');
    assert.equal(proxy.stats.swallowed, 1);
    assert.equal(proxy.stats.refused, 0);
    assert.equal(proxy.dark, 2);
    // The dialer's close vanishes too: the target's side of the dark connection stays open.
    a.socket.destroy();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(proxy.dark, 2, 'the dark pair stays: its target side was not told and is still open');
    assert.equal(proxy.open, open + 1);
    proxy.heal();
    const a3 = connect(proxy.address, '127.0.0.2');
    await a3.echo('a3 after the heal');
    await silent(a2, 'still dark');
    for (const c of [a2, a3, b]) c.socket.destroy();
  } finally {
    await proxy.close();
    await echo.close();
  }
});

test('a one-way block: the proxy of i refuses j, while i still reaches j through j\'s proxy', async () => {
  const serverI = await echoServer();
  const serverJ = await echoServer();
  const proxyI = await FaultProxy.start('127.0.0.1:0', serverI.address);
  const proxyJ = await FaultProxy.start('127.0.0.1:0', serverJ.address);
  const hostI = '127.0.0.11';
  const hostJ = '127.0.0.12';
  try {
    proxyI.block(hostJ);
    const jToI = connect(proxyI.address, hostJ);
    await assert.rejects(jToI.echo('j->i'), /closed/);
    const iToJ = connect(proxyJ.address, hostI);
    await iToJ.echo('i->j');
    const kToI = connect(proxyI.address, '127.0.0.13');
    await kToI.echo('k->i');
    proxyI.unblock(hostJ);
    const again = connect(proxyI.address, hostJ);
    await again.echo('j->i again');
    for (const c of [iToJ, kToI, again]) c.socket.destroy();
  } finally {
    await proxyI.close();
    await proxyJ.close();
    await serverI.close();
    await serverJ.close();
  }
});

test('a connection to a target that is down is reset at once', async () => {
  // Port 1 is privileged: nothing listens there in a test.
  const proxy = await FaultProxy.start('127.0.0.1:0', '127.0.0.1:1');
  try {
    const a = connect(proxy.address, '127.0.0.2');
    await assert.rejects(a.echo('nobody'), /closed/);
    await eventually('counted', () => proxy.stats.targetDown === 1);
  } finally {
    await proxy.close();
  }
});

/**
 * A regression test: the first proxy reset sockets it had ended or that were still connecting
 * (`resetAndDestroy` after `end`, which `pipe` calls); Node 20 then fails the reset with EINVAL
 * and leaves a handle that makes the process spin at exit forever (the chaos runner hung at
 * 100 % CPU after its verdict). Churn through every path, then the process must exit.
 */
test('after cuts, refusals, ends and a target that dies, the process still exits', { timeout: 30_000 }, async () => {
  const proxyUrl = new URL('../../tools/chaos/proxy.js', import.meta.url).href;
  const script = `
    import net from 'node:net';
    const { FaultProxy } = await import(${JSON.stringify(proxyUrl)});
    let sockets = new Set();
    const target = net.createServer({ allowHalfOpen: true }, (c) => {
      sockets.add(c); c.on('error', () => {});
      c.on('data', (d) => { const r = Math.random(); if (r < 0.1) c.end(); else if (r < 0.2) c.destroy(); else c.write(d); });
    });
    await new Promise((r) => target.listen(0, '127.0.0.1', r));
    const p = await FaultProxy.start('127.0.0.1:0', '127.0.0.1:' + target.address().port);
    const port = Number(p.address.split(':')[1]);
    // The exact path of the bug: a source blocked while the connection to the target is still
    // being made and the client has already ended (the proxy's pipe ended the target side).
    const accept = p.accept.bind(p);
    p.accept = (s) => { accept(s); if (s.remoteAddress === '127.0.0.9') { s.emit('end'); p.block('127.0.0.9'); p.heal(); } };
    for (let i = 0; i < 5; i++) net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.9' }).on('error', () => {});
    const clients = new Set();
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 4; i++) {
        const c = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.' + (2 + i % 2), allowHalfOpen: i % 2 === 0 });
        c.on('error', () => {}); clients.add(c);
        c.on('connect', () => { c.write(Buffer.alloc(1000 * round)); if (i === 3) c.end(); });
      }
      if (round % 7 === 3) p.block('127.0.0.2');
      if (round % 7 === 4) p.block('127.0.0.3', 'blackhole');
      if (round % 7 === 5) p.heal();
      if (round === 40) { for (const c of sockets) c.destroy(); target.close(); }
      for (const c of clients) if (Math.random() < 0.1) c.end();
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of clients) c.destroy();
    await p.close();
    console.log('closed');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('hung'); }, 15_000);
    child.once('exit', (c, sig) => { clearTimeout(timer); resolve(c ?? sig ?? -1); });
  });
  assert.equal(code, 0, out);
  assert.match(out, /closed/);
});
