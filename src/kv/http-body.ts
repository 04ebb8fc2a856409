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
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > limit) throw new HttpError(413, 'PAYLOAD_TOO_BIG', `request body exceeds the limit of ${limit} bytes`);
      parts.push(b);
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'INVALID_REQUEST', 'the request body could not be read');
  }
  return Buffer.concat(parts, size);
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
