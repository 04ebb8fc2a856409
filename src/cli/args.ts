/**
 * Parsers of flag values, for commander's `argParser`: each throws commander's
 * InvalidArgumentError with a short reason, which commander turns into a one-line error
 * naming the flag.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Parses an integer of at least `min`. */
export function intAtLeast(min: number): (v: string) => number {
  return (v) => {
    if (!/^\d{1,15}$/.test(v) || Number(v) < min) throw new InvalidArgumentError(`must be an integer >= ${min}`);
    return Number(v);
  };
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3 };

/**
 * A byte count: an integer with an optional unit, decimal (`k`, `m`, `g`) or binary (`ki`,
 * `mi`, `gi`), with or without a trailing `b` (`2mb` is 2 000 000, `2MiB` 2 097 152).
 * @throws InvalidArgumentError otherwise.
 */
export function byteCount(v: string): number {
  const m = /^(\d{1,15})\s*(k|m|g|ki|mi|gi)?b?$/i.exec(v.trim());
  const n = m === null ? NaN : Number(m[1]) * BYTE_UNITS[(m[2] ?? '').toLowerCase()]!;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a byte count: an integer, optionally with k, m, g (10^3…) or ki, mi, gi (2^10…), e.g. 20mb');
  return n;
}

/** A `host:port` address, split. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Splits `host:port` (IPv6 in brackets), port 0..65535. @throws InvalidArgumentError */
export function splitAddress(v: string, allowZeroPort = false): HostPort {
  const m = ADDRESS.exec(v);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535 || (port === 0 && !allowZeroPort)) throw new InvalidArgumentError('must be HOST:PORT');
  const host = (m[1] as string).replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/** Parses `host:port` and returns it as given. @throws InvalidArgumentError */
export function address(v: string): string {
  splitAddress(v);
  return v;
}

/** An IPv4 or IPv6 address (no port), returned as given. @throws InvalidArgumentError */
export function ipAddress(v: string): string {
  if (isIP(v) === 0) throw new InvalidArgumentError('must be an IP address of this machine, e.g. 127.0.0.11');
  return v;
}

/** Parses `1=HOST:PORT,2=HOST:PORT,…` into a map. @throws InvalidArgumentError */
export function members(v: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const part of v.split(',')) {
    const m = /^(\d{1,15})=(.+)$/.exec(part.trim());
    if (m === null) throw new InvalidArgumentError(`'${part}' is not ID=HOST:PORT`);
    const id = Number(m[1]);
    if (id < 1) throw new InvalidArgumentError(`replica id in '${part}' must be >= 1`);
    if (out.has(id)) throw new InvalidArgumentError(`replica ${id} is listed twice`);
    try {
      splitAddress(m[2] as string);
    } catch {
      throw new InvalidArgumentError(`'${m[2] as string}' of replica ${id} is not HOST:PORT`);
    }
    out.set(id, m[2] as string);
  }
  return out;
}

/** Parses `1=2,2=1,3=0` (replica id = leader priority, an integer >= 0) into a map. @throws InvalidArgumentError */
export function priorities(v: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const part of v.split(',')) {
    const m = /^(\d{1,15})=(\d{1,9})$/.exec(part.trim());
    if (m === null) throw new InvalidArgumentError(`'${part}' is not ID=PRIORITY (an integer >= 0)`);
    const id = Number(m[1]);
    if (id < 1) throw new InvalidArgumentError(`replica id in '${part}' must be >= 1`);
    if (out.has(id)) throw new InvalidArgumentError(`replica ${id} is listed twice`);
    out.set(id, Number(m[2]));
  }
  return out;
}

/** Parses one of `choices`. @throws InvalidArgumentError */
export function oneOf<T extends string>(choices: readonly T[]): (v: string) => T {
  return (v) => {
    if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${choices.join(', ')}`);
    return v as T;
  };
}

/** A cluster token: 1–256 printable ASCII characters. */
export function clusterToken(v: string): string {
  if (!/^[\x21-\x7e]{1,256}$/.test(v)) throw new InvalidArgumentError('a cluster token is 1 to 256 printable characters, no spaces');
  return v;
}
