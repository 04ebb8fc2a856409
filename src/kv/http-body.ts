/**
 * Reading a request body under a byte limit: a declared Content-Length over the limit is
 * refused before any byte is read; a streamed body is cut off once it passes the limit.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-errors.js';

/**
 * Reads the whole body of `req`.
 * @throws HttpError 413 PAYLOAD_TOO_BIG past `limit`; 400 INVALID_REQUEST when the client
 *   aborts.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    throw new HttpError(413, 'PAYLOAD_TOO_BIG', `request body of ${declared} bytes exceeds the limit of ${limit}`);
  }
  // Plain events rather than `for await`: the async iterator costs more than the body here.
  return await new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const done = (err: HttpError | null): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err === null) resolve(parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts, size));
      else {
        req.resume();
        reject(err);
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) done(new HttpError(413, 'PAYLOAD_TOO_BIG', `request body exceeds the limit of ${limit} bytes`));
      else parts.push(chunk);
    };
    const onEnd = (): void => done(null);
    const onError = (): void => done(new HttpError(400, 'INVALID_REQUEST', 'the request body could not be read'));
    const onClose = (): void => { if (!req.complete) onError(); };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Parses a JSON object body.
 * @throws HttpError 400 INVALID_REQUEST when it is not a JSON object.
 */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'INVALID_REQUEST', 'the body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'INVALID_REQUEST', 'the body must be a JSON object');
  return v as Record<string, unknown>;
}
