/**
 * A server for the HTTP framework comparison: the same two routes on `node:http` or on
 * fastify, with no Raft behind them, so only the framework's cost is measured.
 * Usage: node http-server-child.js <node|fastify> <port>; prints "ready" once listening.
 */
import { createServer } from 'node:http';
import Fastify from 'fastify';

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
