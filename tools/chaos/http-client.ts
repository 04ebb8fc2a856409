/**
 * The chaos runner's HTTP client: one request per fresh connection, bounded in time, and an
 * answer that says whether the request may have been delivered when no response came.
 */
import { request } from 'node:http';

/** An answer from a replica, or the failure to get one. */
export interface Answer {
  readonly status: number;
  readonly text: string;
  /** Set when no HTTP answer came; `sent` tells whether the request may have been delivered. */
  readonly error?: { readonly code: string; readonly sent: boolean };
}

/**
 * One HTTP request on a fresh connection (no pooling: a refused connection then proves the
 * request was never delivered), bounded by `timeoutMs`.
 */
export function send(hostPort: string, method: string, path: string, body: string | undefined, timeoutMs: number): Promise<Answer> {
  const [host, port] = hostPort.split(':') as [string, string];
  return new Promise((resolve) => {
    let connected = false;
    let done = false;
    const finish = (a: Answer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const payload = body === undefined ? undefined : Buffer.from(body);
    const req = request({
      host, port: Number(port), method, path, agent: false,
      headers: payload === undefined ? {} : { 'content-length': payload.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => finish({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, text: '', error: { code: e.code ?? e.message, sent: true } }));
    });
    const timer = setTimeout(() => {
      finish({ status: 0, text: '', error: { code: 'CLIENT_TIMEOUT', sent: connected } });
      req.destroy();
    }, timeoutMs);
    req.on('socket', (s) => { s.once('connect', () => { connected = true; }); });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, text: '', error: { code: e.code ?? e.message, sent: connected } }));
    req.end(payload);
  });
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
