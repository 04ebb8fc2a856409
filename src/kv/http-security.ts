/**
 * What guards the KV service's HTTP port: TLS (optionally requiring client certificates), a
 * bearer token for the `/admin/*` routes, and a root directory that snapshot exports must lie
 * under. The Raft port has its own TLS (`--tls-*`); these settings cover the HTTP port only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-errors.js';

/** TLS material for the HTTP port, as PEM. */
export interface HttpTlsMaterial {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** When given, clients must present a certificate signed by this CA (mutual TLS). */
  readonly clientCa?: string | Buffer;
}

/** The HTTP port's guards; every field is optional (an absent one guards nothing). */
export interface HttpSecurity {
  readonly tls?: HttpTlsMaterial;
  /** Required as `Authorization: Bearer <token>` on `/admin/*`. */
  readonly adminToken?: string;
  /** Exported snapshots may only be written under this directory. */
  readonly exportRoot?: string;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Checks an admin request's bearer token (in constant time).
 * @throws HttpError 401 UNAUTHENTICATED without a bearer token, 403 FORBIDDEN with a wrong one.
 */
export function checkAdminToken(req: IncomingMessage, token: string): void {
  const h = req.headers.authorization;
  const m = h === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (m === null) throw new HttpError(401, 'UNAUTHENTICATED', 'admin routes need an Authorization: Bearer token');
  if (!timingSafeEqual(digest(m[1] as string), digest(token))) throw new HttpError(403, 'FORBIDDEN', 'the admin token is not valid');
}

/**
 * Resolves an export directory and checks that it lies under `root` (symbolic links followed,
 * so a link inside the root cannot point outside it).
 * @throws HttpError 403 FORBIDDEN when it lies outside; 400 DIR_NOT_EXIST when it does not exist.
 */
export function checkExportPath(path: string, root: string): string {
  let real: string;
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new HttpError(500, 'INTERNAL', `the export root ${root} does not exist`);
  }
  try {
    real = realpathSync(isAbsolute(path) ? path : resolve(realRoot, path));
  } catch {
    throw new HttpError(400, 'DIR_NOT_EXIST', `directory ${path} does not exist`);
  }
  const rel = relative(realRoot, real);
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new HttpError(403, 'FORBIDDEN', `export path ${path} is outside the export root ${root}`);
  }
  return real;
}
