/**
 * A server for the HTTP framework comparison: the same two routes on `node:http` or on
 * fastify, with no Raft behind them, so only the framework's cost is measured.
 * Usage: node http-server-child.js <node|fastify> <port>; prints "ready" once listening.
 * fastify is not a dependency of sampan (it would pull packages that want a newer Node into
 * every install): `npm i --no-save fastify` before running this comparison.
 */
import { createServer } from 'node:http';

/** The part of fastify's API used here (typed locally: fastify is installed only for this bench). */
interface FastifyApp {
  addContentTypeParser(type: string, o: { parseAs: 'buffer' }, fn: (req: unknown, body: Buffer, done: (e: Error | null, b: Buffer) => void) => void): void;
  put(path: string, o: object, fn: (req: { params: unknown; body: unknown }) => Promise<unknown>): void;
  get(path: string, fn: (req: { params: unknown }, reply: { type(t: string): void }) => Promise<unknown>): void;
  listen(o: { port: number; host: string }): Promise<unknown>;
}

/** Loads fastify, or exits with what to install. */
async function loadFastify(): Promise<(o: object) => FastifyApp> {
  const name = 'fastify';
  try {
    return ((await import(name)) as { default: (o: object) => FastifyApp }).default;
  } catch {
    console.error('bench:http needs fastify, which sampan does not depend on: run `npm i --no-save fastify` first');
    process.exit(2);
  }
}

const [kind, portArg] = process.argv.slice(2);
const port = Number(portArg);
const value = Buffer.from('0123456789abcdef');
const store = new Map<string, Buffer>();

if (kind === 'node') {
  const server = createServer((req, res) => {
    const key = decodeURIComponent((req.url ?? '').slice(4));
    if (req.method === 'PUT') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        store.set(key, Buffer.concat(chunks));
        const body = '{"index":1}';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    const v = store.get(key) ?? value;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': v.length });
    res.end(v);
  });
  server.listen(port, '127.0.0.1', () => console.log('ready'));
} else {
  const Fastify = await loadFastify();
  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.put('/kv/:key', { schema: { params: { type: 'object', properties: { key: { type: 'string', maxLength: 1024 } }, required: ['key'] } } },
    async (req) => {
      store.set((req.params as { key: string }).key, req.body as Buffer);
      return { index: 1 };
    });
  app.get('/kv/:key', async (req, reply) => {
    reply.type('application/octet-stream');
    return store.get((req.params as { key: string }).key) ?? value;
  });
  app.listen({ port, host: '127.0.0.1' }).then(() => console.log('ready'), (e: unknown) => { console.error(e); process.exit(1); });
}
