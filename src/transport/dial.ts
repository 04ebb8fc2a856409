/** Opening sockets to peers, plaintext or mutual TLS, and the TLS material both sides use. */
import net from 'node:net';
import tls from 'node:tls';
import { InvalidOptionError } from '../errors.js';
import { parseAddress, type TlsFiles } from './tcp-options.js';
import type { FileSystem, Timers } from '../runtime/index.js';

/** Loaded PEM material, read once at construction so a missing file fails early. */
export interface TlsMaterial {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly verifyHostname: boolean;
}

/** Reads the CA, certificate and key files through `fs`. @throws InvalidOptionError if a file cannot be read. */
export function loadTls(files: TlsFiles, fs: FileSystem): TlsMaterial {
  const read = (what: string, p: string): Buffer => {
    try {
      return fs.readFileSync(p);
    } catch (err) {
      throw new InvalidOptionError(`cannot read TLS ${what} file ${p}`, { cause: err });
    }
  };
  return {
    ca: read('CA', files.caFile), cert: read('certificate', files.certFile), key: read('key', files.keyFile),
    verifyHostname: files.verifyHostname ?? true,
  };
}

/** Server options for mutual TLS: a client certificate signed by our CA is required. */
export function tlsServerOptions(t: TlsMaterial): tls.TlsOptions {
  return { ca: t.ca, cert: t.cert, key: t.key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
}

/**
 * Connects to `address` and resolves once the socket is usable (after the TLS handshake,
 * with the peer's certificate verified, when `tlsMaterial` is given). With `localAddress` the
 * socket is bound to that local IP address first (`TcpTransportOptions.dialFromHost`).
 * Rejects on error or after `timeoutMs` of `timers`; the socket is destroyed on rejection.
 */
export function dial(address: string, tlsMaterial: TlsMaterial | undefined, timeoutMs: number, localAddress: string | undefined,
  timers: Timers): Promise<net.Socket> {
  const { host, port } = parseAddress(address);
  const local = localAddress === undefined ? {} : { localAddress };
  return new Promise((resolve, reject) => {
    const socket = tlsMaterial === undefined
      ? net.connect({ host, port, noDelay: true, ...local })
      : tls.connect({
        host, port, ...local, ca: tlsMaterial.ca, cert: tlsMaterial.cert, key: tlsMaterial.key, rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        ...(tlsMaterial.verifyHostname ? {} : { checkServerIdentity: () => undefined }),
        ...(net.isIP(host) === 0 ? { servername: host } : {}),
      });
    const timer = timers.setTimeout(() => fail(new Error(`connect to ${address} timed out after ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      timers.clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once(tlsMaterial === undefined ? 'connect' : 'secureConnect', () => {
      timers.clearTimeout(timer);
      socket.off('error', fail);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 5000);
      resolve(socket);
    });
  });
}
